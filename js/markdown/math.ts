// Math in Markdown: `$…$`, `$$…$$`, `\(…\)` and `\[…\]`, typeset by KaTeX.
//
// Single dollars are read conservatively so prices stay prices: an opening `$` needs a
// non-space after it, the FIRST later `$` must close it (non-space before it, no digit after
// it), and a span that starts with a digit but reads like prose ("$5 and 10$ more") is text.
// KaTeX runs with `trust: false`, so `\href`, `\url`, `\htmlClass`… render as inert red text.

import katex from "katex";
import type { MarkdownIt, StateBlock, StateInline, Token } from "markdown-it";
import { escapeHtml } from "../escape.js";

export interface MathOpener {
  readonly open: string;
  readonly close: string;
  readonly display: boolean;
}

export interface InlineMath extends MathOpener {
  /** Index just past the closing delimiter. */
  readonly end: number;
  readonly content: string;
}

const PAREN: MathOpener = { open: "\\(", close: "\\)", display: false };
const BRACKET: MathOpener = { open: "\\[", close: "\\]", display: true };
const DOUBLE: MathOpener = { open: "$$", close: "$$", display: true };
const SINGLE: MathOpener = { open: "$", close: "$", display: false };

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);
const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= "0" && ch <= "9";

/** The math delimiter that opens at `pos`, if any (the closer is not looked for). */
export function mathOpenerAt(src: string, pos: number): MathOpener | null {
  const ch = src[pos];
  const next = src[pos + 1];
  if (ch === "\\") {
    if (next === "(") return PAREN;
    if (next === "[") return BRACKET;
    return null;
  }
  if (ch !== "$") return null;
  if (next === "$") return DOUBLE;
  // "$ 5" or a `$` at the very end never opens.
  if (next === undefined || isSpace(next)) return null;
  return SINGLE;
}

/**
 * Index of the delimiter closing `opener` at or after `from`, or -1. Backslash pairs are
 * skipped, so `\$` and `\\)` never close. For `$` only the first candidate counts.
 */
export function findMathClose(
  src: string,
  opener: MathOpener,
  from: number,
  max = src.length,
): number {
  const { close } = opener;
  for (let i = from; i < max; i++) {
    const ch = src[i];
    if (ch === "\\") {
      if (close[0] === "\\" && src.startsWith(close, i)) return i + close.length <= max ? i : -1;
      i++;
      continue;
    }
    if (ch !== "$" || close[0] !== "$") continue;
    if (opener === SINGLE) {
      const valid = !isSpace(src[i - 1]) && !isDigit(src[i + 1]);
      return valid ? i : -1;
    }
    if (src[i + 1] === "$" && i + 2 <= max) return i;
  }
  return -1;
}

/** True when a `$…$` span starting with a digit reads like prose, e.g. "5 and 10". */
export function looksLikeCurrency(content: string): boolean {
  if (!isDigit(content[0])) return false;
  const words = content.replace(/\\[A-Za-z]+/g, " ");
  return /(?:^|\s)[A-Za-z]{2,}(?=$|[\s,.;:!?)])/.test(words);
}

/** The complete inline math span starting at `pos`, or null. */
export function matchInlineMath(src: string, pos: number, max = src.length): InlineMath | null {
  const opener = mathOpenerAt(src, pos);
  if (!opener) return null;
  const start = pos + opener.open.length;
  const at = findMathClose(src, opener, start, max);
  if (at < 0) return null;
  const content = src.slice(start, at);
  if (content.trim() === "") return null;
  if (opener === SINGLE && looksLikeCurrency(content)) return null;
  return { ...opener, end: at + opener.close.length, content };
}

// ---- KaTeX ---------------------------------------------------------------------------

type Typeset =
  | { readonly ok: true; readonly html: string }
  | { readonly ok: false; readonly message: string };

const KATEX_OPTIONS = {
  throwOnError: true,
  trust: false,
  strict: "ignore",
  output: "htmlAndMathml",
  maxSize: 20,
  maxExpand: 1000,
} as const;

// The streaming tail re-renders the same formulas every frame; typesetting is the costly part.
const CACHE_LIMIT = 256;
const cache = new Map<string, Typeset>();

