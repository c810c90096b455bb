// Tool call cards as data: what the live reply's `part` messages and a committed message's
// `parts` say about each call. Pure functions; the view draws them (view/tools.ts) at their
// place in the text (view/segments.ts).

import type { Message, PartEntry, ToolCallPart, ToolResultPart, ToolStatus } from "./protocol.js";

export interface ToolCard {
  readonly id: string; // the call's id
  readonly at: number; // UTF-16 offset in the reply's text where the card sits
  readonly name: string;
  readonly arguments: string; // JSON text as the model wrote it
  readonly status: ToolStatus;
  /** No "Always allow" for this tool: it asks every time. */
  readonly alwaysAsk: boolean;
  readonly result: ToolResultPart | null;
}

export const NO_CARDS: readonly ToolCard[] = [];

/** `cards` with `entry` applied: a call's status replaces the earlier one, a result
 * completes its card (and sets its final status). */
export function applyPart(cards: readonly ToolCard[], entry: PartEntry): readonly ToolCard[] {
  const part = entry.part;
  const id = part.type === "tool_call" ? part.id : part.call_id;
  const index = cards.findIndex((c) => c.id === id);
  const prior = index < 0 ? null : cards[index];
  let card: ToolCard;
  if (part.type === "tool_call") {
    card = {
      id,
      at: prior?.at ?? entry.at,
      name: part.name,
      arguments: part.arguments,
      // A result already in says how it ended; a late status must not undo that.
      status: prior?.result ? prior.status : part.status,
      alwaysAsk: part.always_ask === true,
      result: prior?.result ?? null,
    };
  } else {
    card = {
      id,
      at: prior?.at ?? entry.at,
      name: prior?.name ?? part.name,
      arguments: prior?.arguments ?? "",
      status: part.status ?? "done",
      alwaysAsk: prior?.alwaysAsk ?? false,
      result: part,
    };
  }
  if (index < 0) return [...cards, card];
  const next = cards.slice();
  next[index] = card;
  return next;
}

/** The cards of a committed message, at their place in its text. */
export function cardsOf(message: Message | null): readonly ToolCard[] {
  const parts = message?.parts;
  if (parts === undefined || !parts.some((p) => p.type === "tool_call")) return NO_CARDS;
  const results = new Map<string, ToolResultPart>();
  for (const part of parts) if (part.type === "tool_result") results.set(part.call_id, part);
  const cards: ToolCard[] = [];
  let at = 0;
  for (const part of parts) {
    if (part.type === "text") at += part.text.length;
    else if (part.type === "tool_call") cards.push(committedCard(part, at, results.get(part.id)));
  }
  return cards;
}

function committedCard(
  call: ToolCallPart,
  at: number,
  result: ToolResultPart | undefined,
): ToolCard {
  return {
    id: call.id,
    at,
    name: call.name,
    arguments: call.arguments,
    status: result?.status ?? "stopped",
    alwaysAsk: false,
    result: result ?? null,
  };
}

/** Whether any card waits for the user's answer. */
export function awaitsApproval(cards: readonly ToolCard[]): boolean {
  return cards.some((c) => c.status === "waiting");
}
