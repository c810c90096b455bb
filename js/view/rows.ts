// What the list shows, computed from the committed history and the live state: each message
// once, a live reply in place of the committed message with its id (a continued reply) or
// after the history, and a prompt we sent before the kernel echoes it.

import type { ChannelState } from "../channel.js";
import type { Message } from "../protocol.js";
import type { Row } from "./message.js";

export const PENDING_PROMPT_KEY = "pending:prompt";

export function displayRows(messages: readonly Message[], state: ChannelState): Row[] {
  const live = new Map(state.replies.map((r) => [r.id, r]));
  const pending = state.pending;
  const hidden = new Set(pending?.hides ?? []);
  const lastUser = messages.map((m) => m.role).lastIndexOf("user");
  const editTarget = pending?.target ?? messages[lastUser]?.id;
  const unconfirmed = pending !== null && pending.replyId === null;
  const rows: Row[] = [];

  for (const message of messages) {
    if (message.role === "system") continue;
    const reply = live.get(message.id) ?? null;
    if (reply === null && hidden.has(message.id)) continue;
    const edited = pending?.action === "edit" && message.id === editTarget;
    rows.push({
      key: message.id,
      role: message.role,
      message,
      live: reply,
      pending: edited,
      unconfirmed: edited && unconfirmed,
      text: edited && pending !== null ? pending.text : message.content,
    });
    live.delete(message.id);
  }

  // The prompt we submitted, until the history shows one more user message.
  if (pending?.action === "submit") {
    const users = messages.filter((m) => m.role === "user").length;
    if (users <= pending.userCount) {
      rows.push({
        key: PENDING_PROMPT_KEY,
        role: "user",
        message: null,
        live: null,
        pending: true,
        unconfirmed,
        text: pending.text,
      });
    }
  }

  for (const reply of live.values()) {
    rows.push({
      key: reply.id,
      role: "assistant",
      message: null,
      live: reply,
      pending: false,
      unconfirmed: false,
      text: reply.text,
    });
  }
  return rows;
}