export function typeset(tex: string, display: boolean): Typeset {
  const key = (display ? "D" : "I") + tex;
  const hit = cache.get(key);
  if (hit) return hit;
  let result: Typeset;
  try {
    result = {
      ok: true,
      html: katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display }),
    };
  } catch (error) {
    result = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, result);
  return result;
}

/**
 * HTML for one formula. Bad TeX shows its source: in the error style once the text is final,
 * in a quiet "pending" style while it may still be half-typed.
 */
export function mathHtml(
  tex: string,
  opener: MathOpener,
  block: boolean,
  streaming: boolean,
): string {
  const result = typeset(tex, opener.display);
  const tag = block ? "div" : "span";
  if (result.ok) {
    const key = escapeHtml(formulaKey(tex, opener.display));
    const formula = `<span class="${FORMULA}" title="${key}"></span>`;
    return block ? `<div class="nbc-math">${formula}</div>\n` : formula;
  }
  const source = escapeHtml(opener.open + tex + opener.close);
  const kind = block ? " nbc-math-block" : "";
  const html = streaming
    ? `<${tag} class="nbc-math-pending${kind}">${source}</${tag}>`
    : `<${tag} class="nbc-math-error${kind}" title="${escapeHtml(result.message)}">${source}</${tag}>`;
  return block ? `${html}\n` : html;
}

// ---- typeset formulas, sanitized once ------------------------------------------------
//
// KaTeX's markup is large (a few kB of nested spans per formula) and the streaming tail
// re-renders the same formulas every frame. The Markdown HTML therefore carries an empty
// `<span class="nbc-formula" title="key">` per formula. After the (now small) HTML is
// sanitized, each one is filled with a copy of its formula's output, sanitized once and cached
// — and only when it is new: the tail patcher keeps a formula already on screen when the fresh
// render asks for the same one. Content cannot forge a formula element: markdown-it runs with
// `html: false`, and a key only ever yields KaTeX's rendering of its own TeX.

export const FORMULA = "nbc-formula";
const formulaKey = (tex: string, display: boolean): string => (display ? "D" : "I") + tex;

const SANITIZED_LIMIT = 256;
const sanitized = new Map<string, DocumentFragment>();
/** Filled formula elements and the key they were filled from. */
const filled = new WeakMap<Element, string>();

const isEmptyFormula = (node: Node): node is Element =>
  node instanceof Element && node.classList.contains(FORMULA) && node.hasAttribute("title");

/** Fill every empty formula element in or under `root` with its typeset, sanitized output. */
export function fillFormulas(root: Node, sanitize: (html: string) => DocumentFragment): void {
  const empty: Element[] = isEmptyFormula(root) ? [root] : [];
  if (root instanceof Element || root instanceof DocumentFragment) {
    empty.push(...Array.from(root.querySelectorAll(`span.${FORMULA}[title]`)));
  }
  for (const element of empty) {
    const key = element.getAttribute("title") ?? "";
    let formula = sanitized.get(key);
    if (!formula) {
      const result = typeset(key.slice(1), key[0] === "D");
      formula = sanitize(result.ok ? result.html : "");
      if (sanitized.size >= SANITIZED_LIMIT) {
        const oldest = sanitized.keys().next().value;
        if (oldest !== undefined) sanitized.delete(oldest);
      }
      sanitized.set(key, formula);
    }
    element.removeAttribute("title");
    element.append(formula.cloneNode(true));
    filled.set(element, key);
  }
}

/** True when `after` (still empty) asks for the formula `before` already shows. */
export function sameFormula(before: Node, after: Node): boolean {
  if (!isEmptyFormula(after) || !(before instanceof Element)) return false;
  return filled.get(before) === after.getAttribute("title");
}

// ---- markdown-it plugin -------------------------------------------------------------

function mathInlineRule(state: StateInline, silent: boolean): boolean {
  const match = matchInlineMath(state.src, state.pos, state.posMax);
  if (!match) return false;
  if (!silent) {
    const token = state.push("math_inline", "math", 0);
    token.content = match.content;
    token.markup = match.open;
  }
  state.pos = match.end;
  return true;
}

