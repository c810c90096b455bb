import { describe, expect, it } from "vitest";
import {
  type ChannelInput,
  type ChannelState,
  initialChannelState,
  reduce,
  streamingReply,
} from "../../js/channel.js";
import { isServerMessage } from "../../js/guards.js";
import type { ClientMessage, Message, ServerMessage } from "../../js/protocol.js";
import { displayRows } from "../../js/view/rows.js";
import { assistant, deltas, snapshot, user } from "./helpers.js";

/** Drive the reducer like the store does, keeping the trait and what was sent. */
class Harness {
  state: ChannelState = initialChannelState;
  messages: Message[] = [];
  sent: ClientMessage[] = [];
  now = 1000;

  feed(...inputs: (ServerMessage | ChannelInput)[]): this {
    for (const input of inputs) {
      const out = reduce(this.state, input, { now: this.now, messages: this.messages });
      this.state = out.state;
      this.sent.push(...out.send);
      this.now += 10;
    }
    return this;
  }

  commit(messages: Message[]): this {
    this.messages = messages;
    return this.feed({ kind: "messages", messages });
  }

  /** Texts of the rows a view would draw, by role. */
  shown(): string[] {
    return displayRows(this.messages, this.state).map(
      (r) => `${r.role}:${r.live !== null ? r.live.text : r.text}`,
    );
  }

  text(id = "r1"): string | undefined {
    return this.state.replies.find((r) => r.id === id)?.text;
  }
}

const start = (id = "r1", text = ""): ServerMessage => ({
  kind: "start",
  id,
  text,
  model: "ollama:m",
});
const done = (id: string, seq: number): ServerMessage => ({ kind: "done", id, seq });

describe("ordered deltas", () => {
  it("append in order and count tokens", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["Hel", "lo ", "wörld 👋"]));
    expect(h.text()).toBe("Hello wörld 👋");
    expect(streamingReply(h.state)?.tokens).toBe(3);
    expect(streamingReply(h.state)?.seq).toBe(3);
    expect(h.sent).toEqual([]);
  });

  it("track reasoning separately from the answer", () => {
    const h = new Harness().feed(
      start(),
      {
        kind: "delta",
        id: "r1",
        seq: 1,
        offset: 0,
        text: "",
        reasoning_offset: 0,
        reasoning: "Let me think",
        tokens: 1,
      },
      {
        kind: "delta",
        id: "r1",
        seq: 2,
        offset: 0,
        text: "Answer",
        reasoning_offset: 12,
        reasoning: ".",
        tokens: 2,
      },
    );
    expect(h.state.replies[0]?.reasoning).toBe("Let me think.");
    expect(h.text()).toBe("Answer");
    expect(h.sent).toEqual([]);
  });

  it("offsets count UTF-16 units, as the kernel sends them", () => {
    // "👋" is two UTF-16 units: the next delta starts at offset 2.
    const h = new Harness().feed(start(), ...deltas("r1", ["👋", "a"]));
    expect(h.text()).toBe("👋a");
    expect(h.sent).toEqual([]);
  });

  it("a continued reply starts from the partial text it carries", () => {
    const h = new Harness();
    h.messages = [user("u1", "q"), assistant("r1", "Once upon", { stopped: true })];
    h.feed(start("r1", "Once upon"), ...deltas("r1", [" a time"], 1, 9));
    expect(h.text()).toBe("Once upon a time");
    expect(h.shown()).toEqual(["user:q", "assistant:Once upon a time"]);
  });
  it("a continued reply keeps its reasoning, and reasoning deltas follow on without a resync", () => {
    const h = new Harness();
    h.feed(
      { kind: "start", id: "r1", text: "Once", reasoning: "hmm", model: "ollama:m" },
      { kind: "delta", id: "r1", seq: 1, reasoning_offset: 3, reasoning: ", yes" },
    );
    expect(h.sent).toEqual([]);
    expect(streamingReply(h.state)?.reasoning).toBe("hmm, yes");
  });
});

