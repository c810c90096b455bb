// Rendering spread over frames. The streaming renderer costs what its new text costs: fine for
// a few deltas a frame, but a reply that arrives whole (2,000 tokens at once), or a chat that
// opens with several long replies on screen, would be parsed, typeset and inserted in one
// task of 60–200 ms, and the page would freeze for it. A paced renderer feeds its renderer
// the text a few complete lines at a time, as if it streamed fast, and every paced renderer
// on the page shares one budget per task: once BUDGET_MS is spent, the rest waits for a later
// task (a message-channel tick, which runs before the next frame is painted, so a frame
// shows what was drawn so far). Each step is an append, which the streaming renderer does in
// time proportional to the step (it re-renders only its unsettled tail).

import type { StreamingRenderer } from "./renderer.js";

/** Work of all paced renderers in one task, before the rest is deferred. */
export const BUDGET_MS = 8;
/** Text fed in one step (then cut at the next line end): ~1 ms of parsing and rendering. */
export const STEP_CHARS = 1500;
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

  /** Run everything queued, now (tests: rendering then happens where the test looks). */
  drain(): void {
    for (let guard = 0; this.queue.size > 0 && guard < 100_000; guard++) {
      for (const job of [...this.queue]) if (!job()) this.queue.delete(job);
    }
  }

  /** Run `job` (steps of it) now if the budget allows, the rest later. */
  run(job: Job): void {
    this.queue.delete(job);
    while (this.hasBudget()) if (!job()) return;
    this.queue.add(job);
    this.post();
  }

  cancel(job: Job): void {
    this.queue.delete(job);
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
    // Oldest first: the message that asked first (usually the one on screen) finishes first.
    for (const job of [...this.queue]) {
      if (!this.hasBudget()) break;
      this.queue.delete(job);
      this.run(job);
    }
    if (this.queue.size > 0) this.post();
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

  /** Feed the next step; true when more text waits. */
  private step(): boolean {
    const { target } = this;
    let cut = target.length;
    if (cut - this.fed.length > STEP_CHARS) {
      const nl = target.indexOf("\n", this.fed.length + STEP_CHARS);
      if (nl >= 0 && nl + 1 < cut) cut = nl + 1;
    }
    const done = cut === target.length;
    this.fed = target.slice(0, cut);
    this.fedFinal = done && this.final;
    this.inner.update(this.fed, this.fedFinal);
    return !done;
  }
}
