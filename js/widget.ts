// The anywidget entry: wiring and cleanup only.
// `initialize` runs once per model: it owns the live store (shared by every view of that
// model, so a second view mirrors the stream) and greets the kernel, which answers with a
// snapshot of any reply in flight. `render` mounts one view.
// Cleanup: hosts before anywidget 0.11 call the returned function; 0.11 hosts also abort
// `signal`. Either, or both, tear down exactly once.

import "./styles.css";
import type { Initialize, Render } from "@anywidget/types";
import { isCompare } from "./guards.js";
import type { ChatTraits } from "./protocol.js";
import { type ChatModel, createLiveStore, type LiveStore } from "./store.js";
import { mountChat } from "./view/chat.js";
import { type CompareModel, mountCompare } from "./view/compare.js";

interface Entry {
  model: ChatModel;
  store: LiveStore;
}

/** Live stores of initialized models. Usually one: anywidget evaluates this module per model. */
const entries = new Set<Entry>();

/**
 * Whether two model handles are the same model. anywidget hands `initialize` and each
 * `render` a different proxy object, so compare what they read: the list of first messages
 * (`c:`, always in the state; `messages` in notebooks saved before it) is the very same
 * object through every proxy of one model, and never shared between two models.
 */
function sameModel(a: ChatModel, b: ChatModel): boolean {
  if (a === b) return true;
  const key = a.get("c:") !== undefined ? "c:" : "messages";
  const value: unknown = a.get(key);
  return typeof value === "object" && value !== null && value === b.get(key);
}

/** Run `fn` once, on the returned call or when `signal` aborts, whichever comes first. */
function teardown(fn: () => void, signal: AbortSignal | undefined): () => void {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    signal?.removeEventListener("abort", once);
    fn();
  };
  if (signal?.aborted) once();
  else signal?.addEventListener("abort", once, { once: true });
  return once;
}

const initialize: Initialize<ChatTraits> = ({ model, signal }) => {
  // A comparison (the same bundle) has no reply of its own: its columns are Chat models.
  if (isCompare(model)) return () => {};
  const entry = { model, store: createLiveStore(model) };
  entries.add(entry);
  entry.store.send({ kind: "hello" });
  return teardown(() => {
    entry.store.dispose();
    entries.delete(entry);
  }, signal);
};

const render: Render<ChatTraits> = ({ model, el, signal }) => {
  if (isCompare(model)) {
    const controller = new AbortController();
    mountCompare(el, model as unknown as CompareModel, controller.signal);
    return teardown(() => controller.abort(), signal);
  }
  let shared: LiveStore | undefined;
  for (const entry of entries) if (sameModel(entry.model, model)) shared = entry.store;
  // A host that skipped `initialize` still gets a working view, with a store of its own.
  const store = shared ?? createLiveStore(model);
  if (shared === undefined) store.send({ kind: "hello" });
  const controller = new AbortController();
  mountChat(el, model, store, controller.signal);
  return teardown(() => {
    controller.abort();
    if (shared === undefined) store.dispose();
  }, signal);
};

export default { initialize, render };
