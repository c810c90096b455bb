// Commands this front end sent whose effect the kernel has not confirmed yet (a prompt, an
// edit, a regenerate): what each will change, shown at once (view/rows.ts draws it), and
// when it ends — refused before any reply started, or its reply settled into `messages`.
// Apart from channel.ts, whose reducer calls these, because they follow our own commands
// rather than the kernel's messages.

import type { ChannelState } from "./channel.js";
import type { ClientMessage, Message } from "./protocol.js";

/** A command this front end sent whose effect `messages` does not show yet. */
export interface Pending {
  readonly action: "submit" | "edit" | "regenerate";
  readonly text: string;
  /** Number of user messages when it was sent (a submitted prompt is shown until then). */
  readonly userCount: number;
  /** Committed messages the command replaces (hidden until the new reply settles). */
  readonly hides: readonly string[];
  /** The reply the kernel started for it, once `start` arrives. */
  readonly replyId: string | null;
  /** The question an edit replaces (shown with the new text until the reply settles). */
  readonly target: string | null;
}

/** What a sent command will change, shown before the kernel confirms it. */
export function pendingFor(message: ClientMessage, messages: readonly Message[]): Pending | null {
  const userCount = messages.filter((m) => m.role === "user").length;
  switch (message.kind) {
    case "submit":
      return {
        action: "submit",
        text: message.text,
        userCount,
        hides: [],
        replyId: null,
        target: null,
      };
    case "edit": {
      // The question edited (by id, else the last one) and everything after it make way.
      const at = message.id === undefined ? -1 : messages.findIndex((m) => m.id === message.id);
      const index = at >= 0 ? at : messages.map((m) => m.role).lastIndexOf("user");
      const hides = index < 0 ? [] : messages.slice(index + 1).map((m) => m.id);
      const target = index < 0 ? null : (messages[index]?.id ?? null);
      return { action: "edit", text: message.text, userCount, hides, replyId: null, target };
    }
    case "regenerate": {
      // The reply answered again (by id, else the last one) and what followed it.
      const at = message.id === undefined ? -1 : messages.findIndex((m) => m.id === message.id);
      const last = messages.length - 1;
      const index = at >= 0 ? at : messages[last]?.role === "assistant" ? last : -1;
      const hides = index < 0 ? [] : messages.slice(index).map((m) => m.id);
      return { action: "regenerate", text: "", userCount, hides, replyId: null, target: null };
    }
    default:
      return null;
  }
}

/** A refusal before the kernel started anything cancels the pending command. */
export function refuse(state: ChannelState): ChannelState {
  const pending = state.pending;
  if (pending === null || pending.replyId !== null) return state;
  // A refused regenerate has nothing to give back; a prompt does, even with no text (its
  // images go back to the tray).
  if (pending.action === "regenerate") return { ...state, pending: null };
  const refused = { seq: (state.refused?.seq ?? 0) + 1, text: pending.text };
  return { ...state, pending: null, refused };
}

/** The pending command is done once the reply it started has settled into `messages`. */
export function settlePending(state: ChannelState): ChannelState {
  const pending = state.pending;
  if (pending === null || pending.replyId === null) return state;
  const replyId = pending.replyId;
  return state.replies.some((r) => r.id === replyId) ? state : { ...state, pending: null };
}
