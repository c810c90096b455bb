// Find in a virtualized chat (js/view/find.ts): the text of every message is searched from the
// model's state, so a match in a message scrolled out of the DOM is found, scrolled to and
// marked; copying works on messages mounted by scrolling. jsdom has no layout: each message
// is 120 px (as in virtual.test.ts) and the scroller's geometry is emulated from the list's
// height, so the virtualizer and stick-to-bottom see a scroll position that moves.

import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Message } from "../../js/protocol.js";
import { controlProblems } from "./a11y.js";
import {
  assistant,
  FakeModel,
  type Mounted,
  mountEachTest,
  press,
  traits,
  user,
} from "./helpers.js";

const MESSAGE_PX = 120;
const VIEWPORT_PX = 800;
const { frames, mount, defer } = mountEachTest();

beforeEach(() => {
  defer(emulateScrolling());
  const real = HTMLElement.prototype.getBoundingClientRect;
  vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockImplementation(function (
    this: HTMLElement,
  ) {
    if (!this.classList.contains("nbc-msg")) return real.call(this);
    const box = { x: 0, y: 0, top: 0, left: 0, right: 600, bottom: MESSAGE_PX, width: 600 };
    return { ...box, height: MESSAGE_PX, toJSON: () => ({}) };
  });
});

const REPLY = "Here is $x^2$:\n\n```python\nprint(1)\n```\n";

/** 1,000 turns; "needle" once in the first prompt and twice in reply 500. */
function conversation(turns: number): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < turns; i++) {
    const question = i === 0 ? "question 0 with a Needle in it" : `question ${i}`;
    const answer = i === 500 ? "needle and needle again" : `${REPLY}\nAnswer ${i}.`;
    out.push(user(`u${i}`, question), assistant(`r${i}`, answer));
  }
  return out;
}

const settle = (): void => {
  for (let i = 0; i < 30 && frames.pending() > 0; i++) frames.flush();
};

/** Scrollers as a browser would lay them out (from their first paint on): 800 px tall, as
 * high as the list, scrolled by `scrollTop`/`scrollTo` with a scroll event; each message is
 * MESSAGE_PX tall. */
function emulateScrolling(): () => void {
  const proto = HTMLElement.prototype as unknown as Record<string, unknown>;
  const names = ["clientHeight", "scrollHeight", "scrollTop", "scrollTo", "offsetHeight"];
  const saved = names.map((name) => [name, Object.getOwnPropertyDescriptor(proto, name)] as const);
  const tops = new WeakMap<HTMLElement, number>();
  const isScroller = (el: HTMLElement): boolean => el.classList.contains("nbc-scroller");
  const height = (el: HTMLElement): number =>
    parseFloat(el.querySelector<HTMLElement>(".nbc-virtual")?.style.height || "0") + 34;
  const setTop = (el: HTMLElement, value: number): void => {
    tops.set(el, Math.max(0, Math.min(value, height(el) - VIEWPORT_PX)));
    el.dispatchEvent(new Event("scroll"));
  };
  Object.defineProperties(proto, {
    // What the virtualizer measures a message with.
    offsetHeight: {
      get(this: HTMLElement) {
        return this.classList.contains("nbc-msg") ? MESSAGE_PX : 0;
      },
      configurable: true,
    },
    clientHeight: {
      get(this: HTMLElement) {
        return isScroller(this) ? VIEWPORT_PX : 0;
      },
      configurable: true,
    },
    scrollHeight: {
      get(this: HTMLElement) {
        return isScroller(this) ? height(this) : 0;
      },
      configurable: true,
    },
    scrollTop: {
      get(this: HTMLElement) {
        return tops.get(this) ?? 0;
      },
      set(this: HTMLElement, value: number) {
        if (isScroller(this)) setTop(this, value);
      },
      configurable: true,
    },
    scrollTo: {
      value(this: HTMLElement, options: ScrollToOptions) {
        if (isScroller(this)) setTop(this, options.top ?? tops.get(this) ?? 0);
      },
      configurable: true,
      writable: true,
    },
  });
  return () => {
    for (const [name, descriptor] of saved) {
      if (descriptor === undefined) delete proto[name];
      else Object.defineProperty(proto, name, descriptor);
    }
  };
}

function open(turns: number): { view: Mounted; scroller: HTMLElement } {
  const { view } = mount(new FakeModel(traits({ messages: conversation(turns) })));
  settle();
  return { view, scroller: view.root.querySelector<HTMLElement>(".nbc-scroller")! };
}

const message = (view: Mounted, key: string): HTMLElement | null =>
  view.root.querySelector<HTMLElement>(`.nbc-msg[data-key="${key}"]`);

