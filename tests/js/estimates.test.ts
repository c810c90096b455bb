// The virtual list estimates a message it has not drawn from its text. The virtualizer asks
// again for every row from the first changed one on (for all rows whenever their count
// changes, i.e. on every turn), so the estimate of a row whose text did not change must come
// from a cache, not from reading its text again: that was O(conversation) work per turn.

import { afterEach, describe, expect, it, vi } from "vitest";
import type { Message } from "../../js/protocol.js";
import type { MessageView, Row } from "../../js/view/message.js";
import { VirtualList } from "../../js/view/virtual.js";
import { assistant, user } from "./helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  vi.restoreAllMocks();
  document.body.innerHTML = "";
});

function row(message: Message): Row {
  return {
    key: message.id,
    role: message.role,
    message,
    live: null,
    pending: false,
    unconfirmed: false,
    text: message.content,
  };
}

function conversation(turns: number): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < turns; i++) {
    // Each text unique, so a split of it is attributable to its row.
    out.push(row(user(`u${i}`, `question ${i}`)));
    out.push(row(assistant(`a${i}`, `Answer ${i}.\n\n${"word ".repeat(40 + i)}\n\nEnd ${i}.`)));
  }
  return out;
}

function list(): VirtualList {
  const scroller = document.createElement("div");
  document.body.append(scroller);
  const controller = new AbortController();
  cleanups.push(() => controller.abort());
  const view = (): MessageView => {
    const el = document.createElement("div");
    return { el, destroy: () => el.remove() } as unknown as MessageView;
  };
  const virtual = new VirtualList(
    scroller,
    { create: view, update: () => undefined, changed: () => undefined },
    controller.signal,
  );
  scroller.append(virtual.el);
  return virtual;
}

/** The texts split into lines (how an estimate reads a text) while `action` runs. */
function textsRead(rows: readonly Row[], action: () => void): Set<string> {
  const texts = new Set(rows.map((r) => r.text));
  const read = new Set<string>();
  const split = String.prototype.split;
  vi.spyOn(String.prototype, "split").mockImplementation(function (
    this: string,
    ...args: Parameters<typeof split>
  ) {
    if (texts.has(String(this))) read.add(String(this));
    return split.apply(String(this), args);
  } as typeof split);
  try {
    action();
  } finally {
    vi.mocked(String.prototype.split).mockRestore();
  }
  return read;
}

const LAYOUT = { margin: 0, gap: 0 };

describe("estimated heights", () => {
  it("are read from a row's text once, not again on every turn", () => {
    const virtual = list();
    const before = conversation(300);
    const first = textsRead(before, () => {
      virtual.setRows(before, LAYOUT);
      virtual.draw();
    });
    expect(first.size).toBeGreaterThan(500); // every row not drawn was estimated

    // One more turn: the count changes, the virtualizer asks for every row again.
    const after = [
      ...before,
      row(user("u300", "question 300")),
      row(assistant("a300", "The new reply.")),
    ];
    const next = textsRead(after, () => {
      virtual.setRows(after, LAYOUT);
      virtual.draw();
    });
    expect([...next].sort()).toEqual(["The new reply.", "question 300"]);
  });

  it("are redone for a row whose text changed, and only for it", () => {
    const virtual = list();
    const rows = conversation(50);
    virtual.setRows(rows, LAYOUT);
    virtual.draw();

    // The first question (far above the drawn end of the list) now has another text, and a
    // short turn follows: the list is laid out again. (Heights are not compared: jsdom has no
    // layout, so what a drawn message measures here says nothing.)
    const longer = "a much longer question\n".repeat(30);
    const edited = [row(user("u0", longer)), ...rows.slice(1), row(user("u50", "ok?"))];
    const read = textsRead(edited, () => {
      virtual.setRows(edited, LAYOUT);
      virtual.draw();
    });
    expect([...read].sort()).toEqual([longer, "ok?"].sort());
  });
});