const OPENERS: Record<string, MathOpener> = { "\\(": PAREN, "\\[": BRACKET, $: SINGLE, $$: DOUBLE };
const openerFor = (markup: string): MathOpener => OPENERS[markup] ?? DOUBLE;

/**
 * Display math on its own lines. A line holding only `$$` (or `\[`) opens a block that runs to
 * the closing line — or, like a code fence, to the end of the text while it is unclosed, so a
 * block is settled only once closed. `$$ … $$` on one line is a block too.
 */
function mathBlockRule(
  state: StateBlock,
  startLine: number,
  endLine: number,
  silent: boolean,
): boolean {
  if (state.sCount[startLine]! - state.blkIndent >= 4) return false;
  const start = state.bMarks[startLine]! + state.tShift[startLine]!;
  const lineText = state.src.slice(start, state.eMarks[startLine]);
  const opener = lineText.startsWith("$$") ? DOUBLE : lineText.startsWith("\\[") ? BRACKET : null;
  if (!opener) return false;
  const rest = lineText.slice(opener.open.length).trimEnd();

  if (rest !== "") {
    if (!rest.endsWith(opener.close)) return false;
    const content = rest.slice(0, -opener.close.length);
    if (content.trim() === "" || content.includes(opener.close)) return false;
    if (silent) return true;
    pushBlock(state, opener, content.trim(), [startLine, startLine + 1], true);
    state.line = startLine + 1;
    return true;
  }
  if (silent) return true;

  let nextLine = startLine;
  let closed = false;
  let lastLine = "";
  for (;;) {
    nextLine++;
    if (nextLine >= endLine) break;
    const lineStart = state.bMarks[nextLine]! + state.tShift[nextLine]!;
    const lineEnd = state.eMarks[nextLine]!;
    // A non-blank line indented less than the container ends it (as for fences).
    if (lineStart < lineEnd && state.sCount[nextLine]! < state.blkIndent) break;
    const text = state.src.slice(lineStart, lineEnd).trimEnd();
    if (text.endsWith(opener.close) && !text.endsWith(`\\${opener.close}`)) {
      closed = true;
      lastLine = text.slice(0, -opener.close.length);
      break;
    }
  }
  let content = state.getLines(startLine + 1, nextLine, state.sCount[startLine]!, false);
  if (closed && lastLine.trim() !== "") content += (content ? "\n" : "") + lastLine;
  pushBlock(state, opener, content, [startLine, closed ? nextLine + 1 : nextLine], closed);
  state.line = closed ? nextLine + 1 : nextLine;
  return true;
}

function pushBlock(
  state: StateBlock,
  opener: MathOpener,
  content: string,
  map: [number, number],
  closed: boolean,
): void {
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = content;
  token.markup = opener.open;
  token.map = map;
  token.meta = { closed };
}

const isStreaming = (env: unknown): boolean =>
  typeof env === "object" &&
  env !== null &&
  (env as { nbcStreaming?: unknown }).nbcStreaming === true;

/** markdown-it plugin: math tokens and their KaTeX rendering. */
export function mathPlugin(md: MarkdownIt): void {
  // Before `escape`, which would otherwise read `\(` as an escaped parenthesis.
  md.inline.ruler.before("escape", "math_inline", mathInlineRule);
  md.block.ruler.before("fence", "math_block", mathBlockRule, {
    alt: ["paragraph", "reference", "blockquote", "list"],
  });
  const render = (token: Token, block: boolean, env: unknown): string => {
    const opener = openerFor(token.markup);
    const streaming = isStreaming(env);
    // Pending math shows differently once final: tell `renderBlocks` (typeset is cached).
    if (streaming && !typeset(token.content, opener.display).ok) {
      (env as { nbcProvisional?: boolean }).nbcProvisional = true;
    }
    return mathHtml(token.content, opener, block, streaming);
  };
  md.renderer.rules.math_inline = (tokens: Token[], idx: number, _o, env) =>
    render(tokens[idx]!, false, env);
  md.renderer.rules.math_block = (tokens: Token[], idx: number, _o, env) =>
    render(tokens[idx]!, true, env);
}
