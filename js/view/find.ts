// The chat's own find. The message list is virtualized (virtual.ts): messages off screen are
// not in the DOM, so the browser's find cannot reach them. This one searches the text of every
// message on the branch shown (the model's state, not the DOM), scrolls the list to the
// message of the current match and marks the match in the rendered message: with the CSS
// Custom Highlight API where the browser has it (no node is added, so the sanitised HTML the
// renderer made stays as it is), else with a class on the message element.
//
// Matches are counted in the message's text (Markdown source for replies); the rendered text
// can differ (math, markup), so the match drawn is the same-numbered one in the rendered text,
// or the last one there, or, when the rendered text has none, the whole message.

import { button, h, setText, show } from "./dom.js";

/** A message as find reads it: its key in the list and its text. */
export interface Searchable {
  readonly key: string;
  readonly text: string;
}

export interface FindHooks {
  /** Bring message `key` into view; it may be mounted only in a later frame. */
  reveal(key: string): void;
  /** The element of message `key`, while it is in the DOM. */
  elementOf(key: string): HTMLElement | undefined;
  /** Where focus goes on close when what had it is gone. */
  fallbackFocus(): HTMLElement;
}

export interface Find {
  /** The bar (hidden until opened). */
  readonly el: HTMLElement;
  /** The toolbar's "Find in chat" button. */
  readonly toggle: HTMLButtonElement;
  /** Ctrl/Cmd+F anywhere inside `root` opens the bar. */
  listen(root: HTMLElement): void;
  open(): void;
  close(): void;
  /** Each drawn frame: the messages shown now, oldest first; keeps count and mark in step. */
  sync(messages: readonly Searchable[]): void;
}

/** Highlight names (styles.css); shared by the chats of a page, each adds its own ranges. */
const ALL = "nbc-find";
const CURRENT = "nbc-find-current";
/** The mark where there is no Custom Highlight API. */
const HIT_CLASS = "is-find-hit";

interface Match {
  key: string;
  /** Which match within its message. */
  nth: number;
}

