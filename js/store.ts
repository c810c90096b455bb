// The model-level live store: one per widget model, shared by every view of it.
// It owns the `msg:custom` listener (registered in `initialize`, so no message is missed while
// no view exists) and runs the channel reducer; views subscribe and redraw.

import type { AnyModel } from "@anywidget/types";
import { type ChannelInput, type ChannelState, initialChannelState, reduce } from "./channel.js";
import { isServerMessage } from "./guards.js";
import { branchReader, type StateReader } from "./history.js";
import type { ChatTraits, ClientMessage, Message } from "./protocol.js";

export type ChatModel = AnyModel<ChatTraits>;

export interface LiveStore {
  readonly state: ChannelState;
  /** The committed branch on screen, as the model's per-message keys hold it now. */
  messages(): Message[];
  /** Call `listener` after every state change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Send a command to the kernel (and note it, so the views can show it at once), with
   * `buffers` as the comm message's binary buffers (a submit's images). */
  send(message: ClientMessage, buffers?: ArrayBuffer[]): void;
  dispose(): void;
}

export function createLiveStore(
  model: ChatModel,
  now: () => number = () => performance.now(),
): LiveStore {
  let state = initialChannelState;
  let disposed = false;
  const listeners = new Set<() => void>();
  const branch = branchReader(model as unknown as StateReader);
  const messages = (): Message[] => branch.current();

  const dispatch = (input: ChannelInput): void => {
    const out = reduce(state, input, { now: now(), messages: messages() });
    for (const message of out.send) model.send(message);
    // A new history is news to the views even when the live state stays the same.
    if (out.state === state && input.kind !== "messages") return;
    state = out.state;
    for (const listener of [...listeners]) listener();
  };

  const onCustom = (content: unknown): void => {
    if (isServerMessage(content)) dispatch(content);
  };
  // Any change of the model (one update from the kernel is one "change") may touch the
  // history keys; the walk is cheap, and only a different branch is news.
  const onChange = (): void => {
    if (branch.refresh()) dispatch({ kind: "messages", messages: messages() });
  };
  model.on("msg:custom", onCustom);
  model.on("change", onChange);

  return {
    get state() {
      return state;
    },
    messages,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    send(message, buffers) {
      if (disposed) return;
      if (buffers === undefined || buffers.length === 0) model.send(message);
      else model.send(message, undefined, buffers);
      dispatch({ kind: "sent", message });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      model.off("msg:custom", onCustom);
      model.off("change", onChange);
      listeners.clear();
    },
  };
}
