// The status line under a reply: `model · N tokens · X tok/s · 3.2 s`.

import type { LiveReply } from "../channel.js";

export interface ReplyStats {
  model: string;
  tokens: number | null;
  tokensPerSecond: number | null;
  elapsedSeconds: number | null;
}

/** "ollama:llama3.2" -> "llama3.2"; the provider shows in the tooltip and the demo badge. */
export function modelName(model: string): string {
  const colon = model.indexOf(":");
  return colon < 0 ? model : model.slice(colon + 1);
}

export function providerOf(model: string): string {
  const colon = model.indexOf(":");
  return colon < 0 ? "" : model.slice(0, colon);
}

export function isDemoModel(model: string): boolean {
  return providerOf(model) === "demo";
}

export function formatStats(stats: ReplyStats): string {
  const parts: string[] = [];
  if (stats.model !== "") parts.push(modelName(stats.model));
  if (stats.tokens !== null) {
    parts.push(`${stats.tokens} ${stats.tokens === 1 ? "token" : "tokens"}`);
  }
  if (stats.tokensPerSecond !== null && Number.isFinite(stats.tokensPerSecond)) {
    parts.push(`${stats.tokensPerSecond.toFixed(stats.tokensPerSecond < 10 ? 1 : 0)} tok/s`);
  }
  if (stats.elapsedSeconds !== null && Number.isFinite(stats.elapsedSeconds)) {
    parts.push(`${stats.elapsedSeconds.toFixed(1)} s`);
  }
  return parts.join(" · ");
}

/** A streaming (or just finished) reply's figures by the local clock. */
export function liveStats(live: LiveReply, now: number): ReplyStats {
  const end = live.finishedAt ?? now;
  const elapsed = (end - live.startedAt) / 1000;
  const since = live.firstTokenAt === null ? 0 : (end - live.firstTokenAt) / 1000;
  return {
    model: live.model,
    tokens: live.tokens,
    // Too early a rate is noise (one token over a few ms).
    tokensPerSecond: since >= 0.25 && live.tokens > 1 ? live.tokens / since : null,
    elapsedSeconds: elapsed,
  };
}
