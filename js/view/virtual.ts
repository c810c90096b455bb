// The settled part of the message list, virtualized: only the messages on screen (plus a
// margin) are in the DOM, so a chat of a thousand turns costs what a short one costs to lay
// out, style and open. Heights are measured as messages render (@tanstack/virtual-core,
// measureElement with a ResizeObserver) and remembered by message id; a message never seen
// is estimated from its length, once: the virtualizer asks again for every row after the
// first changed one (each time the count changes, for all of them), and re-reading a long
// conversation's text on every turn was O(conversation) work, so an estimate is kept by
// message id and redone only when that row's text changes.
//
// The reply in flight is not in here: it lives in the live region below (list.ts), in normal
// flow, so its growth never makes the virtualizer shift the scroll position. When it is
// committed its view moves in here, with the height it already has, so nothing jumps.

import {
  elementScroll,
  measureElement,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
} from "@tanstack/virtual-core";
import type { MessageView, Row } from "./message.js";

/** Messages kept beyond each edge of the viewport. */
const OVERSCAN = 3;
/** A message never drawn: about this many pixels, plus a line per this many characters. */
const BASE_PX = 64;
const CHARS_PER_LINE = 90;
const LINE_PX = 22;
const MAX_ESTIMATE_PX = 4000;
/** The viewport assumed while the list has no layout yet (not attached, or no layout at all
 * as in jsdom): the view is complete when it is first drawn, as far as this reaches. */
const UNLAID_HEIGHT_PX = 800;

/** `observeElementRect`, with a height assumed while the element has none. */
const observeRect: typeof observeElementRect = (instance, cb) =>
  observeElementRect(instance, (rect) =>
    cb(rect.height > 0 ? rect : { width: rect.width, height: UNLAID_HEIGHT_PX }),
  );

export interface VirtualHooks {
  /** A view for `row` (it renders itself; time-sliced by the renderer). */
  create(row: Row): MessageView;
  /** Redraw `view` for `row` (positions change the actions a message offers). */
  update(view: MessageView, row: Row): void;
  /** Something moved (a scroll, a measured size): draw again in the next frame. */
  changed(): void;
}

