// The messages on screen, one MessageView per row. Settled rows live in the virtual list
// (virtual.ts); the reply in flight and a prompt not yet committed follow it in normal flow,
// so their growth never shifts what is above, and a reply that commits keeps its view (and
// height) as it moves into the virtual list. Apart from chat.ts, which decides when to draw
// and what each row offers; this decides which view draws a row, and where it sits.

import { h, show } from "./dom.js";
import { type MessageActions, MessageView, type Row, type RowPlace } from "./message.js";
import { VirtualList } from "./virtual.js";

type Layout = { margin: number; gap: number };

export class MessageList {
  private readonly liveRegion: HTMLElement;
  private readonly virtual: VirtualList;
  private readonly liveViews = new Map<string, MessageView>();
  // The list's padding and gap, which the virtualizer lays messages out with.
  private layout: Layout | null = null;
  // Where each row sits (which actions it offers) and the time, for this frame's updates.
  private placeOf: (row: Row) => RowPlace = () => ({
    lastAssistant: false,
    lastUser: false,
    busy: false,
    hold: false,
    versions: null,
  });
  private frameTime = 0;

  /** Views go into `list`, which scrolls in `scroller`; `changed` asks for another frame. */
  constructor(
    private readonly list: HTMLElement,
    scroller: HTMLElement,
    private readonly actions: MessageActions,
    changed: () => void,
    signal: AbortSignal,
  ) {
    this.liveRegion = h("div", "nbc-live");
    this.virtual = new VirtualList(
      scroller,
      {
        create: (row) => new MessageView(row, actions),
        update: (view, row) => view.update(row, this.placeOf(row), this.frameTime),
        changed,
      },
      signal,
    );
    list.append(this.virtual.el, this.liveRegion);
    signal.addEventListener(
      "abort",
      () => {
        for (const view of this.liveViews.values()) view.destroy();
        this.liveViews.clear();
      },
      { once: true },
    );
  }

  /** Give each row its view: the settled ones to the virtual list, the rest here. */
  reconcile(rows: Row[]): void {
    // Settled: everything before the first live or pending row.
    let split = rows.findIndex((r) => r.live !== null || r.pending);
    if (split < 0) split = rows.length;
    const settled = rows.slice(0, split);
    const live = rows.slice(split);
    this.layout ??= this.readLayout();
    this.virtual.setRows(settled, this.layout);
    const keep = new Set(live.map((r) => r.key));
    for (const [key, view] of this.liveViews) {
      if (keep.has(key)) continue;
      this.liveViews.delete(key);
      // A reply just committed keeps its view (and height) in the settled list.
      if (this.virtual.viewOf(key) === undefined && settled.some((r) => r.key === key)) {
        this.virtual.adopt(view);
      } else view.destroy();
    }
    let cursor: Element | null = this.liveRegion.firstElementChild;
    for (const row of live) {
      let view = this.liveViews.get(row.key);
      if (view === undefined) {
        view = new MessageView(row, this.actions);
        view.el.dataset.key = row.key;
        this.liveViews.set(row.key, view);
      }
      if (view.el !== cursor) this.liveRegion.insertBefore(view.el, cursor);
      else cursor = cursor.nextElementSibling;
    }
    show(this.liveRegion, live.length > 0);
    show(this.virtual.el, settled.length > 0); // no empty flex item (and gap) above the live ones
  }

  /** Redraw the views for this frame: `placeOf` says where a row sits, `now` is its time. */
  draw(rows: readonly Row[], placeOf: (row: Row) => RowPlace, now: number): void {
    this.placeOf = placeOf;
    this.frameTime = now;
    for (const row of rows) this.liveViews.get(row.key)?.update(row, placeOf(row), now);
    this.virtual.draw();
  }

  /** The list's padding changed (compact or not): read it again before the next layout. */
  relayout(): void {
    this.layout = null;
  }

  /** Scroll message `key` into view, wherever it is drawn. */
  reveal(key: string): void {
    if (!this.virtual.scrollTo(key))
      this.liveViews.get(key)?.el.scrollIntoView({ block: "nearest" });
  }

  /** The element that shows message `key`, when one does. */
  elementOf(key: string): HTMLElement | undefined {
    return (this.virtual.viewOf(key) ?? this.liveViews.get(key))?.el;
  }

  private readLayout(): Layout {
    const style = getComputedStyle(this.list);
    return { margin: parseFloat(style.paddingTop) || 0, gap: parseFloat(style.rowGap) || 0 };
  }
}