describe("deltas carry only what changed", () => {
  it("text alone, reasoning alone, or both: each pair checked against its own length", () => {
    const h = new Harness().feed(
      start(),
      { kind: "delta", id: "r1", seq: 1, reasoning_offset: 0, reasoning: "Hmm 🤔", tokens: 2 },
      { kind: "delta", id: "r1", seq: 2, offset: 0, text: "Yes" },
      {
        kind: "delta",
        id: "r1",
        seq: 3,
        offset: 3,
        text: ".",
        reasoning_offset: 6,
        reasoning: "!",
      },
    );
    const reply = streamingReply(h.state);
    expect([reply?.reasoning, reply?.text, reply?.seq]).toEqual(["Hmm 🤔!", "Yes.", 3]);
    expect(h.sent).toEqual([]);
  });

  it("a reasoning offset that is not the current length asks for a resync", () => {
    const h = new Harness().feed(
      start(),
      { kind: "delta", id: "r1", seq: 1, offset: 0, text: "abc", tokens: 1 },
      { kind: "delta", id: "r1", seq: 2, reasoning_offset: 4, reasoning: "x" },
    );
    expect(h.sent).toEqual([{ kind: "resync", id: "r1" }]);
    expect(streamingReply(h.state)?.reasoning).toBe("");
  });

  it("the guard accepts a pair whole or absent, and nothing half-sent", () => {
    const base = { kind: "delta", id: "r1", seq: 1 };
    expect(isServerMessage({ ...base, offset: 0, text: "a" })).toBe(true);
    expect(isServerMessage({ ...base, reasoning_offset: 0, reasoning: "a", tokens: 3 })).toBe(true);
    expect(isServerMessage({ ...base, text: "a" })).toBe(false); // no offset
    expect(isServerMessage({ ...base, offset: 0 })).toBe(false); // no text
    expect(isServerMessage({ ...base, offset: 0, text: "a", reasoning: "b" })).toBe(false);
    expect(isServerMessage({ ...base, offset: 0, text: "a", tokens: "3" })).toBe(false);
  });

  it("between exact counts, tokens grow with the text at the rate counted so far", () => {
    const d = (seq: number, offset: number, text: string, tokens?: number): ServerMessage =>
      tokens === undefined
        ? { kind: "delta", id: "r1", seq, offset, text }
        : { kind: "delta", id: "r1", seq, offset, text, tokens };
    const h = new Harness().feed(start(), d(1, 0, "x".repeat(40), 10)); // 4 units a token
    const tokens = (): number | undefined => streamingReply(h.state)?.tokens;
    expect(tokens()).toBe(10);
    h.feed(d(2, 40, "x".repeat(20)));
    expect(tokens()).toBe(15); // estimated
    h.feed(d(3, 60, "x".repeat(4), 14));
    expect(tokens()).toBe(14); // the exact count wins, even when lower
    h.feed(d(4, 64, "x".repeat(32)));
    expect(tokens()).toBe(21); // 14 + 32 units at 64/14 units a token
  });

  it("a continued reply measures its rate from where it started", () => {
    const h = new Harness().feed(
      start("r1", "y".repeat(100)),
      { kind: "delta", id: "r1", seq: 1, offset: 100, text: "x".repeat(10), tokens: 5 },
      { kind: "delta", id: "r1", seq: 2, offset: 110, text: "x".repeat(10) },
    );
    expect(streamingReply(h.state)?.tokens).toBe(10); // 2 units a token, not 22
  });

  it("a continued reply's reasoning counts as where it started, too", () => {
    const h = new Harness().feed(
      { kind: "start", id: "r1", text: "y".repeat(20), reasoning: "z".repeat(80), model: "m" },
      { kind: "delta", id: "r1", seq: 1, offset: 20, text: "x".repeat(10), tokens: 5 },
      { kind: "delta", id: "r1", seq: 2, offset: 30, text: "x".repeat(10) },
    );
    expect(streamingReply(h.state)?.tokens).toBe(10); // 2 units a token, not 18 (6 tokens)
  });

  it("after a snapshot the count holds until the next exact one", () => {
    const h = new Harness().feed(...deltas("r9", ["lost"], 3, 10)); // start lost: resync
    h.feed(snapshot("r9", 4, "0123456789abcd"));
    h.feed({ kind: "delta", id: "r9", seq: 5, offset: 14, text: "efgh" });
    expect(streamingReply(h.state)?.tokens).toBe(4); // the snapshot's count, not a guess
    h.feed({ kind: "delta", id: "r9", seq: 6, offset: 18, text: "ij", tokens: 9 });
    expect(streamingReply(h.state)?.tokens).toBe(9);
  });
});

