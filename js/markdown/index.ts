// The renderer's public surface: stream Markdown into an element, render it once to HTML,
// register KaTeX's fonts. Everything the view needs; nothing else is meant to be imported.

import "./markdown.css";
import { PacedRenderer } from "./paced.js";
import { renderHtml } from "./parse.js";
import type { StreamingRenderer } from "./renderer.js";
import { MarkdownStream } from "./renderer.js";
import { sanitizeToString } from "./sanitize.js";

export { ensureKatexFonts } from "./fonts.js";
export type { StreamingRenderer } from "./renderer.js";

/** A renderer that writes into `el` (which it owns). */
export function createRenderer(el: HTMLElement): StreamingRenderer {
  return new MarkdownStream(el);
}

/** A renderer that spreads its work over frames (see paced.ts): for views. */
export function createPacedRenderer(el: HTMLElement): StreamingRenderer {
  return new PacedRenderer(new MarkdownStream(el));
}

/** One-shot render of a whole Markdown text to sanitized HTML. */
export function renderMarkdown(text: string): string {
  return sanitizeToString(renderHtml(text).html);
}
