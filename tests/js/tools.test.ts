// Tool call cards: the reducer's `part` messages, where cards sit in the text, and the card
// UI (approve / deny / always, results, hostile text kept as text).

import { describe, expect, it } from "vitest";
import { initialChannelState, reduce } from "../../js/channel.js";
import { isServerMessage } from "../../js/guards.js";
import { applyPart, cardsOf, NO_CARDS } from "../../js/parts.js";
import type { ChatTraits, Message, PartMsg, ServerMessage } from "../../js/protocol.js";
import { segments } from "../../js/view/segments.js";
import { prettyArguments } from "../../js/view/tools.js";
import {
  assistant,
  deltas,
  FakeModel,
  historyKeys,
  type Mounted,
  mountEachTest,
  user,
} from "./helpers.js";

const call = (
  seq: number,
  at: number,
  status: string,
  id = "c1",
  args = '{"city":"Paris"}',
  extra: Record<string, unknown> = {},
): PartMsg =>
  ({
    kind: "part",
    id: "r1",
    seq,
    at,
    part: { type: "tool_call", id, name: "weather", arguments: args, status, ...extra },
  }) as PartMsg;

const result = (seq: number, at: number, content: string, status = "done", id = "c1"): PartMsg =>
  ({
    kind: "part",
    id: "r1",
    seq,
    at,
    part: {
      type: "tool_result",
      call_id: id,
      name: "weather",
      content,
      status,
      elapsed_s: 0.25,
    },
  }) as PartMsg;

const start: ServerMessage = { kind: "start", id: "r1", text: "", model: "ollama:m" };

describe("part messages", () => {
  it("are server messages only with a well-formed part", () => {
    expect(isServerMessage(call(1, 0, "waiting"))).toBe(true);
    expect(isServerMessage(result(1, 0, "x"))).toBe(true);
    expect(isServerMessage({ kind: "part", id: "r1", seq: 1, at: 0, part: {} })).toBe(false);
    expect(isServerMessage({ ...call(1, 0, "waiting"), at: "0" })).toBe(false);
  });

  it("take the next seq, update the card in place, and a result settles it", () => {
    let state = initialChannelState;
    const feed = (input: ServerMessage): void => {
      state = reduce(state, input, { now: 0, messages: [] }).state;
    };
    feed(start);
    for (const d of deltas("r1", ["Let me ", "check."])) feed(d);
    feed(call(3, 13, "waiting"));
    feed(call(4, 13, "running"));
    feed(result(5, 13, '{"temp": 21}'));
    const reply = state.replies[0]!;
    expect(reply.seq).toBe(5);
    expect(reply.parts).toHaveLength(1);
    expect(reply.parts[0]).toMatchObject({ id: "c1", at: 13, status: "done" });
    expect(reply.parts[0]!.result?.content).toBe('{"temp": 21}');
  });

  it("a gap asks for a snapshot, which brings the cards back", () => {
    let state = initialChannelState;
    const sent: unknown[] = [];
    const feed = (input: ServerMessage): void => {
      const out = reduce(state, input, { now: 0, messages: [] });
      state = out.state;
      sent.push(...out.send);
    };
    feed(start);
    feed(call(2, 0, "waiting"));
    expect(sent).toEqual([{ kind: "resync", id: "r1" }]);
    feed({
      kind: "snapshot",
      id: "r1",
      seq: 3,
      text: "",
      reasoning: "",
      model: "ollama:m",
      tokens: 0,
      parts: [{ at: 0, part: call(0, 0, "waiting").part }],
    });
    expect(state.replies[0]!.parts.map((c) => c.status)).toEqual(["waiting"]);
  });

  it("a late status does not undo a result", () => {
    let cards = applyPart(NO_CARDS, result(1, 0, "ok"));
    cards = applyPart(cards, call(2, 0, "running"));
    expect(cards[0]!.status).toBe("done");
  });
});