/** The message lies within the scroller's viewport (where the list placed it). */
function expectOnScreen(el: HTMLElement, scroller: HTMLElement): void {
  const top = parseFloat(el.style.transform.replace("translateY(", ""));
  expect(top).toBeGreaterThanOrEqual(scroller.scrollTop - 20);
  expect(top + MESSAGE_PX).toBeLessThanOrEqual(scroller.scrollTop + VIEWPORT_PX + 20);
}

function type(input: HTMLInputElement, text: string): void {
  input.value = text;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

describe("find in a chat of 1,000 turns", () => {
  it("finds, scrolls to and marks a message not in the DOM; Escape gives focus back", () => {
    const { view, scroller } = open(1000);
    expect(message(view, "u0")).toBeNull();
    const prompt = view.root.querySelector<HTMLTextAreaElement>("textarea")!;
    prompt.focus();

    const ctrlF = press(prompt, "f", { ctrlKey: true });
    expect(ctrlF.defaultPrevented).toBe(true); // not the browser's find
    const bar = view.root.querySelector<HTMLElement>(".nbc-find")!;
    const input = bar.querySelector<HTMLInputElement>("input")!;
    expect(bar.hidden).toBe(false);
    expect(document.activeElement).toBe(input);
    expect(input.getAttribute("aria-label")).toBe("Find in chat");

    type(input, "NEEDLE");
    const count = bar.querySelector<HTMLElement>(".nbc-find-count")!;
    expect(count.textContent).toBe("1 of 3");
    expect(count.getAttribute("aria-live")).toBe("polite");
    settle();
    const first = message(view, "u0");
    expect(first).not.toBeNull();
    expect(first!.classList.contains("is-find-hit")).toBe(true);
    expectOnScreen(first!, scroller); // scrolled there, and nothing scrolled it back
    expect(view.root.querySelectorAll(".nbc-msg").length).toBeLessThanOrEqual(20);
    expect(controlProblems(view.root)).toEqual([]);

    press(input, "Enter");
    expect(count.textContent).toBe("2 of 3");
    settle();
    expect(message(view, "r500")?.classList.contains("is-find-hit")).toBe(true);
    expect(message(view, "u0")).toBeNull(); // scrolled far away from the first match
    expectOnScreen(message(view, "r500")!, scroller);
    press(input, "Enter");
    expect(count.textContent).toBe("3 of 3");
    press(input, "Enter", { shiftKey: true });
    press(input, "Enter", { shiftKey: true });
    expect(count.textContent).toBe("1 of 3");
    settle();
    expect(message(view, "u0")?.classList.contains("is-find-hit")).toBe(true);

    press(input, "Escape");
    expect(bar.hidden).toBe(true);
    expect(document.activeElement).toBe(prompt);
    expect(view.root.querySelector(".is-find-hit")).toBeNull();
  }, 60_000);

  it("the toolbar's named button opens it; no match says so", () => {
    const { view } = open(30);
    const toggle = view.root.querySelector<HTMLButtonElement>('[aria-label="Find in chat"]')!;
    expect(toggle.tagName).toBe("BUTTON");
    toggle.focus();
    toggle.click();
    const input = view.root.querySelector<HTMLInputElement>(".nbc-find input")!;
    expect(document.activeElement).toBe(input);
    type(input, "nowhere to be found");
    expect(view.root.querySelector(".nbc-find-count")!.textContent).toBe("No matches");
    expect(controlProblems(view.root)).toEqual([]);
    view.root.querySelector<HTMLButtonElement>('[aria-label="Close find"]')!.click();
    expect(document.activeElement).toBe(toggle);
  });
});

describe("copy at depth", () => {
  it("copies a message and its code block once scrolling has brought it into the DOM", async () => {
    const writeText = vi.fn(async (_text: string) => {});
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const { view, scroller } = open(1000);
    expect(message(view, "r0")).toBeNull();
    // The user scrolls up to the top (a wheel first: it is the user's scroll, not a resize).
    scroller.dispatchEvent(new WheelEvent("wheel", { deltaY: -100 }));
    scroller.scrollTop = 0;
    settle();
    const reply = message(view, "r0")!;
    expect(reply).not.toBeNull();

    reply.querySelector<HTMLButtonElement>('[aria-label="Copy message"]')!.click();
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledTimes(1));
    expect(writeText).toHaveBeenLastCalledWith(`${REPLY}\nAnswer 0.`);

    reply.querySelector<HTMLButtonElement>(".nbc-copy")!.click();
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledTimes(2));
    expect(writeText.mock.calls[1]?.[0]?.trim()).toBe("print(1)");
  }, 60_000);
});
