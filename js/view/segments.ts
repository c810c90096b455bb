// A reply body that called tools: its text cut at the cards' places, each text segment its
// own Markdown renderer, each card a ToolCardView between them. Only the last text segment
// grows while the reply streams; the ones before a card are final, rendered once.

import { createRenderer, type StreamingRenderer } from "../markdown/index.js";
import type { ToolCard } from "../parts.js";
import { h } from "./dom.js";
import { type CardActions, ToolCardView } from "./tools.js";

export type Segment =
  | { kind: "text"; key: string; text: string; final: boolean }
  | { kind: "card"; key: string; card: ToolCard };

/** `text` and `cards` in reading order. Text segments are keyed by where they start, so a
 * segment keeps its renderer while it grows; empty ones (two cards in a row) are left out. */
export function segments(text: string, cards: readonly ToolCard[], final: boolean): Segment[] {
  const ordered = cards
    .map((card, index) => ({ card, index }))
    .sort((a, b) => a.card.at - b.card.at || a.index - b.index);
  const out: Segment[] = [];
  let start = 0;
  for (const { card } of ordered) {
    const at = Math.min(Math.max(card.at, start), text.length);
    if (at > start)
      out.push({ kind: "text", key: `t${start}`, text: text.slice(start, at), final: true });
    out.push({ kind: "card", key: `c${card.id}`, card });
    start = at;
  }
  if (start < text.length || out.length === 0) {
    out.push({ kind: "text", key: `t${start}`, text: text.slice(start), final });
  }
  return out;
}

interface TextView {
  el: HTMLElement;
  renderer: StreamingRenderer;
  text: string;
  final: boolean;
}

export class SegmentedBody {
  private readonly texts = new Map<string, TextView>();
  private readonly cards = new Map<string, ToolCardView>();

  constructor(
    private readonly el: HTMLElement,
    private readonly actions: CardActions,
    private readonly signal: AbortSignal,
  ) {
    el.textContent = "";
  }

  update(text: string, cards: readonly ToolCard[], final: boolean): void {
    const wanted = segments(text, cards, final);
    const keep = new Set(wanted.map((s) => s.key));
    for (const [key, view] of this.texts) {
      if (keep.has(key)) continue;
      view.renderer.destroy();
      view.el.remove();
      this.texts.delete(key);
    }
    for (const [key, view] of this.cards) {
      if (keep.has(key)) continue;
      view.el.remove();
      this.cards.delete(key);
    }
    let cursor: Element | null = this.el.firstElementChild;
    for (const segment of wanted) {
      const el =
        segment.kind === "text" ? this.drawText(segment) : this.drawCard(segment.key, segment.card);
      if (el !== cursor) this.el.insertBefore(el, cursor);
      else cursor = cursor.nextElementSibling;
    }
  }

  destroy(): void {
    for (const view of this.texts.values()) view.renderer.destroy();
    this.texts.clear();
    this.cards.clear();
    this.el.textContent = "";
  }

  private drawText(segment: Extract<Segment, { kind: "text" }>): HTMLElement {
    let view = this.texts.get(segment.key);
    if (view === undefined) {
      const el = h("div", "nbc-seg nbc-md");
      view = { el, renderer: createRenderer(el), text: "", final: false };
      this.texts.set(segment.key, view);
    }
    if (view.text !== segment.text || view.final !== segment.final) {
      view.text = segment.text;
      view.final = segment.final;
      view.renderer.update(segment.text, segment.final);
    }
    return view.el;
  }

  private drawCard(key: string, card: ToolCard): HTMLElement {
    let view = this.cards.get(key);
    if (view === undefined) {
      view = new ToolCardView(card, this.actions, this.signal);
      this.cards.set(key, view);
    } else {
      view.update(card);
    }
    return view.el;
  }
}
