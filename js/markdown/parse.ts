// The one Markdown dialect we render: CommonMark + GFM tables and strikethrough, no raw HTML,
// no typographer, links only where a scheme is written out, math, highlighted code blocks,
// images shown as placeholders (a reply must not make the browser fetch anything).

import markdownIt from "markdown-it";
import type { Env, MarkdownIt, Token } from "markdown-it";
import { codeBlockHtml } from "./highlight.js";
import { mathPlugin } from "./math.js";

export type References = NonNullable<Env["references"]>;

export interface Rendered {
  readonly html: string;
  /** Reference definitions known after this render (the ones passed in plus any new). */
  readonly references: References;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function createMarkdown(): MarkdownIt {
  const md = markdownIt({ html: false, linkify: true, typographer: false, breaks: false });
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
  md.use(mathPlugin);

  const rules = md.renderer.rules;
  rules.fence = (tokens, idx) => {
    const token = tokens[idx]!;
    return codeBlockHtml(token.content, md.utils.unescapeAll(token.info));
  };
  rules.code_block = (tokens, idx) => codeBlockHtml(tokens[idx]!.content, "");
  // Not fetched: the alt text, as a link to the address the reader may choose to open
  // (web addresses only; a data: image is just its alt text).
  rules.image = (tokens, idx, options, env, self) => {
    const token = tokens[idx]!;
    const src = String(token.attrGet("src") ?? "");
    const text = self.renderInlineAsText(token.children ?? [], options, env) || "image";
    const alt = `<span class="nbc-image-alt">${escapeHtml(text)}</span>`;
    if (!/^https?:/i.test(src)) return `<span class="nbc-image">${alt}</span>`;
    return `<a class="nbc-image" href="${escapeHtml(src)}" title="${escapeHtml(src)}">${alt}</a>`;
  };
  // Wide tables scroll sideways inside their own box instead of widening the chat.
  rules.table_open = () => '<div class="nbc-table-wrap"><table>\n';
  rules.table_close = () => "</table></div>\n";
  // Column alignment as a class: content never gets to set a `style` attribute.
  const cell = (tokens: Token[], idx: number): string => {
    const token = tokens[idx]!;
    const align = /text-align:(left|center|right)/.exec(String(token.attrGet("style") ?? ""))?.[1];
    return align ? `<${token.tag} dir="auto" class="nbc-align-${align}">` : `<${token.tag} dir="auto">`;
  };
  rules.th_open = cell;
  rules.td_open = cell;
  // Each block takes its direction from its own first strong character, so an Arabic or
  // Hebrew paragraph reads right to left inside an English reply, and the reverse.
  md.core.ruler.push("nbc_dir_auto", (state) => {
    for (const token of state.tokens) if (DIR_AUTO.has(token.type)) token.attrSet("dir", "auto");
  });
  return md;
}

const DIR_AUTO = new Set(["paragraph_open", "heading_open", "list_item_open", "blockquote_open"]);

let instance: MarkdownIt | null = null;
const markdown = (): MarkdownIt => (instance ??= createMarkdown());

/** Block-level tokens only (no inline parsing): cheap enough to find block boundaries. */
export function parseBlocks(src: string, references: References): Token[] {
  const md = markdown();
  const tokens: Token[] = [];
  md.block.parse(src, md, { references: { ...references } }, tokens);
  return tokens;
}

/**
 * Render `src` to (unsanitized) HTML. `references` resolves reference-style links defined
 * elsewhere in the reply; `streaming` says the text may still be half-typed.
 */
export function renderHtml(src: string, references: References = {}, streaming = false): Rendered {
  const env: Env = { references: { ...references }, nbcStreaming: streaming };
  const html = markdown().render(src, env);
  return { html, references: env.references ?? {} };
}
