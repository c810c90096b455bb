// The committed conversation as the widget's state holds it (src/nbchat/widget/_history.py):
// one key per message, `m:<id>` → the message; `c:<id>` → the ids of its children in order
// (`c:` for the first messages); `leaf` → the last message of the branch on screen. The view
// draws the branch: `parent` walked from `leaf`. A turn changes a few keys, never the rest,
// so the objects of unchanged messages stay the same (views compare them by identity).
//
// Notebooks saved by nbchat before per-message state hold a `messages` list and no `leaf`:
// that list is the branch then.

import { asMessages } from "./guards.js";
import type { Message } from "./protocol.js";

export const MESSAGE_KEY = "m:";
export const CHILDREN_KEY = "c:";

/** What reading the history needs of a model. */
export interface StateReader {
  get(key: string): unknown;
}

function isMessage(value: unknown): value is Message {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.id === "string" && typeof m.role === "string" && typeof m.content === "string";
}

/** The message with `id`, or null (unknown, or left the conversation). */
export function messageOf(model: StateReader, id: string): Message | null {
  const value = model.get(MESSAGE_KEY + id);
  return isMessage(value) ? value : null;
}

/** The ids of `id`'s children, in order (`null`: the first messages). */
export function childrenOf(model: StateReader, id: string | null): string[] {
  const value = model.get(CHILDREN_KEY + (id ?? ""));
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/**
 * The versions of `message`: it and its siblings (the children of its parent), in order,
 * when there are several — what a ‹ 2/3 › switcher steps through. null: only one.
 */
export function versionsOf(
  model: StateReader,
  message: Message,
): { ids: string[]; index: number } | null {
  const parent = typeof message.parent === "string" ? message.parent : null;
  const ids = childrenOf(model, parent);
  const index = ids.indexOf(message.id);
  return ids.length > 1 && index >= 0 ? { ids, index } : null;
}

/** The branch on screen, oldest first. */
export function readBranch(model: StateReader): Message[] {
  const leaf = model.get("leaf");
  if (typeof leaf !== "string") return asMessages(model.get("messages"));
  const out: Message[] = [];
  const seen = new Set<string>();
  let at: string | null = leaf === "" ? null : leaf;
  while (at !== null && !seen.has(at)) {
    seen.add(at);
    const message = messageOf(model, at);
    if (message === null) break; // the rest is not shown (a view of part of a history)
    out.push(message);
    at = typeof message.parent === "string" ? message.parent : null;
  }
  return out.reverse();
}

/** Whether two branches hold the very same message objects (nothing to redraw). */
export function sameBranch(a: readonly Message[], b: readonly Message[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The branch of `model`, kept up to date: read again on every change of the model (a walk of
 * a few thousand lookups at most), and reported only when it holds other messages.
 */
export interface BranchReader {
  current(): Message[];
  /** Read the model again; true when the branch changed. */
  refresh(): boolean;
}

export function branchReader(model: StateReader): BranchReader {
  let branch = readBranch(model);
  return {
    current: () => branch,
    refresh() {
      const next = readBranch(model);
      if (sameBranch(next, branch)) return false;
      branch = next;
      return true;
    },
  };
}
