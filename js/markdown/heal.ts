// Close what a half-streamed tail leaves open, so it renders as it will once complete instead
// of flashing raw markers: `**bold` → `**bold**`, `` `code `` → `` `code` ``, `$x^` → `$x$`,
// `[text](http` → `text`, a `$$` block without its closer, a table header without its
// delimiter row, a half-typed closing fence. Only the tail is scanned, and within it only the
// last leaf block (markdown-it's block parse says which one, containers stripped).

import type { Token } from "markdown-it";
import { lineOffset } from "./blocks.js";
import { healInline } from "./heal-inline.js";
import { healTex } from "./heal-tex.js";

export type BlockParser = (src: string) => Token[];

const LEAVES = new Set([
  "inline",
  "fence",
  "code_block",
  "math_block",
  "hr",
  "reference_definition",
]);

/** `tail` made safe to render while it is still growing. */
export function heal(tail: string, parseBlocks: BlockParser): string {
  const text = dropAmbiguousLastLine(tail);
  const tokens = parseBlocks(text);
  let leaf: Token | undefined;
  for (let i = tokens.length - 1; i >= 0; i--) {
    if (LEAVES.has(tokens[i]!.type)) {
      leaf = tokens[i];
      break;
    }
  }
  if (!leaf) return text;
  switch (leaf.type) {
    case "fence":
      return healFence(text, leaf);
    case "math_block":
      return healMathBlock(text, leaf);
    case "inline":
      return healTable(text, leaf) ?? healInlineLeaf(text, leaf.content);
    default:
      return text;
  }
}

const lastLineOf = (s: string): string => s.slice(s.lastIndexOf("\n") + 1);

/**
 * A last line that is only the start of a marker ("-", "**", "#", "1.", "``", "$") would
 * flash as an empty bullet, a heading, literal text…; it waits for the next characters.
 */
function dropAmbiguousLastLine(text: string): string {
  const line = lastLineOf(text);
  if (line.length > 12) return text;
  if (/^[ \t>]*(?:[-*+_=~`$|]{1,2}|#{1,6}|\d{1,9}[.)]?|\\)[ \t]*$/.test(line)) {
    return text.slice(0, text.length - line.length);
  }
  return text;
}

function healFence(text: string, fence: Token): string {
  // Part of the closing fence typed so far: not code, and not yet a closer.
  const line = lastLineOf(text);
  const run = /^[ \t>]*([`~]+)[ \t]*$/.exec(line)?.[1];
  if (run && run[0] === fence.markup[0] && run.length < fence.markup.length) {
    return text.slice(0, text.length - line.length);
  }
  return text;
}

function healMathBlock(text: string, block: Token): string {
  const meta = block.meta as { closed?: boolean } | null;
  if (meta?.closed !== false || !block.map) return text;
  const close = block.markup === "\\[" ? "\\]" : "$$";
  let body = text;
  const line = lastLineOf(body);
  // Part of the closer typed so far ("$" of "$$"): not TeX.
  if (line.trim() !== "" && close.startsWith(line.trim()))
    body = body.slice(0, body.length - line.length);
  const opener = lineOffset(body, block.map[0]);
  // The TeX starts on the line after the opener.
  let texStart = body.indexOf("\n", opener) + 1;
  if (texStart === 0) texStart = body.length;
  const tex = body.slice(texStart);
  if (tex.trim() === "") return body.slice(0, opener);
  return `${body.slice(0, texStart)}${healTex(tex)}\n${close}`;
}

// ---- tables --------------------------------------------------------------------------

const countCells = (row: string): number => {
  const cells = row.trim().replace(/^\|/, "").replace(/\\\|/g, "").split("|");
  if (cells.length > 1 && cells[cells.length - 1]!.trim() === "") cells.pop();
  return Math.max(cells.length, 1);
};

const delimiterRow = (columns: number): string => `|${" --- |".repeat(columns)}`;

/** A header row still waiting for its delimiter row shows as a table already. */
function healTable(text: string, inline: Token): string | null {
  const lines = inline.content.split("\n");
  const header = lines[0]!.trim();
  if (lines.length > 2 || !header.startsWith("|")) return null;
  // "| a" is a header being typed only while it is the unfinished last line.
  if (header.indexOf("|", 1) < 0 && (lines.length > 1 || text.endsWith("\n"))) return null;
  const textLines = text.replace(/\n$/, "").split("\n");
  if (textLines[textLines.length - lines.length]?.trim() !== header) return null;
  if (lines.length === 1) {
    return text.replace(/\n?$/, "\n") + delimiterRow(countCells(header));
  }
  const partial = lines[1]!.trim();
  if (!/^[|:\- ]*$/.test(partial) || !/[|-]/.test(partial)) return null;
  const keep = textLines.slice(0, textLines.length - 1).join("\n");
  return `${keep}\n${delimiterRow(countCells(header))}`;
}

// ---- inline (the scan itself is in heal-inline.ts) ------------------------------------

function healInlineLeaf(text: string, content: string): string {
  const trimmed = text.trimEnd();
  // The inline content must be what the text ends with ("| **b |" ends with a cell border).
  if (!trimmed.endsWith(lastLineOf(content).trimEnd())) return text;
  const healed = healInline(content);
  if (healed === content) return text;
  // Replace the changed end of the inline content, which is the end of the text.
  let keep = 0;
  const limit = Math.min(content.length, healed.length);
  while (keep < limit && content.charCodeAt(keep) === healed.charCodeAt(keep)) keep++;
  const changed = content.slice(keep).trimEnd();
  if (!trimmed.endsWith(changed)) return text;
  return trimmed.slice(0, trimmed.length - changed.length) + healed.slice(keep);
}
