// The stick-to-bottom decisions, with the scroller's geometry faked (jsdom has no layout).
// Real scrolling in Chromium is checked by benchmarks/render.py.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type StickToBottom, stickToBottom } from "../../js/view/scroll.js";

class Geometry {
  scrollTop = 0;
  constructor(
    public scrollHeight: number,
    public clientHeight: number,
  ) {}
}

let controller: AbortController;
let scroller: HTMLElement;
let geometry: Geometry;
let changes: boolean[];
let stick: StickToBottom;

beforeEach(() => {
  controller = new AbortController();
  scroller = document.createElement("div");
  const content = document.createElement("div");
  scroller.append(content);
  document.body.append(scroller);
  geometry = new Geometry(1000, 400);
  for (const key of ["scrollHeight", "clientHeight"] as const) {
    Object.defineProperty(scroller, key, { get: () => geometry[key] });
  }
  Object.defineProperty(scroller, "scrollTop", {
    get: () => geometry.scrollTop,
    set: (v: number) => {
      geometry.scrollTop = Math.max(0, Math.min(v, geometry.scrollHeight - geometry.clientHeight));
    },
  });
  changes = [];
  stick = stickToBottom(scroller, content, (s) => changes.push(s), controller.signal);
  stick.jumpToBottom();
});

afterEach(() => {
  controller.abort();
  scroller.remove();
});

/** The content grew by `px` and the view rendered. */
function grow(px: number): void {
  geometry.scrollHeight += px;
  stick.contentChanged();
}

function scrollTo(top: number): void {
  scroller.scrollTop = top;
  scroller.dispatchEvent(new Event("scroll"));
}

describe("stick to bottom", () => {
  it("follows the content while it grows", () => {
    expect(geometry.scrollTop).toBe(600);
    grow(300);
    expect(geometry.scrollTop).toBe(900);
    expect(stick.stuck).toBe(true);
  });

  it("an upward wheel escapes and the position then stays put", () => {
    scroller.dispatchEvent(new WheelEvent("wheel", { deltaY: -100 }));
    scrollTo(300);
    expect(stick.stuck).toBe(false);
    expect(changes).toContain(false); // "Jump to latest" appears
    grow(500);
    expect(geometry.scrollTop).toBe(300);
  });

  it("scrolling back near the bottom sticks again", () => {
    scroller.dispatchEvent(new WheelEvent("wheel", { deltaY: -100 }));
    scrollTo(200);
    scroller.dispatchEvent(new WheelEvent("wheel", { deltaY: 100 }));
    scrollTo(560); // 40 px from the bottom: within the threshold
    expect(stick.stuck).toBe(true);
    grow(100);
    expect(geometry.scrollTop).toBe(700);
  });

  it("keys that scroll up escape", () => {
    scroller.dispatchEvent(new KeyboardEvent("keydown", { key: "PageUp" }));
    scrollTo(200);
    expect(stick.stuck).toBe(false);
  });

  it("a scroll caused by content changing size (the browser clamping) goes back down", () => {
    // Content briefly shorter: the browser clamps scrollTop; then it is tall again.
    geometry.scrollHeight = 500;
    scroller.scrollTop = geometry.scrollTop; // clamp
    geometry.scrollHeight = 1000;
    stick.contentChanged();
    scroller.dispatchEvent(new Event("scroll"));
    expect(stick.stuck).toBe(true);
    expect(geometry.scrollTop).toBe(600);
  });

  it("any other scroll nobody made with wheel or keys (find in page) is respected", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      grow(100); // the content changed size…
      vi.advanceTimersByTime(1000); // …a while ago
      scrollTo(100);
      expect(stick.stuck).toBe(false);
      expect(geometry.scrollTop).toBe(100);
    } finally {
      vi.useRealTimers();
    }
  });

  it("right after a change of size the same scroll is taken for the browser's", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      grow(100);
      vi.advanceTimersByTime(50);
      scrollTo(100);
      expect(stick.stuck).toBe(true);
      expect(geometry.scrollTop).toBe(700);
    } finally {
      vi.useRealTimers();
    }
  });

  it("jump to latest sticks and scrolls down", () => {
    scroller.dispatchEvent(new WheelEvent("wheel", { deltaY: -100 }));
    scrollTo(0);
    grow(1000);
    stick.jumpToBottom();
    expect(stick.stuck).toBe(true);
    expect(geometry.scrollTop).toBe(1600);
  });
});