describe("gaps and resync", () => {
  it("a view that joins mid-stream gets the reasoning from the snapshot too", () => {
    const h = new Harness().feed(snapshot("r1", 3, "The answer", "Let me think"));
    h.feed({ kind: "delta", id: "r1", seq: 4, reasoning_offset: 12, reasoning: "." });
    expect(h.sent).toEqual([]);
    expect(streamingReply(h.state)?.reasoning).toBe("Let me think.");
    expect(h.text()).toBe("The answer");
  });

  it("a seq gap asks for exactly one resync, then the snapshot recovers", () => {
    const [d1, d2, d3, d4] = deltas("r1", ["a", "b", "c", "d"]);
    const h = new Harness().feed(start(), d1!, d3!, d4!);
    expect(h.sent).toEqual([{ kind: "resync", id: "r1" }]);
    expect(h.text()).toBe("a"); // deltas after the gap are ignored
    h.feed(snapshot("r1", 4, "abcd"));
    expect(h.text()).toBe("abcd");
    h.feed(...deltas("r1", ["e"], 5, 4), d2!); // the late d2 is dropped
    expect(h.text()).toBe("abcde");
    expect(h.sent).toHaveLength(1);
  });

  it("an offset that is not the current length asks for a resync", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["abc"]), {
      kind: "delta",
      id: "r1",
      seq: 2,
      offset: 5,
      text: "x",
      reasoning_offset: 0,
      reasoning: "",
      tokens: 2,
    });
    expect(h.sent).toEqual([{ kind: "resync", id: "r1" }]);
    expect(h.text()).toBe("abc");
  });

  it("a second gap after recovery asks again", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["a"]), ...deltas("r1", ["c"], 3, 1));
    h.feed(snapshot("r1", 3, "abc"));
    h.feed(...deltas("r1", ["e"], 5, 4));
    expect(h.sent).toEqual([
      { kind: "resync", id: "r1" },
      { kind: "resync", id: "r1" },
    ]);
  });

  it("duplicate and late deltas are ignored without a resync", () => {
    const ds = deltas("r1", ["a", "b", "c"]);
    const h = new Harness().feed(start(), ...ds, ds[0]!, ds[1]!, ds[2]!);
    expect(h.text()).toBe("abc");
    expect(h.sent).toEqual([]);
  });

  it("a delta for a reply whose start was lost asks once for its snapshot", () => {
    const h = new Harness().feed(...deltas("r9", ["x", "y"], 4, 10));
    expect(h.sent).toEqual([{ kind: "resync", id: "r9" }]);
    h.feed(snapshot("r9", 5, "0123456789xy"));
    expect(h.text("r9")).toBe("0123456789xy");
  });

  it("a snapshot older than what we hold (an answer to another view's hello) is ignored", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["a", "b", "c"]));
    h.feed(snapshot("r1", 2, "ab"));
    expect(h.text()).toBe("abc");
  });

  it("a snapshot with nothing in flight ends what we thought was streaming", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["a"]));
    h.feed({ kind: "snapshot", id: null, seq: 0, text: "", reasoning: "", model: "", tokens: 0 });
    expect(streamingReply(h.state)).toBeNull();
    h.commit([user("u", "q"), assistant("r1", "ab")]);
    expect(h.state.replies).toEqual([]);
    expect(h.shown()).toEqual(["user:q", "assistant:ab"]);
  });
});

describe("done and the messages trait, in either order", () => {
  const history = [user("u1", "q"), assistant("r1", "abc")];

  it("done first, then the trait: the reply is shown exactly once throughout", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["a", "bc"]));
    h.messages = [user("u1", "q")]; // the kernel committed the prompt at start
    h.feed(done("r1", 3));
    expect(h.shown()).toEqual(["user:q", "assistant:abc"]);
    h.commit(history);
    expect(h.shown()).toEqual(["user:q", "assistant:abc"]);
    expect(h.state.replies).toEqual([]);
  });

  it("trait first, then done: the reply is shown exactly once throughout", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["a", "bc"]));
    h.commit(history);
    expect(h.shown()).toEqual(["user:q", "assistant:abc"]);
    expect(h.state.replies).toHaveLength(1); // still live until done
    h.feed(done("r1", 3));
    expect(h.shown()).toEqual(["user:q", "assistant:abc"]);
    expect(h.state.replies).toEqual([]);
  });

  it("done carrying the last delta's seq (not the next) finishes too", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["a", "bc"]));
    h.feed(done("r1", 2));
    expect(streamingReply(h.state)).toBeNull();
    h.commit(history);
    expect(h.state.replies).toEqual([]);
  });

  it("a continued reply waits for the trait to be rewritten when done comes first", () => {
    const h = new Harness();
    h.commit([user("u1", "q"), assistant("r1", "Once", { stopped: true })]);
    h.feed(start("r1", "Once"), ...deltas("r1", [" more"], 1, 4), done("r1", 2));
    // The trait still holds the old partial: keep showing the live text, not the old one.
    expect(h.shown()).toEqual(["user:q", "assistant:Once more"]);
    h.commit([user("u1", "q"), assistant("r1", "Once more")]);
    expect(h.state.replies).toEqual([]);
    expect(h.shown()).toEqual(["user:q", "assistant:Once more"]);
  });

  it("missing deltas at done: the committed message wins as soon as it arrives", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["a"]), done("r1", 4));
    expect(h.sent).toEqual([]); // nothing in flight to resync from
    h.commit(history);
    expect(h.shown()).toEqual(["user:q", "assistant:abc"]);
  });

  it("an error ends the reply with its message and hint and keeps the partial text", () => {
    const h = new Harness().feed(start(), ...deltas("r1", ["part"]), {
      kind: "error",
      id: "r1",
      message: "Stream interrupted",
      hint: "Press Continue",
    });
    const reply = h.state.replies[0];
    expect(reply?.phase).toBe("error");
    expect(reply?.error).toEqual({ message: "Stream interrupted", hint: "Press Continue" });
    expect(reply?.text).toBe("part");
  });
});

