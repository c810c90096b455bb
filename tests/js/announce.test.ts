// Screen readers: the transcript is a log that is not read out token by token; one polite
// region announces a reply's boundaries; every control is reachable and named.

import { describe, expect, it, vi } from "vitest";
import type { LiveReply } from "../../js/channel.js";
import {
  COMPLETE,
  CUT_OFF,
  createAnnouncer,
  GENERATING,
  replyBoundaries,
  STOPPED,
} from "../../js/view/announce.js";
import type { Row } from "../../js/view/message.js";
import { controlProblems, liveRegions } from "./a11y.js";
import {
  assistant,
  deltas,
  FakeModel,
  type Mounted,
  mountEachTest,
  traits,
  user,
} from "./helpers.js";

const { frames, mount: setup } = mountEachTest();

function live(id: string, phase: LiveReply["phase"], error: LiveReply["error"] = null): LiveReply {
  const mark = { tokens: 0, length: 0 };
  return {
    id,
    model: "m",
    text: "x",
    reasoning: "",
    parts: [],
    tokens: 1,
    counted: mark,
    countedFrom: mark,
    seq: 1,
    phase,
    blocking: false,
    error,
    startedAt: 0,
    firstTokenAt: null,
    finishedAt: null,
    baseline: null,
    incomplete: false,
    committedAfterFinish: false,
  };
}

function row(key: string, reply: LiveReply | null, meta?: Record<string, unknown>): Row {
  const message = meta === undefined ? null : assistant(key, "x", meta);
  return {
    key,
    role: "assistant",
    message,
    live: reply,
    pending: false,
    unconfirmed: false,
    text: "x",
  };
}

describe("reply boundaries", () => {
  it("start, then complete once committed", () => {
    const next = replyBoundaries();
    expect(next([])).toBeNull();
    expect(next([row("r", live("r", "streaming"))])).toBe(GENERATING);
    expect(next([row("r", live("r", "streaming"))])).toBeNull(); // not per token
    expect(next([row("r", live("r", "done"))])).toBeNull(); // the outcome is not known yet
    expect(next([row("r", null, {})])).toBe(COMPLETE);
    expect(next([row("r", null, {})])).toBeNull();
  });

  it.each([
    [{ stopped: true }, STOPPED],
    [{ finish_reason: "length" }, CUT_OFF],
    [{ error: "Boom.", hint: "Retry." }, "Reply failed: Boom. Retry."],
  ])("a committed %o says so", (meta, said) => {
    const next = replyBoundaries();
    next([row("r", live("r", "streaming"))]);
    expect(next([row("r", null, meta)])).toBe(said);
  });

  it("a failure is said as soon as it is known", () => {
    const next = replyBoundaries();
    next([row("r", live("r", "streaming"))]);
    const failed = live("r", "error", { message: "Cut off.", hint: "" });
    expect(next([row("r", failed)])).toBe("Reply failed: Cut off.");
    expect(next([row("r", null, { error: "Cut off." })])).toBeNull(); // once
  });

  it("a reply that started and failed between two frames still says it failed, once", () => {
    const next = replyBoundaries();
    const failed = live("r", "error", { message: "Gone.", hint: "" });
    expect(next([row("r", failed)])).toBe("Reply failed: Gone.");
    expect(next([row("r", failed)])).toBeNull();
    expect(next([row("r", null, { error: "Gone." })])).toBeNull();
  });

  it("a reply that started and completed between two frames says complete once committed", () => {
    const next = replyBoundaries();
    expect(next([row("r", live("r", "done"))])).toBeNull();
    expect(next([row("r", null, {})])).toBe(COMPLETE);
    expect(next([row("r", null, {})])).toBeNull();
  });

  it("a reply seen live only between frames, already committed at the next, is still said", () => {
    // The kernel's start, deltas, error and commit arrived together on a busy page.
    const next = replyBoundaries();
    next.saw([live("r", "streaming")]);
    next.saw([]); // settled: `messages` holds it
    expect(next([row("r", null, { error: "Gone.", hint: "Ask again." })])).toBe(
      "Reply failed: Gone. Ask again.",
    );
    expect(next([row("r", null, { error: "Gone." })])).toBeNull();
    next.saw([live("s", "done")]);
    expect(next([row("r", null, { error: "Gone." }), row("s", null, {})])).toBe(COMPLETE);
  });

  it("history already there when the view opens is not announced", () => {
    const next = replyBoundaries();
    expect(next([row("r", null, { error: "Old." }), row("s", null, {})])).toBeNull();
  });

  it("a continued reply is judged by its new commit, not the old stopped marker", () => {
    const next = replyBoundaries();
    expect(next([row("r", live("r", "streaming"), { stopped: true })])).toBe(GENERATING);
    expect(next([row("r", live("r", "done"), { stopped: true })])).toBeNull();
    expect(next([row("r", null, {})])).toBe(COMPLETE);
  });

  it("a cleared chat says nothing more", () => {
    const next = replyBoundaries();
    next([row("r", live("r", "streaming"))]);
    expect(next([])).toBeNull();
    expect(next([row("r", null, {})])).toBeNull();
  });
});

