// The one Markdown dialect we render: CommonMark + GFM tables and strikethrough, no raw HTML,
// no typographer, links only where a scheme is written out, math, highlighted code blocks,
// images shown as placeholders (a reply must not make the browser fetch anything).

import type { Env, MarkdownIt, Token } from "markdown-it";
import markdownIt from "markdown-it";
import { escapeHtml } from "../escape.js";
import { codeBlockHtml } from "./highlight.js";
import { mathPlugin } from "./math.js";

export type References = NonNullable<Env["references"]>;

export interface Rendered {
  readonly html: string;
  /** Reference definitions known after this render (the ones passed in plus any new). */
  readonly references: References;
}

/** One top-level block of a render, and the source lines it came from. */
export interface RenderedBlock {
  /** Offset in the source of its first line, and just past its last line (-1: unknown). */
  readonly start: number;
  readonly end: number;
  /** Empty for a reference definition. */
  readonly html: string;
  /** Drawn as it is only because the text may still be half-typed (pending math). */
  readonly provisional: boolean;
}

export interface RenderedBlocks {
  /** In source order; their HTML joined is `renderHtml`'s. */
  readonly blocks: RenderedBlock[];
  readonly references: References;
}

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
    return align
      ? `<${token.tag} dir="auto" class="nbc-align-${align}">`
      : `<${token.tag} dir="auto">`;
  };
  rules.th_open = cell;
  rules.td_open = cell;
  // Each block takes its direction from its own first strong character, so an Arabic or
  // Hebrew paragraph reads right to left inside an English reply, and the reverse.
  md.core.ruler.push("nbc_dir_auto", (state) => {
    for (const token of state.tokens) if (DIR_AUTO.has(token.type)) token.attrSet("dir", "auto");
  });
  // Reference definitions stay in the token stream (hidden, so they render to nothing):
  // `renderBlocks` must see which lines each one takes.
  md.core.ruler.disable("strip_references");
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

/**
 * `renderHtml`, cut into top-level blocks: which lines of `src` each block's HTML shows, so a
 * caller can tell which of the resulting nodes stand for a given run of lines.
 */
export function renderBlocks(
  src: string,
  references: References = {},
  streaming = false,
): RenderedBlocks {
  const md = markdown();
  const env: Env = { references: { ...references }, nbcStreaming: streaming };
  const tokens = md.parse(src, env);
  const lineStarts = [0];
  for (let nl = src.indexOf("\n"); nl >= 0; nl = src.indexOf("\n", nl + 1)) lineStarts.push(nl + 1);
  const offset = (line: number): number => lineStarts[line] ?? src.length;
  const blocks: RenderedBlock[] = [];
  for (let i = 0; i < tokens.length; ) {
    // A top-level block runs from its opener to the next token back at level 0 (its closer).
    let next = i + 1;
    if (tokens[i]!.nesting === 1) {
      while (next < tokens.length && tokens[next]!.level > 0) next++;
      next++;
    }
    const map = tokens[i]!.map;
    env.nbcProvisional = false;
    const html = md.renderer.render(tokens.slice(i, next), md.options, env);
    blocks.push({
      start: map ? offset(map[0]) : -1,
      end: map ? offset(map[1]) : -1,
      html,
      provisional: env.nbcProvisional === true,
    });
    i = next;
  }
  return { blocks, references: env.references ?? {} };
}
