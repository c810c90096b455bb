// The front-end half of the delta channel: a pure reducer from kernel messages (and changes
// of the `messages` trait) to the live state the views draw.
//
// Rules (see _channel.py for the sending half):
// - `start` opens a live reply; `delta`s must arrive in `seq` order with `offset` equal to the
//   text we hold. A gap or a mismatched offset asks the kernel for `resync{id}` once and ignores
//   deltas until the `snapshot` arrives. Duplicate or late deltas (seq already applied) are
//   dropped silently. A delta carries only what changed (see protocol.ts): text, reasoning, or
//   both, and the exact token count a few times a second; in between, the count is estimated
//   from the text's growth at the rate counted so far.
// - `part` (a tool call's card) takes the next `seq` like a delta and updates the reply's
//   cards (parts.ts); a snapshot carries the cards so far.
// - `done`/`error` finish the reply; it stays live until the `messages` trait holds it, so it is
//   never shown twice nor dropped, whichever of the trait update and `done` arrives first.
// - A command we sent stays pending until the kernel refuses it or its reply settles
//   (pending.ts).

import { isPartEntry } from "./guards.js";
import { applyPart, NO_CARDS, type ToolCard } from "./parts.js";
import { type Pending, pendingFor, refuse, settlePending } from "./pending.js";
import type { ClientMessage, Message, PartEntry, ServerMessage } from "./protocol.js";

export type ReplyPhase = "streaming" | "done" | "error";

/** A token count and the reply's length (text + reasoning, UTF-16 units) when it was true. */
export interface TokenMark {
  readonly tokens: number;
  readonly length: number;
}

export interface LiveReply {
  readonly id: string;
  readonly model: string;
  readonly text: string;
  readonly reasoning: string;
  /** Tool call cards, in the order the calls came (each at its place in `text`). */
  readonly parts: readonly ToolCard[];
  /** Exact when the kernel last counted (`counted`), estimated in between. */
  readonly tokens: number;
  /** The kernel's last exact count, and where counting began (`start` or a snapshot). */
  readonly counted: TokenMark;
  readonly countedFrom: TokenMark;
  /** Last `seq` applied (0 right after `start`). */
  readonly seq: number;
  readonly phase: ReplyPhase;
  /** It holds its cell: a Stop would reach the kernel only after it ended (protocol.ts). */
  readonly blocking: boolean;
  readonly error: { readonly message: string; readonly hint: string } | null;
  /** Local clock (ms) when we first saw the reply; drives the ticking elapsed time. */
  readonly startedAt: number;
  readonly firstTokenAt: number | null;
  readonly finishedAt: number | null;
  /** Content of the committed message with this id when the reply started (a continued
   * reply), so we can tell when `messages` has been rewritten with the result. */
  readonly baseline: string | null;
  /** We know deltas are missing (a gap at `done`): trust `messages` as soon as it has the id. */
  readonly incomplete: boolean;
  /** `messages` changed after the reply finished. */
  readonly committedAfterFinish: boolean;
}

export interface Notice {
  readonly seq: number; // distinguishes two equal notices in a row
  readonly text: string;
  readonly hint: string;
}

export interface ChannelState {
  /** Replies not yet held by `messages`, oldest first; at most the last one streams. */
  readonly replies: readonly LiveReply[];
  /** Reply id we asked a snapshot for; its deltas are ignored until the snapshot. */
  readonly resyncing: string | null;
  readonly notice: Notice | null;
  readonly pending: Pending | null;
  /** Text of a command the kernel refused, for the input box to take back. */
  readonly refused: { readonly seq: number; readonly text: string } | null;
}

export type ChannelInput =
  | ServerMessage
  | { kind: "messages"; messages: readonly Message[] }
  | { kind: "sent"; message: ClientMessage };

export interface ChannelContext {
  now: number;
  messages: readonly Message[];
}

export interface Reduction {
  state: ChannelState;
  /** Messages to send to the kernel. */
  send: ClientMessage[];
}

export const initialChannelState: ChannelState = {
  replies: [],
  resyncing: null,
  notice: null,
  pending: null,
  refused: null,
};

/** Whether the reply streaming now holds its cell, so that only a kernel interrupt stops it. */
export function blocksItsCell(state: ChannelState): boolean {
  return streamingReply(state)?.blocking === true;
}

/** The reply currently streaming, if any. */
export function streamingReply(state: ChannelState): LiveReply | null {
  const last = state.replies[state.replies.length - 1];
  return last !== undefined && last.phase === "streaming" ? last : null;
}

export function reduce(state: ChannelState, input: ChannelInput, ctx: ChannelContext): Reduction {
  const out = step(state, input, ctx);
  return { state: settlePending(settle(out.state, ctx.messages)), send: out.send };
}

