// A long chat keeps only what is on screen (plus a margin) in the DOM: the node count at
// 1,000 turns is the node count at 20 turns. jsdom has no layout, so each message is given
// a height here (what the browser would measure); the list's viewport is the virtualizer's
// assumed 800 px.

import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Message } from "../../js/protocol.js";
import { assistant, FakeModel, type Mounted, mountEachTest, traits, user } from "./helpers.js";

const MESSAGE_PX = 120;
const { frames, mount, unmountAll } = mountEachTest();

beforeEach(() => {
  const real = HTMLElement.prototype.getBoundingClientRect;
  vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockImplementation(function (
    this: HTMLElement,
  ) {
    if (!this.classList.contains("nbc-msg")) return real.call(this);
    return {
      x: 0,
      y: 0,
      top: 0,
      left: 0,
      right: 600,
      bottom: MESSAGE_PX,
      width: 600,
      height: MESSAGE_PX,
      toJSON: () => ({}),
    };
  });
});

/** `turns` turns of a math-and-code-heavy reply each. */
function conversation(turns: number): Message[] {
  const reply =
    "Here is $x^2 + y^2$:\n\n```python\nprint(1)\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
  const out: Message[] = [];
  for (let i = 0; i < turns; i++) {
    out.push(user(`u${i}`, `question ${i}`), assistant(`r${i}`, `${reply}\n\nAnswer ${i}.`));
  }
  return out;
}

function open(turns: number): Mounted {
  const { view } = mount(new FakeModel(traits({ messages: conversation(turns) })));
  // Draw, measure, draw again until nothing is scheduled (bounded: a loop would fail here).
  for (let i = 0; i < 20 && frames.pending() > 0; i++) frames.flush();
  return view;
}

function counts(view: Mounted): { messages: number; nodes: number } {
  return {
    messages: view.root.querySelectorAll(".nbc-msg").length,
    nodes: view.root.querySelectorAll("*").length,
  };
}

describe("the DOM of a long chat", () => {
  it("holds the messages on screen plus a margin, at any depth", () => {
    const shallow = counts(open(20));
    unmountAll();
    const deep = open(1000);
    const at = counts(deep);
    // 800 px / 120 px a message, plus the overscan each side: far fewer than 2,000.
    expect(at.messages).toBeGreaterThan(0);
    expect(at.messages).toBeLessThanOrEqual(20);
    expect(at.messages).toBeLessThanOrEqual(shallow.messages);
    expect(at.nodes).toBeLessThanOrEqual(shallow.nodes * 1.1);
    // Messages from the far end of the history are not in the DOM. (Where the list opens,
    // at the newest message, needs layout: the browser tests check it.)
    expect(deep.root.querySelector('.nbc-msg[data-key="u0"]')).toBeNull();
    expect(deep.root.querySelector('.nbc-msg[data-key="r0"]')).toBeNull();
  }, 60_000); // building 1,000 turns of messages in jsdom takes seconds on a busy machine

  it("renders the newest messages first: a chat opens at its end", () => {
    // Replies dense enough that one fills the first frame's room.
    const formulas = Array.from({ length: 12 }, (_, i) => `$\\frac{a_${i}}{b_${i}}$`).join(" ");
    const messages = Array.from({ length: 10 }, (_, i) => [
      user(`u${i}`, `question ${i}`),
      assistant(`r${i}`, `| a | b |\n|---|---|\n| ${i} | 2 |\n\n${formulas}\n`),
    ]).flat();
    const { view } = mount(new FakeModel(traits({ messages })));
    const bodies = [...view.root.querySelectorAll(".nbc-msg-assistant .nbc-body")];
    expect(bodies.length).toBeGreaterThan(2);
    // The first frame has room for a few replies' elements (markdown/paced.ts): the last ones.
    expect(bodies.at(-1)?.querySelector("table")).not.toBeNull();
    expect(bodies[0]?.querySelector("table")).toBeNull();
    for (let i = 0; i < 20 && frames.pending() > 0; i++) frames.flush();
    const later = [...view.root.querySelectorAll(".nbc-msg-assistant .nbc-body")];
    expect(later.length).toBeGreaterThan(2);
    expect(later.every((body) => body.querySelector("table") !== null)).toBe(true);
  });
});
