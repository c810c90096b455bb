// Test doubles for the widget: a FakeModel with the anywidget model surface, a manual
// animation-frame queue, and a tracker that counts every listener, observer, frame and timer
// still registered (to prove teardown leaves nothing behind).

import { afterEach, beforeEach, vi } from "vitest";
import { drainPaced } from "../../js/markdown/paced.js";
import type { ChatTraits, Message, ServerMessage } from "../../js/protocol.js";
import type { ChatModel } from "../../js/store.js";
import widget from "../../js/widget.js";

type Handler = (...args: unknown[]) => void;

/**
 * A chat's state. `messages` (a branch, oldest first) becomes the per-message keys the kernel
 * sends (`m:<id>`, `c:<id>`, `leaf`; see js/history.ts); pass `legacy: true` for the `messages`
 * list a notebook saved before per-message state holds instead.
 */
export function traits(overrides: Partial<ChatTraits> & { legacy?: boolean } = {}): ChatTraits {
  const { legacy = false, messages = [], ...rest } = overrides;
  const base: ChatTraits = {
    status: "idle",
    model: "ollama:llama3.2",
    theme: "auto",
    height: "520px",
    compact: false,
    placeholder: "",
  };
  const history = legacy ? { messages } : historyKeys(messages);
  return { ...base, ...history, ...rest } as ChatTraits;
}

/** The per-message keys for `messages` (one branch), as the kernel sends them. */
export function historyKeys(messages: readonly Message[]): Partial<ChatTraits> {
  const out: Record<string, unknown> = { "c:": [], leaf: "" };
  let parent: string | null = null;
  for (const message of messages) {
    out[`m:${message.id}`] = { ...message, parent };
    out[`c:${parent ?? ""}`] = [message.id];
    parent = message.id;
  }
  out.leaf = parent ?? "";
  return out as Partial<ChatTraits>;
}

/** The anywidget model surface (get/set/on/off/send/save_changes) plus kernel-side helpers. */
export class FakeModel {
  readonly sent: unknown[] = [];
  /** The binary buffers of each sent message (same index as `sent`; empty: none). */
  readonly sentBuffers: unknown[][] = [];
  private readonly handlers = new Map<string, Set<Handler>>();
  widget_manager = { get_model: async () => this as unknown as ChatModel };

  constructor(public state: ChatTraits = traits()) {}

  get<K extends keyof ChatTraits>(key: K): ChatTraits[K] {
    return this.state[key];
  }

  set<K extends keyof ChatTraits>(key: K, value: ChatTraits[K]): void {
    this.state = { ...this.state, [key]: value };
    this.emit(`change:${String(key)}`);
    this.emit("change"); // as Backbone does after the attribute events of one set()
  }