describe("segments", () => {
  it("cut the text at each card, keyed by where each text starts", () => {
    const cards = applyPart(applyPart(NO_CARDS, call(1, 6, "done", "a")), call(2, 6, "done", "b"));
    const out = segments("Hello world", cards, false);
    expect(out.map((s) => s.key)).toEqual(["t0", "ca", "cb", "t6"]);
    expect(out.map((s) => (s.kind === "text" ? [s.text, s.final] : s.kind))).toEqual([
      ["Hello ", true],
      "card",
      "card",
      ["world", false],
    ]);
  });

  it("of a committed message: cards at their text's length", () => {
    const message: Message = {
      id: "a",
      role: "assistant",
      content: "Checking.Done.",
      parts: [
        { type: "text", text: "Checking." },
        { type: "tool_call", id: "c1", name: "weather", arguments: "{}" },
        { type: "tool_result", call_id: "c1", name: "weather", content: "21", status: "done" },
        { type: "text", text: "Done." },
      ],
    };
    const cards = cardsOf(message);
    expect(cards.map((c) => [c.id, c.at, c.status, c.result?.content])).toEqual([
      ["c1", 9, "done", "21"],
    ]);
  });

  it("pretty-print arguments that parse, and keep the rest as written", () => {
    expect(prettyArguments('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyArguments("{bad")).toBe("{bad");
    expect(prettyArguments("")).toBe("{}");
  });
});

// ---- the card in the widget ------------------------------------------------------------

const { frames, mount: setup } = mountEachTest();

function card(view: Mounted): HTMLElement {
  return view.root.querySelector<HTMLElement>(".nbc-msg-assistant .nbc-tool")!;
}

function buttonNamed(view: Mounted, name: string): HTMLButtonElement {
  const found = [...view.root.querySelectorAll<HTMLButtonElement>("button")].find(
    (b) => b.getAttribute("aria-label") === name,
  );
  if (found === undefined) throw new Error(`no button named ${name}`);
  return found;
}

describe("the tool card", () => {
  it("sits inside the reply where the call came, and asks the user", () => {
    const { model, view } = setup();
    model.push(start);
    for (const d of deltas("r1", ["Let me check."])) model.push(d);
    model.push(call(2, 13, "waiting"));
    frames.flush();
    const body = view.root.querySelector(".nbc-msg-assistant .nbc-body")!;
    expect([...body.children].map((el) => el.className)).toEqual(["nbc-seg nbc-md", "nbc-tool"]);
    const el = card(view);
    expect(el.getAttribute("role")).toBe("group");
    expect(el.getAttribute("aria-label")).toBe("Tool call weather: waiting for you");
    expect(el.querySelector(".nbc-tool-args")!.textContent).toBe('{\n  "city": "Paris"\n}');
    expect(view.root.querySelector(".nbc-status")!.textContent).toBe("waiting for approval");
    expect(view.root.querySelector(".nbc-stats")!.textContent).toMatch(
      /^waiting for your approval · /,
    );
    for (const name of ["Allow weather", "Deny weather", "Always allow weather in this chat"]) {
      expect(buttonNamed(view, name).hidden).toBe(false);
    }
  });

  it("Allow, Always allow and Deny with a reason send the answer once", () => {
    const { model, view } = setup();
    model.push(start);
    model.push(call(1, 0, "waiting", "c1"));
    model.push(call(2, 0, "waiting", "c2"));
    model.push(call(3, 0, "waiting", "c3"));
    frames.flush();
    const cards = view.root.querySelectorAll<HTMLElement>(".nbc-tool");
    cards[0]!.querySelector<HTMLButtonElement>("button.nbc-btn-primary")!.click();
    cards[0]!.querySelector<HTMLButtonElement>("button.nbc-btn-primary")!.click(); // ignored
    [...cards[1]!.querySelectorAll<HTMLButtonElement>("button")][1]!.click();
    const reason = cards[2]!.querySelector<HTMLInputElement>(".nbc-tool-reason")!;
    reason.value = "  not today ";
    reason.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.sentOf("approve")).toEqual([
      { kind: "approve", call_id: "c1", allow: true },
      { kind: "approve", call_id: "c2", allow: true, always: true },
      { kind: "approve", call_id: "c3", allow: false, reason: "not today" },
    ]);
    expect(cards[0]!.querySelector<HTMLButtonElement>("button")!.disabled).toBe(true);
  });

  it("offers no Always allow for a tool that asks every time", () => {
    const { model, view } = setup();
    model.push(start);
    model.push(call(1, 0, "waiting", "c1", '{"code":"1"}', { always_ask: true }));
    frames.flush();
    expect(buttonNamed(view, "Always allow weather in this chat").hidden).toBe(true);
  });

  it("shows the result collapsed, with its time, and a failure's traceback open", () => {
    const { model, view } = setup();
    model.push(start);
    model.push(call(1, 0, "running"));
    model.push(result(2, 0, '{"temp": 21}'));
    frames.flush();
    const el = card(view);
    expect(el.querySelector(".nbc-tool-status")!.textContent).toBe("done in 0.3 s");
    const details = el.querySelector<HTMLDetailsElement>(".nbc-tool-result")!;
    expect(details.open).toBe(false);
    expect(details.querySelector("summary")!.textContent).toBe("Result (12 characters)");
    expect(el.querySelector(".nbc-tool-ask")!.hasAttribute("hidden")).toBe(true);
  });

  it("keeps hostile arguments and results as text", () => {
    const { model, view } = setup();
    const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    model.push(start);
    model.push(call(1, 0, "running", "c1", JSON.stringify({ html: evil })));
    model.push(result(2, 0, `**bold** [x](javascript:alert(1)) ${evil}`));
    frames.flush();
    const el = card(view);
    expect(el.querySelectorAll("img, script, a, strong").length).toBe(0);
    expect(el.textContent).toContain(evil);
    expect(el.textContent).toContain("**bold**");
  });

  it("draws a committed reply's cards from its parts", () => {
    const message: Message = {
      ...assistant("a1", "Checking.It is 21."),
      parts: [
        { type: "text", text: "Checking." },
        { type: "tool_call", id: "c1", name: "weather", arguments: '{"city":"Paris"}' },
        {
          type: "tool_result",
          call_id: "c1",
          name: "weather",
          content: "User declined",
          status: "declined",
        },
        { type: "text", text: "It is 21." },
      ],
    };
    const model = new FakeModel();
    // Committed, as the kernel holds it: per-message state (m:<id>, c:<id>, leaf).
    model.state = {
      ...model.state,
      ...historyKeys([user("u1", "Weather?"), message]),
    } as ChatTraits;
    const { view } = setup(model);
    const body = view.root.querySelector(".nbc-msg-assistant .nbc-body")!;
    expect([...body.children].map((el) => el.className)).toEqual([
      "nbc-seg nbc-md",
      "nbc-tool",
      "nbc-seg nbc-md",
    ]);
    expect(body.textContent).toContain("Checking.");
    expect(body.textContent).toContain("It is 21.");
    expect(card(view).dataset.status).toBe("declined");
    expect(view.root.querySelectorAll(".nbc-tool-ask:not([hidden])").length).toBe(0);
  });
});
