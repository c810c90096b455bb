// CONTRACT STUB (lead): the renderer interface the view codes against. The renderer engineer
// replaces the bodies; the names and signatures stay.

/** Renders a growing Markdown text into one element. */
export interface StreamingRenderer {
  /**
   * Show `text` (the whole reply so far). Cheap to call once per animation frame: settled
   * blocks are rendered once and kept; only the unsettled tail is re-rendered.
   * `final` says the text will not grow any more (heal nothing, settle everything).
   */
  update(text: string, final?: boolean): void;
  /** Forget cached state and listeners. */
  destroy(): void;
}

/** A renderer that writes into `el` (which it owns). */
export function createRenderer(el: HTMLElement): StreamingRenderer {
  return {
    update(text: string): void {
      el.textContent = text;
    },
    destroy(): void {
      el.textContent = "";
    },
  };
}

/** One-shot render of a whole Markdown text to sanitized HTML. */
export function renderMarkdown(text: string): string {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

/** Register KaTeX's @font-face rules (bundled as data URLs) in `doc.head`, once per document. */
export function ensureKatexFonts(_doc: Document): void {}