  on(event: string, handler: Handler): void {
    let set = this.handlers.get(event);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler);
  }

  off(event?: string | null, handler?: Handler | null): void {
    for (const [name, set] of this.handlers) {
      if (event != null && name !== event) continue;
      if (handler == null) set.clear();
      else set.delete(handler);
    }
  }

  send(content: unknown, _callbacks?: unknown, buffers?: unknown[]): void {
    this.sent.push(content);
    this.sentBuffers.push(buffers ?? []);
  }

  save_changes(): void {}

  // ---- kernel side ----

  /** The kernel sends a custom message (with binary `buffers`, as DataViews arrive). */
  push(message: ServerMessage | Record<string, unknown>, buffers: DataView[] = []): void {
    this.emit("msg:custom", message, buffers);
  }

  /** The kernel changes a trait. */
  kernelSet<K extends keyof ChatTraits>(key: K, value: ChatTraits[K]): void {
    this.set(key, value);
  }

  /**
   * The kernel shows `messages` (a branch) in one update, as `_history.py` sends it: the keys
   * that changed, keys of messages that left as null, and `leaf`.
   */
  kernelShow(messages: readonly Message[]): void {
    const next = historyKeys(messages) as Record<string, unknown>;
    const state = this.state as unknown as Record<string, unknown>;
    const changed: Record<string, unknown> = {};
    for (const key of Object.keys(state)) {
      if ((key.startsWith("m:") || key.startsWith("c:")) && !(key in next)) changed[key] = null;
    }
    for (const [key, value] of Object.entries(next)) {
      if (JSON.stringify(state[key]) !== JSON.stringify(value)) changed[key] = value;
    }
    this.state = { ...this.state, ...changed, leaf: next.leaf } as ChatTraits;
    for (const key of Object.keys(changed)) this.emit(`change:${key}`);
    this.emit("change");
  }

  /** Messages of `kind` the front end sent. */
  sentOf(kind: string): Record<string, unknown>[] {
    return this.sent.filter(
      (m): m is Record<string, unknown> =>
        typeof m === "object" && m !== null && (m as { kind?: unknown }).kind === kind,
    );
  }

  listenerCount(event?: string): number {
    let n = 0;
    for (const [name, set] of this.handlers) {
      if (event === undefined || name === event) n += set.size;
    }
    return n;
  }

  get asModel(): ChatModel {
    return this as unknown as ChatModel;
  }

  /** A new handle on this model, as anywidget 0.11 gives each of initialize/render one. */
  proxy(): ChatModel {
    return {
      get: (key: keyof ChatTraits) => this.get(key),
      set: (key: keyof ChatTraits, value: never) => this.set(key, value),
      on: (event: string, handler: Handler) => this.on(event, handler),
      off: (event?: string | null, handler?: Handler | null) => this.off(event, handler),
      send: (content: unknown, callbacks?: unknown, buffers?: unknown[]) =>
        this.send(content, callbacks, buffers),
      save_changes: () => this.save_changes(),
      widget_manager: this.widget_manager,
    } as unknown as ChatModel;
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const handler of [...(this.handlers.get(event) ?? [])]) handler(...args);
  }
}

// ---- messages ------------------------------------------------------------------------------

export function user(id: string, content: string): Message {
  return { id, role: "user", content };
}

export function assistant(id: string, content: string, meta: Message["meta"] = {}): Message {
  return { id, role: "assistant", content, meta: { model: "ollama:llama3.2", ...meta } };
}

/** Deltas for `parts`, numbered from `seq`, with offsets continuing from `offset`. */
export function deltas(id: string, parts: string[], seq = 1, offset = 0): ServerMessage[] {
  const out: ServerMessage[] = [];
  let at = offset;
  parts.forEach((text, i) => {
    out.push({
      kind: "delta",
      id,
      seq: seq + i,
      offset: at,
      text,
      reasoning_offset: 0,
      reasoning: "",
      tokens: seq + i,
    });
    at += text.length;
  });
  return out;
}

/** The kernel's snapshot of reply `id` after `seq` messages. */
export function snapshot(id: string, seq: number, text: string, reasoning = ""): ServerMessage {
  return { kind: "snapshot", id, seq, text, reasoning, model: "ollama:m", tokens: seq };
}

/** One delta of answer text and/or reasoning, at the given offsets. */
export function delta(
  id: string,
  seq: number,
  at: { text?: string; offset?: number; reasoning?: string; reasoningOffset?: number },
): ServerMessage {
  return {
    kind: "delta",
    id,
    seq,
    offset: at.offset ?? 0,
    text: at.text ?? "",
    reasoning_offset: at.reasoningOffset ?? 0,
    reasoning: at.reasoning ?? "",
    tokens: seq,
  };
}

// ---- animation frames ----------------------------------------------------------------------

export interface Frames {
  /** Run the frames requested so far, `ms` (default 100) after the last ones. */
  flush(ms?: number): number;
  pending(): number;
  /** The fake `performance.now()`, in ms; tests may set it. */
  now: number;
}

/** Replace requestAnimationFrame with a queue the test flushes by hand, on a fake clock. */
export function manualFrames(): Frames {
  let next = 1;
  const clock = { now: 0 };
  vi.spyOn(performance, "now").mockImplementation(() => clock.now);
  const queue = new Map<number, FrameRequestCallback>();
  vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => {
    const id = next++;
    queue.set(id, cb);
    return id;
  });
  vi.stubGlobal("cancelAnimationFrame", (id: number) => {
    queue.delete(id);
  });
  return {
    get now() {
      return clock.now;
    },
    set now(ms: number) {
      clock.now = ms;
    },
    flush(ms = 100) {
      clock.now += ms;
      let ran = 0;
      // Frames requested while flushing wait for the next flush, as in a browser.
      const batch = [...queue.entries()];
      queue.clear();
      for (const [, cb] of batch) {
        cb(performance.now());
        ran++;
      }
      drainPaced(); // what the renderers spread over later tasks, done by the frame's end
      return ran;
    },
    pending: () => queue.size,
  };
}