function step(state: ChannelState, input: ChannelInput, ctx: ChannelContext): Reduction {
  const same = { state, send: [] };
  switch (input.kind) {
    case "start": {
      const reply = liveReply({
        id: input.id,
        model: input.model ?? "",
        text: input.text ?? "",
        reasoning: input.reasoning ?? "",
        parts: NO_CARDS,
        tokens: 0,
        seq: 0,
        startedAt: ctx.now,
        // A continued reply's first token is the first one it adds.
        firstTokenAt: null,
        baseline: ctx.messages.find((m) => m.id === input.id)?.content ?? null,
        blocking: input.blocking === true,
      });
      const pending =
        state.pending !== null && state.pending.replyId === null
          ? { ...state.pending, replyId: input.id }
          : state.pending;
      return { state: { ...goLive(state, reply, ctx.now), pending }, send: [] };
    }
    case "delta": {
      const reply = findReply(state, input.id);
      if (state.resyncing === input.id) return same;
      if (reply === undefined || reply.phase !== "streaming") {
        // A delta for a reply we never saw start (the start was dropped): ask once.
        if (reply === undefined) return askResync(state, input.id);
        return same;
      }
      if (input.seq <= reply.seq) return same; // duplicate or late
      const text = input.text ?? "";
      const reasoning = input.reasoning ?? "";
      if (
        input.seq !== reply.seq + 1 ||
        (input.text !== undefined && input.offset !== reply.text.length) ||
        (input.reasoning !== undefined && input.reasoning_offset !== reply.reasoning.length)
      ) {
        return askResync(state, input.id);
      }
      const grows = text !== "" || reasoning !== "";
      const length = reply.text.length + text.length + reply.reasoning.length + reasoning.length;
      const counted =
        typeof input.tokens === "number" ? { tokens: input.tokens, length } : reply.counted;
      const next: LiveReply = {
        ...reply,
        text: reply.text + text,
        reasoning: reply.reasoning + reasoning,
        tokens: counted === reply.counted ? estimateTokens(reply, length) : counted.tokens,
        counted,
        seq: input.seq,
        firstTokenAt: reply.firstTokenAt ?? (grows ? ctx.now : null),
      };
      return { state: replace(state, next), send: [] };
    }
    case "part": {
      const reply = findReply(state, input.id);
      if (state.resyncing === input.id) return same;
      if (reply === undefined) return askResync(state, input.id);
      if (reply.phase !== "streaming" || input.seq <= reply.seq) return same;
      if (input.seq !== reply.seq + 1) return askResync(state, input.id);
      const next = { ...reply, parts: applyPart(reply.parts, input), seq: input.seq };
      return { state: replace(state, next), send: [] };
    }
    case "done": {
      const reply = findReply(state, input.id);
      if (reply === undefined || reply.phase !== "streaming") return same;
      if (input.seq < reply.seq) return same; // stale
      // `done` may carry the last delta's seq or the next one. A larger jump means deltas
      // are missing and can no longer be fetched (nothing is in flight any more): the
      // committed message written at finish is the authority then.
      const gap = input.seq > reply.seq + 1 || state.resyncing === input.id;
      const next = finish({ ...reply, seq: input.seq }, "done", ctx.now, gap);
      const resyncing = state.resyncing === input.id ? null : state.resyncing;
      return { state: { ...replace(state, next), resyncing }, send: [] };
    }
    case "error": {
      const reply = input.id === null ? undefined : findReply(state, input.id);
      const error = { message: input.message, hint: input.hint ?? "" };
      if (reply === undefined) {
        // A refused command, or a failure of a reply we never saw start.
        return { state: refuse(withNotice(state, error.message, error.hint)), send: [] };
      }
      if (reply.phase !== "streaming") return same;
      const next = { ...finish(reply, "error", ctx.now, state.resyncing === reply.id), error };
      const resyncing = state.resyncing === reply.id ? null : state.resyncing;
      return { state: { ...replace(state, next), resyncing }, send: [] };
    }
    case "snapshot": {
      if (input.id === null) {
        // Nothing in flight: whatever we thought was streaming has ended.
        const replies = state.replies.map((r) =>
          r.phase === "streaming" ? finish(r, "done", ctx.now, true) : r,
        );
        return { state: { ...state, replies, resyncing: null }, send: [] };
      }
      const prior = findReply(state, input.id);
      if (prior !== undefined && prior.phase !== "streaming") {
        return { state: { ...state, resyncing: null }, send: [] };
      }
      if (prior !== undefined && state.resyncing !== input.id && input.seq <= prior.seq) {
        return same; // an answer to someone else's hello, older than what we hold
      }
      const grows = input.text !== "" || (input.reasoning ?? "") !== "";
      const reply = liveReply({
        id: input.id,
        model: input.model ?? prior?.model ?? "",
        text: input.text,
        reasoning: input.reasoning ?? "",
        parts: cardsFrom(input.parts),
        tokens: input.tokens ?? prior?.tokens ?? 0,
        seq: input.seq,
        startedAt: prior?.startedAt ?? ctx.now,
        firstTokenAt: prior?.firstTokenAt ?? (grows ? ctx.now : null),
        baseline: prior?.baseline ?? null,
        blocking: input.blocking ?? prior?.blocking ?? false,
        // A resync keeps counting from the start, so the rate stays known.
        countedFrom: prior?.countedFrom,
      });
      return { state: goLive(state, reply, ctx.now), send: [] };
    }
    case "notice":
      return { state: refuse(withNotice(state, input.text, "")), send: [] };
    case "sent": {
      // Stop, continue and the like leave an earlier pending command in place.
      const pending = pendingFor(input.message, ctx.messages) ?? state.pending;
      return { state: { ...state, pending }, send: [] };
    }
    case "messages": {
      // Remember that `messages` changed after a reply finished: that change holds it.
      const replies = state.replies.map((r) =>
        r.phase !== "streaming" && !r.committedAfterFinish
          ? { ...r, committedAfterFinish: true }
          : r,
      );
      return { state: { ...state, replies }, send: [] };
    }
  }
}

