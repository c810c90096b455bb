// Where a growing reply can be cut into settled top-level blocks and a live tail.
//
// A block is settled once a later top-level block has started in COMPLETE lines (a half-typed
// last line can still change what the lines above it are: "| a |\n| -" is a table until the
// "-" turns into "-x"). Fences and `$$` blocks run to the end of the text while unclosed, so no
// later block can start and they settle only once closed. Because complete lines never change
// as text is appended, a boundary found once is a boundary of every longer text as well; the
// cut is made at the END of the settled block, so a fresh parse starts in a clean state.

import type { Token } from "markdown-it";

/**
 * Where the settled leading blocks of `tokens`' source end: line numbers, ascending ([]: none
 * settled). Each is a place the source can be cut and its two sides rendered apart.
 */
export function settledBoundaries(tokens: readonly Token[]): number[] {
  const tops: Token[] = [];
  for (const token of tokens) {
    if (token.level === 0 && token.nesting !== -1 && token.map) tops.push(token);
  }
  const ends: number[] = [];
  for (let i = 0; i + 1 < tops.length; i++) {
    const block = tops[i]!.map!;
    const next = tops[i + 1]!.map!;
    // A reference definition's title may continue on the next lines ("[a]: /u\n'title…'"),
    // so one directly followed by another block is not final until a blank line follows.
    if (tops[i]!.type === "reference_definition" && block[1] >= next[0]) continue;
    ends.push(block[1]);
  }
  return ends;
}

/** Offset of the start of line `line` (0-based) in `src`; `src.length` if past the end. */
export function lineOffset(src: string, line: number): number {
  return lineOffsets(src, [line])[0]!;
}

/** `lineOffset` for each of `lines` (ascending), in one pass. */
export function lineOffsets(src: string, lines: readonly number[]): number[] {
  const offsets: number[] = [];
  let offset = 0;
  let at = 0;
  for (const line of lines) {
    for (; at < line && offset < src.length; at++) {
      const nl = src.indexOf("\n", offset);
      offset = nl < 0 ? src.length : nl + 1;
    }
    offsets.push(at < line ? src.length : offset);
  }
  return offsets;
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
