// A comparison column's status line and the fastest marks (js/view/figures.ts).

import { describe, expect, it } from "vitest";
import type { LiveReply } from "../../js/channel.js";
import type { Message } from "../../js/protocol.js";
import { columnFigures, type Figures, fastest, formatFigures } from "../../js/view/figures.js";

const done = (firstToken: number, total: number): Figures => ({
  state: "done",
  firstToken,
  tokens: 10,
  rate: 20,
  total,
});

describe("column figures", () => {
  it("reads the committed meta, and live figures from the local clock while streaming", () => {
    const last: Message = {
      id: "a",
      role: "assistant",
      content: "hi",
      meta: { ttft_s: 0.25, tokens: 12, tokens_per_s: 48, elapsed_s: 0.5 },
    };
    const f = columnFigures(null, last, 0);
    expect(f && formatFigures(f)).toBe("first token 0.25 s · 12 tokens · 48 tok/s · 0.5 s");
    const live = {
      phase: "streaming",
      startedAt: 1000,
      firstTokenAt: 1400,
      finishedAt: null,
      tokens: 20,
    } as unknown as LiveReply;
    const g = columnFigures(live, last, 3400);
    expect(g).toMatchObject({ state: "streaming", firstToken: 0.4, tokens: 20, total: 2.4 });
    expect(g?.rate).toBeCloseTo(10);
    expect(columnFigures(null, { ...last, role: "user" }, 0)).toBeNull();
  });
});

describe("fastest", () => {
  it("marks the fastest first token and finish among replies that ended well", () => {
    const failed: Figures = { ...done(0.01, 0.02), state: "error" };
    expect(fastest([done(0.1, 3), done(0.3, 2), failed])).toEqual({ firstToken: 0, finish: 1 });
  });

  it("marks a winner only once it is certain, and never alone", () => {
    const waiting: Figures = {
      state: "streaming",
      firstToken: null,
      tokens: 0,
      rate: null,
      total: 0.05,
    };
    // Still waiting after 0.05 s: it may beat 0.1 s yet.
    expect(fastest([done(0.1, 1), waiting]).firstToken).toBe(-1);
    expect(fastest([done(0.1, 1), { ...waiting, total: 1.5 }])).toEqual({
      firstToken: 0,
      finish: 0,
    });
    expect(fastest([done(0.1, 1), null])).toEqual({ firstToken: -1, finish: -1 });
  });
});