export function createFind(hooks: FindHooks, signal: AbortSignal): Find {
  const input = h("input", "nbc-find-input", {
    type: "text",
    "aria-label": "Find in chat",
    placeholder: "Find in chat",
    autocomplete: "off",
    spellcheck: "false",
  });
  const count = h("span", "nbc-find-count", {
    role: "status",
    "aria-live": "polite",
    "aria-atomic": "true",
  });
  const step = (by: number): void => go(by);
  const el = h("div", "nbc-find", { role: "search", "aria-label": "Find in chat" }, [
    input,
    count,
    button("nbc-find-btn", "Previous match", "‹", () => step(-1), signal),
    button("nbc-find-btn", "Next match", "›", () => step(1), signal),
    button("nbc-find-btn", "Close find", "×", () => close(), signal),
  ]);
  show(el, false);
  const toggle = button("nbc-btn nbc-btn-quiet", "Find in chat", "Find", () => open(), signal);
  toggle.title = "Find in chat (Ctrl+F)";

  let messages: readonly Searchable[] = [];
  let searched: readonly Searchable[] | null = null; // what `matches` was computed from
  let query = "";
  let matches: Match[] = [];
  let current = -1;
  let returnTo: Element | null = null;
  const lowered = new Map<string, { text: string; lower: string }>();

  // ---- searching -------------------------------------------------------------------------
  const lowerOf = (m: Searchable): string => {
    const hit = lowered.get(m.key);
    if (hit !== undefined && hit.text === m.text) return hit.lower;
    const lower = m.text.toLowerCase();
    lowered.set(m.key, { text: m.text, lower });
    return lower;
  };

  const search = (): void => {
    const keep = matches[current];
    searched = messages;
    matches = [];
    current = -1;
    if (query === "") return;
    for (const m of messages) {
      const text = lowerOf(m);
      let nth = 0;
      for (let at = text.indexOf(query); at >= 0; at = text.indexOf(query, at + query.length)) {
        if (keep !== undefined && keep.key === m.key && keep.nth === nth) current = matches.length;
        matches.push({ key: m.key, nth: nth++ });
      }
    }
    if (current < 0 && matches.length > 0) current = 0;
  };

  const changed = (a: readonly Searchable[], b: readonly Searchable[] | null): boolean => {
    if (b === null || a.length !== b.length) return true;
    for (let i = 0; i < a.length; i++) {
      if (a[i]!.key !== b[i]!.key || a[i]!.text !== b[i]!.text) return true;
    }
    return false;
  };

  const showCount = (): void => {
    const text =
      query === ""
        ? ""
        : matches.length === 0
          ? "No matches"
          : `${current + 1} of ${matches.length}`;
    setText(count, text);
  };

  /** Move to another match (0: the current one again) and bring it into view. */
  const go = (by: number): void => {
    if (matches.length === 0) return;
    current = (current + by + matches.length) % matches.length;
    showCount();
    hooks.reveal(matches[current]!.key);
    mark.dirty = true;
    mark.scroll = true;
    paint();
  };

  // ---- marking ---------------------------------------------------------------------------
  const mark = {
    dirty: false,
    /** The match moved: once drawn, make sure it is in view. */
    scroll: false,
    el: null as HTMLElement | null,
    ranges: [] as Range[],
    observer: null as MutationObserver | null,
  };

  const unmark = (): void => {
    const registry = highlights();
    if (registry !== null) {
      for (const name of [ALL, CURRENT]) {
        const set = registry.get(name);
        for (const range of mark.ranges) set?.delete(range);
      }
    }
    mark.ranges = [];
    mark.el?.classList.remove(HIT_CLASS);
    mark.observer?.disconnect();
    mark.el = null;
  };

  const paint = (): void => {
    const match = el.hidden ? undefined : matches[current];
    const target = match === undefined ? undefined : hooks.elementOf(match.key);
    if (!mark.dirty && target === mark.el && (target === undefined || target.isConnected)) return;
    mark.dirty = false;
    unmark();
    if (match === undefined || target === undefined) return;
    mark.el = target;
    // The renderer fills a message over several tasks: mark again when its text changes.
    mark.observer ??= new MutationObserver(() => {
      mark.dirty = true;
      paint();
    });
    mark.observer.observe(target, { childList: true, subtree: true, characterData: true });
    const ranges = rangesOf(target.querySelector(".nbc-body") ?? target, query);
    const registry = highlights();
    if (registry === null || ranges.length === 0) {
      target.classList.add(HIT_CLASS);
      return;
    }
    const chosen = ranges[Math.min(match.nth, ranges.length - 1)]!;
    for (const range of ranges) highlightOf(registry, range === chosen ? CURRENT : ALL).add(range);
    mark.ranges = ranges;
    if (mark.scroll) mark.scroll = !bringIntoView(chosen);
  };

  /** A long message centred by the list can still hide its match: scroll to the match. */
  const bringIntoView = (range: Range): boolean => {
    const scroller = mark.el?.closest<HTMLElement>(".nbc-scroller");
    const box = range.getBoundingClientRect();
    if (scroller == null || box.height === 0) return false; // no layout (yet)
    const view = scroller.getBoundingClientRect();
    const third = view.height / 3;
    if (box.top < view.top) scroller.scrollTop -= view.top - box.top + third;
    else if (box.bottom > view.bottom) scroller.scrollTop += box.bottom - view.bottom + third;
    return true;
  };

  // ---- opening and closing ---------------------------------------------------------------
  const open = (): void => {
    if (el.hidden) {
      const active = el.ownerDocument.activeElement;
      returnTo = active !== null && !el.contains(active) ? active : null;
      show(el, true);
      toggle.setAttribute("aria-expanded", "true");
      if (query !== "") {
        search();
        showCount();
        go(0);
      }
    }
    input.focus();
    input.select();
  };

  const close = (): void => {
    if (el.hidden) return;
    show(el, false);
    toggle.setAttribute("aria-expanded", "false");
    unmark();
    const back = returnTo instanceof HTMLElement && returnTo.isConnected ? returnTo : null;
    returnTo = null;
    (back ?? hooks.fallbackFocus()).focus();
  };
  toggle.setAttribute("aria-expanded", "false");

  input.addEventListener(
    "input",
    () => {
      query = input.value.toLowerCase();
      search();
      showCount();
      go(0);
      if (matches.length === 0) unmark();
    },
    { signal },
  );
  el.addEventListener(
    "keydown",
    (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      } else if (event.key === "Enter" && event.target === input && !event.isComposing) {
        event.preventDefault();
        go(event.shiftKey ? -1 : 1);
      }
    },
    { signal },
  );
  signal.addEventListener("abort", unmark, { once: true });

  return {
    el,
    toggle,
    listen(root) {
      root.addEventListener(
        "keydown",
        (event) => {
          const f = event.key === "f" || event.key === "F";
          if (f && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
            event.preventDefault(); // the browser's find would miss what is not in the DOM
            open();
          }
        },
        // Capture: the prompt stops its keys from leaving it (notebook shortcuts).
        { signal, capture: true },
      );
    },
    open,
    close,
    sync(next) {
      messages = next;
      if (el.hidden) return;
      if (query !== "" && changed(next, searched)) {
        search();
        showCount();
        mark.dirty = true;
      }
      paint();
    },
  };
}

/** The document's highlight registry, where the browser has the API. */
function highlights(): HighlightRegistry | null {
  const registry = typeof CSS === "undefined" ? undefined : CSS.highlights;
  return registry !== undefined && typeof Highlight === "function" ? registry : null;
}

function highlightOf(registry: HighlightRegistry, name: string): Highlight {
  let set = registry.get(name);
  if (set === undefined) {
    set = new Highlight();
    registry.set(name, set);
  }
  return set;
}

/** Ranges of `query` (lower case) in the text shown under `root`, skipping our buttons. */
function rangesOf(root: Element, query: string): Range[] {
  if (query === "") return [];
  const doc = root.ownerDocument;
  const nodes: Text[] = [];
  const starts: number[] = [];
  let text = "";
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      node.parentElement?.closest("button, .katex-mathml") ? 2 /* reject */ : 1 /* accept */,
  });
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    nodes.push(node as Text);
    starts.push(text.length);
    text += (node as Text).data;
  }
  const lower = text.toLowerCase();
  if (lower.length !== text.length) return []; // case folding moved offsets: mark the message
  const out: Range[] = [];
  let n = 0;
  const locate = (offset: number, end: boolean): [Text, number] => {
    // Nodes are in order and offsets grow: move forward from the last one found.
    while (n + 1 < nodes.length && (end ? starts[n + 1]! < offset : starts[n + 1]! <= offset)) n++;
    return [nodes[n]!, offset - starts[n]!];
  };
  for (let at = lower.indexOf(query); at >= 0; at = lower.indexOf(query, at + query.length)) {
    const range = doc.createRange();
    range.setStart(...locate(at, false));
    range.setEnd(...locate(at + query.length, true));
    out.push(range);
  }
  return out;
}
