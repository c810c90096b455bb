// A comparison column's status line: time to first token, tokens, tok/s and total time, live
// while the reply streams (local clock) and exact once it is committed (the kernel's meta);
// and which column was fastest to its first token and to its finish.

import type { LiveReply } from "../channel.js";
import type { Message } from "../protocol.js";
import { formatStats, liveStats } from "./format.js";

export type ColumnState = "streaming" | "done" | "stopped" | "error";

export interface Figures {
  state: ColumnState;
  /** Seconds; null until known. While streaming, `total` is the time so far. */
  firstToken: number | null;
  tokens: number | null;
  rate: number | null;
  total: number | null;
}

/** The figures of a column's latest reply: the live one, else the last committed one. */
export function columnFigures(
  live: LiveReply | null,
  last: Message | undefined,
  now: number,
): Figures | null {
  if (live !== null && live.phase === "streaming") {
    const stats = liveStats(live, now);
    return {
      state: "streaming",
      firstToken: live.firstTokenAt === null ? null : (live.firstTokenAt - live.startedAt) / 1000,
      tokens: stats.tokens,
      rate: stats.tokensPerSecond,
      total: stats.elapsedSeconds,
    };
  }
  const meta = last?.role === "assistant" ? last.meta : undefined;
  if (meta === undefined) return null;
  return {
    state: meta.error ? "error" : meta.stopped ? "stopped" : "done",
    firstToken: meta.ttft_s ?? null,
    tokens: meta.tokens ?? null,
    rate: meta.tokens_per_s ?? null,
    total: meta.elapsed_s ?? null,
  };
}

export function formatFigures(f: Figures): string {
  const stats = { model: "", tokens: f.tokens, tokensPerSecond: f.rate, elapsedSeconds: f.total };
  const parts = [
    f.firstToken === null ? "" : `first token ${f.firstToken.toFixed(2)} s`,
    formatStats(stats),
    f.state === "stopped" ? "stopped" : f.state === "error" ? "failed" : "",
  ];
  return parts.filter((part) => part !== "").join(" · ");
}

export interface Fastest {
  /** Column index, or -1 when none is (yet) known to be fastest. */
  firstToken: number;
  finish: number;
}

/**
 * Which column was fastest to its first token and to its finish. A column still waiting
 * counts with its time so far (it can only get slower), so a winner is marked as soon as
 * it is certain; stopped and failed replies do not compete; one column alone is no race.
 */
export function fastest(columns: readonly (Figures | null)[]): Fastest {
  const racing = columns.filter((f) => f !== null && f.state !== "error" && f.state !== "stopped");
  if (racing.length < 2) return { firstToken: -1, finish: -1 };
  const pick = (known: (f: Figures) => number | null): number => {
    let best = -1;
    let bestTime = Number.POSITIVE_INFINITY;
    let certain = false;
    columns.forEach((f, i) => {
      if (f === null || f.state === "error" || f.state === "stopped") return;
      const value = known(f);
      const time = value ?? f.total ?? Number.POSITIVE_INFINITY; // a lower bound
      if (time < bestTime) {
        bestTime = time;
        best = i;
        certain = value !== null;
      }
    });
    return certain ? best : -1;
  };
  return {
    firstToken: pick((f) => f.firstToken),
    finish: pick((f) => (f.state === "done" ? f.total : null)),
  };
}