/** What a reply carries over when it (re)opens: from a `start`, or from a `snapshot`. */
interface Opening
  extends Pick<
    LiveReply,
    "id" | "model" | "text" | "reasoning" | "parts" | "tokens" | "seq" | "blocking"
  > {
  readonly startedAt: number;
  readonly firstTokenAt: number | null;
  readonly baseline: string | null;
  readonly countedFrom?: TokenMark | undefined;
}

/** A streaming reply. Its token count is exact as given: counting goes on from all it holds
 * (reasoning too, as deltas measure it), or from `countedFrom` when that is known. */
function liveReply(opening: Opening): LiveReply {
  const { countedFrom, ...fields } = opening;
  const mark = { tokens: fields.tokens, length: fields.text.length + fields.reasoning.length };
  return {
    ...fields,
    counted: mark,
    countedFrom: countedFrom ?? mark,
    phase: "streaming",
    error: null,
    finishedAt: null,
    incomplete: false,
    committedAfterFinish: false,
  };
}

/** `reply` becomes the one streaming (replacing its earlier self). Another reply still marked
 * streaming will never get its `done` (it was lost): it is finished, to settle against
 * `messages`. */
function goLive(state: ChannelState, reply: LiveReply, now: number): ChannelState {
  const older = state.replies
    .filter((r) => r.id !== reply.id)
    .map((r) => (r.phase === "streaming" ? finish(r, "done", now, true) : r));
  return { ...state, replies: [...older, reply], resyncing: null };
}

/** Drop finished replies that `messages` now holds. */
function settle(state: ChannelState, messages: readonly Message[]): ChannelState {
  const replies = state.replies.filter((r) => !isHeld(r, messages));
  return replies.length === state.replies.length ? state : { ...state, replies };
}

function isHeld(reply: LiveReply, messages: readonly Message[]): boolean {
  if (reply.phase === "streaming") return false;
  const committed = messages.find((m) => m.id === reply.id);
  if (committed === undefined) return false;
  return (
    committed.content === reply.text ||
    committed.content !== reply.baseline ||
    reply.incomplete ||
    reply.committedAfterFinish
  );
}

/** Tokens by `length`, at the rate the kernel's counts have shown so far; never fewer than
 * the count already shown (the next exact count corrects it either way). */
function estimateTokens(reply: LiveReply, length: number): number {
  const { counted, countedFrom: from } = reply;
  const grown = counted.length - from.length;
  if (grown <= 0) return reply.tokens; // no rate yet: hold the count
  const perUnit = (counted.tokens - from.tokens) / grown;
  return Math.max(reply.tokens, counted.tokens + Math.round((length - counted.length) * perUnit));
}

function finish(reply: LiveReply, phase: ReplyPhase, now: number, incomplete: boolean): LiveReply {
  return { ...reply, phase, finishedAt: now, incomplete: reply.incomplete || incomplete };
}

function askResync(state: ChannelState, id: string): Reduction {
  if (state.resyncing === id) return { state, send: [] };
  return { state: { ...state, resyncing: id }, send: [{ kind: "resync", id }] };
}

function findReply(state: ChannelState, id: string): LiveReply | undefined {
  return state.replies.find((r) => r.id === id);
}

function replace(state: ChannelState, next: LiveReply): ChannelState {
  return { ...state, replies: state.replies.map((r) => (r.id === next.id ? next : r)) };
}

function cardsFrom(entries: readonly PartEntry[] | undefined): readonly ToolCard[] {
  let cards = NO_CARDS;
  for (const entry of entries ?? []) if (isPartEntry(entry)) cards = applyPart(cards, entry);
  return cards;
}

function withNotice(state: ChannelState, text: string, hint: string): ChannelState {
  return { ...state, notice: { seq: (state.notice?.seq ?? 0) + 1, text, hint } };
}
