// Where a growing reply can be cut into settled top-level blocks and a live tail.
//
// A block is settled once a later top-level block has started in COMPLETE lines (a half-typed
// last line can still change what the lines above it are: "| a |\n| -" is a table until the
// "-" turns into "-x"). Fences and `$$` blocks run to the end of the text while unclosed, so no
// later block can start and they settle only once closed. Because complete lines never change
// as text is appended, a boundary found once is a boundary of every longer text as well; the
// cut is made at the END of the settled block, so a fresh parse starts in a clean state.

import type { Token } from "markdown-it";

/** Number of leading lines of `tokens`' source that are settled (0: none). */
export function settledLines(tokens: readonly Token[]): number {
  const tops: Token[] = [];
  for (const token of tokens) {
    if (token.level === 0 && token.nesting !== -1 && token.map) tops.push(token);
  }
  for (let i = tops.length - 2; i >= 0; i--) {
    const block = tops[i]!.map!;
    const next = tops[i + 1]!.map!;
    // A reference definition's title may continue on the next lines ("[a]: /u\n'title…'"),
    // so one directly followed by another block is not final until a blank line follows.
    if (tops[i]!.type === "reference_definition" && block[1] >= next[0]) continue;
    return block[1];
  }
  return 0;
}

/** Offset of the start of line `line` (0-based) in `src`; `src.length` if past the end. */
export function lineOffset(src: string, line: number): number {
  let offset = 0;
  for (let i = 0; i < line; i++) {
    const nl = src.indexOf("\n", offset);
    if (nl < 0) return src.length;
    offset = nl + 1;
  }
  return offset;
}

/** Index just past the last newline: the end of the complete lines. */
export function completeLinesEnd(text: string): number {
  return text.lastIndexOf("\n") + 1;
}

/** markdown-it's input normalisation (CR/CRLF to LF, NUL to U+FFFD), for an appended piece. */
export function normalizeAppend(previousRaw: string, added: string): string {
  // "\r" + "\n" split across two updates: the "\r" already became the newline.
  const rest = previousRaw.endsWith("\r") && added.startsWith("\n") ? added.slice(1) : added;
  return rest.replace(/\r\n?/g, "\n").replace(/\0/g, "\uFFFD");
}
