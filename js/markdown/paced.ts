// Rendering spread over frames. The streaming renderer costs what its new text costs: fine for
// a few deltas a frame, but a reply that arrives whole (2,000 tokens at once), or a chat that
// opens with several long replies on screen, would be parsed, typeset and inserted in one
// task of 60–200 ms, and the page would freeze for it. A paced renderer feeds its renderer
// the text a few complete lines at a time, as if it streamed fast, and every paced renderer
// on the page shares two budgets. Time: once BUDGET_MS of our work is spent in one task, the
// rest waits for a later task (a message-channel tick, which runs before the next frame is
// painted). Elements: Chromium styles and lays out what we inserted in the next frame's task,
// after our work, at ~40 µs an element for a math-heavy reply (demo:math, ~800 elements:
// ~35 ms of style, layout and paint in one frame, measured with `benchmarks long --explain`),
// so once FRAME_ELEMENTS are on screen the rest waits for the next animation frame. Each
// step is an append, which the streaming renderer does in time proportional to the step (it
// re-renders only its unsettled tail).

import type { StreamingRenderer } from "./renderer.js";

/** Work of all paced renderers in one task, before the rest is deferred. */
export const BUDGET_MS = 8;
/** Text fed in one step at most (then cut at the next line end): ~1 ms of parsing and
 * rendering. */
export const STEP_CHARS = 1500;
/** …and at least, so that every frame makes progress however dense the text. */
export const MIN_STEP_CHARS = 40;
/** New elements all paced renderers put on screen before the next frame: ~10 ms of the
 * browser's work. */
export const FRAME_ELEMENTS = 250;
/** Elements per character assumed before a renderer has drawn any: math as KaTeX draws it
 * (2–3), so a first step does not overshoot the frame. */
const DENSE = 3;
/** A budget older than this belongs to an earlier task whose reset has not run yet (one
 * task this long is a long task already): start a new one. */
const STALE_MS = 50;

type Job = () => boolean; // runs one step; true when more remains

/** One budget and one queue for every paced renderer of the page. */
class Pacer {
  private sliceStart = -1;
  private readonly queue = new Set<Job>();
  private posted = false;
  private channel: MessageChannel | null = null;
  /** Elements put on screen since the last animation frame. */
  private drawn = 0;
  private frame: (() => void) | null = null; // cancels the frame requested

  /** Whether the current task may still do work (starts its clock on first use). */
  hasBudget(): boolean {
    const now = performance.now();
    if (this.sliceStart < 0 || now - this.sliceStart > STALE_MS) {
      this.sliceStart = now;
      // The budget is the current callback's: views draw in one animation-frame callback,
      // so every renderer updated there shares it; the next callback starts anew.
      queueMicrotask(() => {
        this.sliceStart = -1;
      });
    }
    return now - this.sliceStart < BUDGET_MS;
  }

  /** Elements that may still go on screen before the next frame. */
  room(): number {
    return FRAME_ELEMENTS - this.drawn;
  }

  /** `elements` went on screen: they count against this frame (the next one starts anew). */
  spend(elements: number): void {
    if (elements <= 0) return;
    this.drawn += elements;
    this.nextFrame();
  }

  /** Run everything queued, now (tests: rendering then happens where the test looks). */
  drain(): void {
    for (let guard = 0; this.queue.size > 0 && guard < 100_000; guard++) {
      for (const job of [...this.queue]) if (!job()) this.queue.delete(job);
    }
    this.drawn = 0;
    this.frame?.();
    this.frame = null;
  }

  /** Run `job` (steps of it) now if the budgets allow, the rest later. */
  run(job: Job): void {
    this.queue.delete(job);
    while (this.hasBudget() && this.room() > 0) if (!job()) return;
    this.queue.add(job);
    this.later();
  }

  cancel(job: Job): void {
    this.queue.delete(job);
  }

  /** Come back in the next frame if this one is full, else in the next task. */
  private later(): void {
    if (this.room() > 0) this.post();
    else this.nextFrame();
  }

  private nextFrame(): void {
    if (this.frame !== null) return;
    const start = (): void => {
      this.frame = null;
      this.drawn = 0;
      if (this.queue.size > 0) this.tick();
    };
    if (typeof requestAnimationFrame === "function") {
      const id = requestAnimationFrame(start);
      this.frame = () => cancelAnimationFrame(id);
    } else {
      const id = setTimeout(start, 16);
      this.frame = () => clearTimeout(id);
    }
  }

  private post(): void {
    if (this.posted) return;
    this.posted = true;
    if (this.channel === null && typeof MessageChannel !== "undefined") {
      this.channel = new MessageChannel();
      this.channel.port1.onmessage = () => this.tick();
      // Node (tests) would keep the process alive for an open port.
      (this.channel.port1 as { unref?: () => void }).unref?.();
    }
    if (this.channel !== null) this.channel.port2.postMessage(0);
    else setTimeout(() => this.tick(), 0);
  }

  private tick(): void {
    this.posted = false;
    this.sliceStart = -1;
    // Oldest first: the message that asked first (the list draws the one nearest the end
    // first: usually the one on screen) finishes first.
    for (const job of [...this.queue]) {
      if (!this.hasBudget() || this.room() <= 0) break;
      this.queue.delete(job);
      this.run(job);
    }
    if (this.queue.size > 0) this.later();
  }
}

const pacer = new Pacer();

/** Finish every paced render at once (for tests driving frames by hand). */
export function drainPaced(): void {
  pacer.drain();
}

export class PacedRenderer implements StreamingRenderer {
  private target = "";
  private final = false;
  /** What the inner renderer has been given. */
  private fed = "";
  private fedFinal = false;
  /** Elements per character of the text fed lately (see `step`). */
  private density = DENSE;
  private readonly job: Job = () => this.step();

  constructor(private readonly inner: StreamingRenderer) {}

  update(text: string, final = false): void {
    this.target = text;
    this.final = final;
    if (!text.startsWith(this.fed)) this.fed = ""; // not an append: the renderer starts over
    if (text === this.fed && final === this.fedFinal) return;
    pacer.run(this.job);
  }

  destroy(): void {
    pacer.cancel(this.job);
    this.inner.destroy();
  }

  /** Feed the next step, as much text as fits this frame's room; true when more waits. */
  private step(): boolean {
    const { target } = this;
    const from = this.fed.length;
    const size = Math.floor(pacer.room() / this.density);
    const chars = Math.min(STEP_CHARS, Math.max(MIN_STEP_CHARS, size));
    let cut = target.length;
    if (cut - from > chars) {
      const nl = target.indexOf("\n", from + chars);
      if (nl >= 0 && nl + 1 < cut) cut = nl + 1;
    }
    const done = cut === target.length;
    this.fed = target.slice(0, cut);
    this.fedFinal = done && this.final;
    const before = this.inner.inserted ?? 0;
    this.inner.update(this.fed, this.fedFinal);
    const added = (this.inner.inserted ?? 0) - before;
    pacer.spend(added);
    // Text after a light stretch (a heading, prose) may be dense again (math): the estimate
    // falls by half a step at most.
    if (cut > from) this.density = Math.max(added / (cut - from), this.density / 2, 1 / STEP_CHARS);
    return !done;
  }
}