export class VirtualList {
  /** The element holding the mounted messages; as tall as all of them. */
  readonly el: HTMLElement;
  private rows: readonly Row[] = [];
  private readonly index = new Map<string, number>();
  private readonly views = new Map<string, MessageView>();
  /** Each row's estimated height, with the text it was estimated from. */
  private readonly estimates = new Map<string, { text: string; px: number }>();
  private readonly virtualizer: Virtualizer<HTMLElement, HTMLElement>;
  private margin = 0;
  private unmount: () => void;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly hooks: VirtualHooks,
    signal: AbortSignal,
  ) {
    const doc = scroller.ownerDocument;
    this.el = doc.createElement("div");
    this.el.className = "nbc-virtual";
    this.virtualizer = new Virtualizer<HTMLElement, HTMLElement>({
      count: 0,
      getScrollElement: () => this.scroller,
      estimateSize: (i) => this.estimate(i),
      getItemKey: (i) => this.rows[i]?.key ?? i,
      overscan: OVERSCAN,
      // Open at the end, where a chat is read from (stick-to-bottom keeps it there).
      initialOffset: () => Number.MAX_SAFE_INTEGER / 2,
      scrollToFn: elementScroll,
      observeElementRect: observeRect,
      observeElementOffset,
      measureElement,
      onChange: () => this.hooks.changed(),
    });
    this.unmount = this.virtualizer._didMount();
    signal.addEventListener(
      "abort",
      () => {
        this.unmount();
        for (const view of this.views.values()) view.destroy();
        this.views.clear();
      },
      { once: true },
    );
  }

  /** How many messages are in the DOM. */
  get mounted(): number {
    return this.views.size;
  }

  /** The mounted view of `key`, if it is mounted. */
  viewOf(key: string): MessageView | undefined {
    return this.views.get(key);
  }

  /** The settled rows, oldest first. */
  setRows(rows: readonly Row[], layout: { margin: number; gap: number }): void {
    this.rows = rows;
    this.index.clear();
    for (const [i, row] of rows.entries()) this.index.set(row.key, i);
    // Forget rows that left (a clear, an edit, another branch): the cache stays as big as
    // the list.
    if (this.estimates.size > rows.length) {
      for (const key of this.estimates.keys()) if (!this.index.has(key)) this.estimates.delete(key);
    }
    this.margin = layout.margin;
    this.virtualizer.setOptions({
      ...this.virtualizer.options,
      count: rows.length,
      scrollMargin: layout.margin,
      gap: layout.gap,
    });
  }

  /**
   * Take over the view of a message that just settled (it was the live reply): it keeps its
   * nodes and its height. Call after `setRows` listed it.
   */
  adopt(view: MessageView): void {
    const i = this.index.get(view.el.dataset.key ?? "");
    if (i === undefined) {
      view.destroy();
      return;
    }
    this.views.get(this.rows[i]!.key)?.destroy();
    this.views.set(this.rows[i]!.key, view);
    view.el.classList.add("is-virtual");
    this.el.append(view.el);
    this.virtualizer.resizeItem(i, view.el.getBoundingClientRect().height);
  }

  /** Mount what is in range, unmount the rest, place and update the mounted views. */
  draw(): void {
    const v = this.virtualizer;
    v._willUpdate();
    const items = v.getVirtualItems();
    const keep = new Set<string>();
    const drawn: [MessageView, Row][] = [];
    for (const item of items) {
      const row = this.rows[item.index];
      if (row === undefined) continue;
      keep.add(row.key);
      let view = this.views.get(row.key);
      if (view === undefined) {
        view = this.hooks.create(row);
        view.el.dataset.key = row.key;
        view.el.classList.add("is-virtual");
        this.views.set(row.key, view);
      }
      drawn.push([view, row]);
      const el = view.el;
      el.dataset.index = String(item.index);
      const top = `translateY(${item.start - this.margin}px)`;
      if (el.style.transform !== top) el.style.transform = top;
      if (el.parentNode !== this.el) this.el.append(el);
    }
    // Last first: the paced renderer gives its frame's room to whoever asks first, and a
    // chat opens at its end (scrolled up, the rows just mounted above are nearest the view
    // from the bottom of them up too).
    for (let i = drawn.length - 1; i >= 0; i--) {
      const [view, row] = drawn[i]!;
      this.hooks.update(view, row);
      v.measureElement(view.el);
    }
    for (const [key, view] of this.views) {
      if (keep.has(key)) continue;
      view.destroy();
      this.views.delete(key);
    }
    const height = `${v.getTotalSize()}px`; // items start at the margin; this excludes it
    if (this.el.style.height !== height) this.el.style.height = height;
  }

  /** Scroll so that the message `key` is in view (`align` as the virtualizer takes it). */
  scrollTo(key: string, align: "start" | "center" | "end" | "auto" = "center"): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.virtualizer.scrollToIndex(i, { align });
    return true;
  }

  private estimate(i: number): number {
    const row = this.rows[i];
    if (row === undefined) return BASE_PX;
    const text = row.message?.content ?? row.text;
    const known = this.estimates.get(row.key);
    // The same string (usually the same object: one comparison) is the same estimate.
    if (known !== undefined && known.text === text) return known.px;
    const px = estimateHeight(text);
    this.estimates.set(row.key, { text, px });
    return px;
  }
}

/** A message's height before it is drawn, from its text: a line per paragraph and per
 * CHARS_PER_LINE characters of it. */
function estimateHeight(text: string): number {
  let lines = 0;
  for (const paragraph of text.split("\n")) {
    lines += Math.max(1, Math.ceil(paragraph.length / CHARS_PER_LINE));
  }
  return Math.min(MAX_ESTIMATE_PX, BASE_PX + lines * LINE_PX);
}