// ---- resource tracking ---------------------------------------------------------------------

interface ListenerRecord {
  target: EventTarget;
  type: string;
  listener: EventListenerOrEventListenerObject;
  capture: boolean;
}

export interface Tracker {
  listeners(): ListenerRecord[];
  observers(): number;
  intervals(): number;
  timeouts(): number;
  restore(): void;
}

/** Our sources' folder, as stack frames spell it ("/…/js/"). */
const SOURCES = import.meta.url.replace(/^file:\/\//, "").replace(/tests\/js\/[^/]+$/, "js/");

/** Count DOM listeners, observers, intervals and timeouts registered from now on. */
export function trackResources(): Tracker {
  const records = new Set<ListenerRecord>();
  const proto = EventTarget.prototype;
  const add = proto.addEventListener;
  const remove = proto.removeEventListener;
  const capture = (o: boolean | AddEventListenerOptions | undefined): boolean =>
    typeof o === "boolean" ? o : (o?.capture ?? false);

  proto.addEventListener = function (this: EventTarget, type, listener, options) {
    // Only what our sources register: jsdom's selector engine adds window listeners lazily.
    const caller = (new Error().stack ?? "").split("\n")[2] ?? "";
    if (listener !== null && caller.includes(SOURCES)) {
      const record: ListenerRecord = { target: this, type, listener, capture: capture(options) };
      records.add(record);
      const signal = typeof options === "object" ? options.signal : undefined;
      // The signal may not be one of jsdom's EventTargets: use its own method.
      signal?.addEventListener("abort", () => records.delete(record), { once: true });
    }
    add.call(this, type, listener, options);
  };
  proto.removeEventListener = function (this: EventTarget, type, listener, options) {
    for (const r of records) {
      const same = r.target === this && r.type === type && r.listener === listener;
      if (same && r.capture === capture(options)) records.delete(r);
    }
    remove.call(this, type, listener, options);
  };

  let observing = 0;
  const RealMutationObserver = globalThis.MutationObserver;
  class CountingMutationObserver extends RealMutationObserver {
    private counted = false;
    override observe(target: Node, options?: MutationObserverInit): void {
      if (!this.counted) observing++;
      this.counted = true;
      super.observe(target, options);
    }
    override disconnect(): void {
      if (this.counted) observing--;
      this.counted = false;
      super.disconnect();
    }
  }
  // Counted while it observes something: unobserving its last target frees it as
  // disconnecting does (what @tanstack/virtual-core's cleanup does).
  class CountingObserver {
    private readonly targets = new Set<unknown>();
    constructor(readonly callback: unknown) {}
    observe(target: unknown): void {
      if (this.targets.size === 0) observing++;
      this.targets.add(target);
    }
    unobserve(target: unknown): void {
      if (this.targets.delete(target) && this.targets.size === 0) observing--;
    }
    disconnect(): void {
      if (this.targets.size > 0) observing--;
      this.targets.clear();
    }
    takeRecords(): [] {
      return [];
    }
  }
  vi.stubGlobal("MutationObserver", CountingMutationObserver);
  vi.stubGlobal("ResizeObserver", CountingObserver);
  vi.stubGlobal("IntersectionObserver", CountingObserver);

  const intervals = new Set<unknown>();
  const timeouts = new Set<unknown>();
  const realSetInterval = globalThis.setInterval;
  const realClearInterval = globalThis.clearInterval;
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  vi.stubGlobal("setInterval", ((fn: () => void, ms?: number) => {
    const id = realSetInterval(fn, ms);
    intervals.add(id);
    return id;
  }) as typeof setInterval);
  vi.stubGlobal("clearInterval", ((id: unknown) => {
    intervals.delete(id);
    realClearInterval(id as Parameters<typeof clearInterval>[0]);
  }) as typeof clearInterval);
  vi.stubGlobal("setTimeout", ((fn: () => void, ms?: number) => {
    const id: unknown = realSetTimeout(() => {
      timeouts.delete(id);
      fn();
    }, ms);
    timeouts.add(id);
    return id;
  }) as typeof setTimeout);
  vi.stubGlobal("clearTimeout", ((id: unknown) => {
    timeouts.delete(id);
    realClearTimeout(id as Parameters<typeof clearTimeout>[0]);
  }) as typeof clearTimeout);

  return {
    // Listeners on an aborted signal can never fire again: they do not count.
    listeners: () =>
      [...records].filter((r) => !(r.target instanceof AbortSignal && r.target.aborted)),
    observers: () => observing,
    intervals: () => intervals.size,
    timeouts: () => timeouts.size,
    restore() {
      proto.addEventListener = add;
      proto.removeEventListener = remove;
      vi.unstubAllGlobals();
    },
  };
}

// ---- mounting ------------------------------------------------------------------------------

export interface Mounted {
  el: HTMLElement;
  root: HTMLElement;
  cleanup: () => void;
  signal: AbortController;
}

/** `initialize` for a model; returns its cleanup. */
export function initializeModel(model: FakeModel, signal?: AbortSignal): () => void {
  const out = widget.initialize({
    model: model.proxy(),
    signal: signal ?? new AbortController().signal,
    experimental: { invoke: async () => [undefined as never, []] },
  });
  if (typeof out !== "function") throw new Error("initialize must return its cleanup");
  return out as () => void;
}

/** `render` one view of `model` into a fresh element attached to the document. */
export function renderView(model: FakeModel): Mounted {
  const el = document.createElement("div");
  document.body.append(el);
  const signal = new AbortController();
  const out = widget.render({
    model: model.proxy(),
    el,
    signal: signal.signal,
    host: {
      getWidget: async () => {
        throw new Error("unused");
      },
      getModel: async () => {
        throw new Error("unused");
      },
    },
    experimental: { invoke: async () => [undefined as never, []] },
  });
  if (typeof out !== "function") throw new Error("render must return its cleanup");
  const root = el.querySelector<HTMLElement>(".nbc-root");
  if (root === null) throw new Error("no .nbc-root rendered");
  return { el, root, cleanup: out as () => void, signal };
}

/** What {@link mountEachTest} gives a test file. */
export interface MountedEachTest {
  /** The running test's manual animation frames (new for each test). */
  readonly frames: Frames;
  /** `initialize` a model and `render` one view of it; both are cleaned up after the test. */
  mount(model?: FakeModel): { model: FakeModel; view: Mounted };
  /** Run `cleanup` after the test, before what was registered earlier. */
  defer(cleanup: () => void): void;
  /** Clean up now what the test mounted and deferred, and empty the document. */
  unmountAll(): void;
}

/**
 * Register the `beforeEach`/`afterEach` of a file of widget tests: manual animation frames
 * for each test; afterwards every mounted view and model cleaned up (the last first), the
 * document emptied and mocks and stubbed globals restored.
 */
export function mountEachTest(): MountedEachTest {
  let current: Frames | undefined;
  const cleanups: (() => void)[] = [];
  const active = (): Frames => {
    if (current === undefined) throw new Error("frames exist only while a test runs");
    return current;
  };
  // One object for the whole file, so tests can hold it; it acts on the running test's frames.
  const frames: Frames = {
    flush: (ms) => active().flush(ms),
    pending: () => active().pending(),
    get now() {
      return active().now;
    },
    set now(ms: number) {
      active().now = ms;
    },
  };
  const unmountAll = (): void => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    document.body.innerHTML = "";
  };
  beforeEach(() => {
    current = manualFrames();
  });
  afterEach(() => {
    unmountAll();
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    current = undefined;
  });
  return {
    frames,
    mount(model = new FakeModel()) {
      cleanups.push(initializeModel(model));
      const view = renderView(model);
      cleanups.push(view.cleanup);
      return { model, view };
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
    unmountAll,
  };
}

export function press(
  target: HTMLElement,
  key: string,
  init: KeyboardEventInit = {},
): KeyboardEvent {
  const event = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(event);
  return event;
}