describe("the view", () => {
  const announcer = (view: Mounted): HTMLElement => view.root.querySelector(".nbc-announcer")!;

  it("is a log that is not live; only the announcer speaks while a reply streams", async () => {
    const { model, view } = setup(new FakeModel(traits({ messages: [user("u1", "q")] })));
    const log = view.root.querySelector('[role="log"]')!;
    expect(log.getAttribute("aria-live")).toBe("off");
    expect(log.getAttribute("aria-label")).toBe("Chat");

    const heard: string[] = [];
    const changed = new Set<Element>();
    const observers = liveRegions(view.root).map((region) => {
      const observer = new MutationObserver(() => changed.add(region));
      const watch = { childList: true, characterData: true, subtree: true, attributes: true };
      observer.observe(region, watch);
      return observer;
    });
    const flush = (): void => {
      frames.flush();
      heard.push(announcer(view).textContent ?? "");
    };
    model.kernelSet("status", "streaming");
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    flush();
    const reply = view.root.querySelector(".nbc-msg-assistant")!;
    expect(reply.getAttribute("aria-busy")).toBe("true");
    for (const d of deltas("r1", ["one ", "two ", "three ", "four"])) {
      model.push(d);
      flush();
    }
    model.push({ kind: "done", id: "r1", seq: 5 });
    model.kernelSet("status", "idle");
    model.kernelShow([user("u1", "q"), assistant("r1", "one two three four")]);
    flush();
    expect(reply.hasAttribute("aria-busy")).toBe(false);
    await Promise.resolve(); // mutation records are delivered as a microtask
    for (const observer of observers) observer.disconnect();
    // Of every live region (notices, the input's reason, the announcer), only the
    // announcer spoke, and only at the boundaries: the status pill and dots are not live.
    expect([...changed]).toEqual([announcer(view)]);
    // What it said, frame by frame: the start, then nothing new per token, then the end.
    expect(heard).toEqual([GENERATING, GENERATING, GENERATING, GENERATING, GENERATING, COMPLETE]);
  });

  it("a failure is read out once, with its hint", () => {
    const { model, view } = setup();
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    frames.flush();
    model.push({ kind: "error", id: "r1", message: "The server went away.", hint: "Retry." });
    frames.flush();
    expect(announcer(view).textContent).toBe("Reply failed: The server went away. Retry.");
    expect(view.root.querySelector('[role="alert"]')).toBeNull();
  });

  it("a failure that starts, ends and is committed between two frames is read out", () => {
    // What a busy page gets: the kernel's start, delta, error and commit in one batch.
    const { model, view } = setup();
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    model.push({ kind: "delta", id: "r1", seq: 1, offset: 0, text: "Half " });
    model.push({ kind: "error", id: "r1", message: "The server went away.", hint: "Retry." });
    const meta = { error: "The server went away.", hint: "Retry." };
    model.kernelShow([user("u1", "q"), assistant("r1", "Half ", meta)]);
    frames.flush();
    expect(view.root.querySelector(".nbc-error")).not.toBeNull();
    expect(announcer(view).textContent).toBe("Reply failed: The server went away. Retry.");
  });

  it("says the same sentence twice when it happens twice", () => {
    vi.useFakeTimers();
    try {
      const controller = new AbortController();
      const announcer = createAnnouncer(controller.signal);
      announcer.say(STOPPED);
      expect(announcer.el.textContent).toBe(STOPPED);
      announcer.say(STOPPED);
      expect(announcer.el.textContent).toBe(""); // emptied, then said again
      vi.advanceTimersByTime(100);
      expect(announcer.el.textContent).toBe(STOPPED);
      controller.abort();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("controls", () => {
  it("every control is reachable and named: idle, with history and a code block", () => {
    const code = "Here:\n\n```python\nprint(1)\n```\n";
    const messages = [user("u1", "q"), assistant("r1", code)];
    const { view } = setup(new FakeModel(traits({ messages })));
    frames.flush();
    const names = [...view.root.querySelectorAll("button")]
      .filter((b) => !b.hidden)
      .map((b) => b.getAttribute("aria-label"));
    for (const name of [
      "Clear the conversation",
      "Send message",
      "Copy message",
      "Edit and resend",
      "Regenerate this reply",
      "Copy code",
    ]) {
      expect(names).toContain(name);
    }
    expect(controlProblems(view.root)).toEqual([]);
  });

  it("…streaming (Stop), and after a stop (Continue)", () => {
    const model = new FakeModel(traits({ messages: [user("u1", "q")] }));
    const { view } = setup(model);
    model.kernelSet("status", "streaming");
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    model.push(deltas("r1", ["partial"])[0]!);
    frames.flush();
    expect(view.root.querySelector("button.nbc-send")!.getAttribute("aria-label")).toBe(
      "Stop generating",
    );
    expect(controlProblems(view.root)).toEqual([]);

    model.push({ kind: "done", id: "r1", seq: 2 });
    model.kernelSet("status", "idle");
    model.kernelShow([user("u1", "q"), assistant("r1", "partial", { stopped: true })]);
    frames.flush();
    const cont = view.root.querySelector<HTMLButtonElement>(
      '.nbc-msg-assistant [aria-label="Continue this reply"]',
    )!;
    expect(cont.hidden).toBe(false);
    expect(controlProblems(view.root)).toEqual([]);
    expect(view.root.querySelector(".nbc-announcer")!.textContent).toBe(STOPPED);
  });

  it("the check catches an unnamed or unreachable control", () => {
    const { view } = setup();
    const bad = document.createElement("button");
    bad.className = "nbc-new-control";
    const out = document.createElement("div");
    out.setAttribute("tabindex", "-1");
    out.setAttribute("role", "button");
    out.textContent = "Approve";
    view.root.append(bad, out);
    expect(controlProblems(view.root).map((p) => p.problem)).toEqual([
      "no name",
      "taken out of the Tab order",
    ]);
  });
});
