// Paced rendering: a reply that arrives whole is drawn over several tasks, each within the
// budget, and ends exactly as the one-shot render.

import { afterEach, describe, expect, it, vi } from "vitest";
import { renderMarkdown } from "../../../js/markdown/index.js";
import {
  BUDGET_MS,
  drainPaced,
  FRAME_ELEMENTS,
  PacedRenderer,
  STEP_CHARS,
} from "../../../js/markdown/paced.js";
import { MarkdownStream } from "../../../js/markdown/renderer.js";

afterEach(() => {
  drainPaced();
  vi.restoreAllMocks();
});

const doc = Array.from({ length: 60 }, (_, i) => `Paragraph ${i} with $x_${i}^2$ and **bold**.\n`)
  .join("\n")
  .repeat(4);

describe("paced renderer", () => {
  it("does a budget's worth of steps per task, then finishes later as the one-shot render", async () => {
    let clock = 0;
    vi.spyOn(performance, "now").mockImplementation(() => clock);
    const el = document.createElement("div");
    const inner = new MarkdownStream(el);
    const fed: number[] = [];
    const spy = {
      update: (text: string, final?: boolean) => {
        fed.push(text.length);
        clock += 3; // each step costs 3 ms
        inner.update(text, final);
      },
      destroy: () => inner.destroy(),
    };
    const renderer = new PacedRenderer(spy);
    renderer.update(doc, true);
    // Steps until 8 ms are spent: three of 3 ms.
    expect(fed.length).toBe(Math.ceil(BUDGET_MS / 3));
    expect(fed.every((n, i) => i === 0 || n - fed[i - 1]! <= STEP_CHARS + 200)).toBe(true);
    expect(fed[fed.length - 1]!).toBeLessThan(doc.length);
    // Not a timing test: a busy machine may take long to render the whole document.
    await vi.waitFor(() => expect(fed[fed.length - 1]).toBe(doc.length), { timeout: 30_000 });
    const expected = document.createElement("div");
    expected.innerHTML = renderMarkdown(doc);
    expect(el.innerHTML).toBe(expected.innerHTML);
    renderer.destroy();
  }, 60_000);

  it("puts about a frame's worth of elements on screen per animation frame", async () => {
    // The browser styles and lays out what a task inserted in the next frame: a math-heavy
    // reply that arrives whole must not land in one.
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => frames.push(cb));
    vi.stubGlobal("cancelAnimationFrame", () => {});
    const text = Array.from(
      { length: 80 },
      (_, i) => `Term ${i}: $\\frac{a_${i}}{b^2 + c_${i}}$.\n`,
    ).join("\n");
    const expected = document.createElement("div");
    expected.innerHTML = renderMarkdown(text);
    expect(expected.getElementsByTagName("*").length).toBeGreaterThan(4 * FRAME_ELEMENTS);
    const el = document.createElement("div");
    const renderer = new PacedRenderer(new MarkdownStream(el));
    renderer.update(text, true);
    const added: number[] = [];
    let shown = 0;
    for (;;) {
      // The rest waits for a frame, once later tasks have filled this one.
      await vi.waitFor(() =>
        expect(frames.length > 0 || el.innerHTML === expected.innerHTML).toBe(true),
      );
      const now = el.getElementsByTagName("*").length;
      added.push(now - shown);
      shown = now;
      const frame = frames.shift();
      if (frame === undefined) break;
      frame(performance.now());
    }
    expect(el.innerHTML).toBe(expected.innerHTML);
    expect(added.length).toBeGreaterThan(4);
    // A step is sized from the density of the one before: it may overshoot a little.
    expect(Math.max(...added)).toBeLessThan(1.5 * FRAME_ELEMENTS);
    renderer.destroy();
  });

  it("a small text renders at once", () => {
    const el = document.createElement("div");
    const renderer = new PacedRenderer(new MarkdownStream(el));
    renderer.update("Just **this**.", true);
    expect(el.textContent?.trim()).toBe("Just this.");
    renderer.destroy();
  });
});