describe("commands sent from this front end", () => {
  it("a submitted prompt shows at once and until the history holds it", () => {
    const h = new Harness();
    h.commit([user("u1", "q"), assistant("r1", "a")]);
    h.feed({ kind: "sent", message: { kind: "submit", text: "next?" } });
    expect(h.shown()).toEqual(["user:q", "assistant:a", "user:next?"]);
    h.feed(start("r2"), ...deltas("r2", ["ok"]));
    expect(h.shown()).toEqual(["user:q", "assistant:a", "user:next?", "assistant:ok"]);
    h.feed(done("r2", 2));
    h.commit([user("u1", "q"), assistant("r1", "a"), user("u2", "next?"), assistant("r2", "ok")]);
    expect(h.shown()).toEqual(["user:q", "assistant:a", "user:next?", "assistant:ok"]);
    expect(h.state.pending).toBeNull();
  });

  it("a refusal takes the prompt back out of the list and hands its text back", () => {
    const h = new Harness().feed({ kind: "sent", message: { kind: "submit", text: "hi" } });
    h.feed({ kind: "notice", text: "A reply is still streaming — press Stop first." });
    expect(h.shown()).toEqual([]);
    expect(h.state.refused?.text).toBe("hi");
    expect(h.state.notice?.text).toMatch(/still streaming/);
  });

  it("an error with no id is a refused command, shown as a notice", () => {
    const h = new Harness().feed({ kind: "error", id: null, message: "Nope", hint: "Try later" });
    expect(h.state.notice).toMatchObject({ text: "Nope", hint: "Try later" });
    expect(h.state.replies).toEqual([]);
  });

  it("regenerate hides the reply it replaces until the new one settles", () => {
    const h = new Harness();
    h.commit([user("u1", "q"), assistant("r1", "old")]);
    const regenerate: ChannelInput = { kind: "sent", message: { kind: "regenerate" } };
    h.feed(regenerate, start("r2"), ...deltas("r2", ["new"]));
    expect(h.shown()).toEqual(["user:q", "assistant:new"]);
    h.feed(done("r2", 2));
    h.commit([user("u1", "q"), assistant("r2", "new")]);
    expect(h.shown()).toEqual(["user:q", "assistant:new"]);
  });

  it("edit shows the new prompt and hides the reply being redone", () => {
    const h = new Harness();
    h.commit([user("u1", "q"), assistant("r1", "old")]);
    h.feed({ kind: "sent", message: { kind: "edit", text: "q2" } });
    expect(h.shown()).toEqual(["user:q2"]);
    h.feed(start("r2"), ...deltas("r2", ["new"]), done("r2", 2));
    h.commit([user("u1", "q2"), assistant("r2", "new")]);
    expect(h.shown()).toEqual(["user:q2", "assistant:new"]);
  });

  it("stop keeps an earlier pending prompt visible", () => {
    const submit: ChannelInput = { kind: "sent", message: { kind: "submit", text: "hi" } };
    const h = new Harness().feed(submit, start());
    h.feed({ kind: "sent", message: { kind: "stop" } });
    expect(h.shown()).toEqual(["user:hi", "assistant:"]);
  });
});
