// Inline healing: close or withdraw what a tail's last inline block leaves open at its end
// (emphasis runs, a code span, inline math, a link still being typed), by one scan that
// follows CommonMark's delimiter rules closely enough to know what is still open.

import { healTex } from "./heal-tex.js";
import type { MathOpener } from "./math.js";
import { findMathClose, looksLikeCurrency, matchInlineMath, mathOpenerAt } from "./math.js";

interface Delimiter {
  readonly char: string;
  count: number;
}

interface Scan {
  readonly delimiters: Delimiter[];
  /** Unclosed code span: where its backtick run starts and how long it is. */
  readonly code: { pos: number; length: number } | null;
  /** Unclosed math that may be closed (not a price). */
  readonly math: { pos: number; opener: MathOpener } | null;
  /** A fix to the end that must happen before closing anything: replace from `at` with `text`. */
  readonly rewrite: { at: number; text: string } | null;
}

const isSpace = (ch: string | undefined): boolean => ch === undefined || /\s/.test(ch);
const isPunct = (ch: string | undefined): boolean => ch !== undefined && /[\p{P}\p{S}]/u.test(ch);
const isWordChar = (ch: string | undefined): boolean =>
  ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

/** Inline Markdown with every construct left open at its end closed or withdrawn. */
export function healInline(content: string): string {
  let s = content;
  // Each rewrite shortens or simplifies the end; a few rounds settle any real input.
  for (let round = 0; round < 8; round++) {
    const scan = scanInline(s);
    if (scan.rewrite) {
      s = s.slice(0, scan.rewrite.at) + scan.rewrite.text;
      continue;
    }
    return close(s, scan);
  }
  return content;
}

function close(s: string, scan: Scan): string {
  let out = s;
  if (scan.math) {
    const { pos, opener } = scan.math;
    const start = pos + opener.open.length;
    let tex = out.slice(start);
    // A half-typed closer ("$" of "$$", "\" of "\)") is not TeX.
    for (let n = opener.close.length - 1; n > 0; n--) {
      if (tex.endsWith(opener.close.slice(0, n))) {
        tex = tex.slice(0, -n);
        break;
      }
    }
    const healed = healTex(tex).trimEnd();
    out = healed ? out.slice(0, start) + healed + opener.close : out.slice(0, pos).trimEnd();
  } else if (scan.code) {
    const { pos, length } = scan.code;
    const inner = out.slice(pos + length).replace(/`+$/, "");
    out = out.slice(0, pos + length) + inner + "`".repeat(length);
  } else {
    out = out.trimEnd();
  }
  for (let i = scan.delimiters.length - 1; i >= 0; i--) {
    const { char, count } = scan.delimiters[i]!;
    out += char === "~" ? "~~" : char.repeat(count);
  }
  return out;
}

function scanInline(s: string): Scan {
  const delimiters: Delimiter[] = [];
  const brackets: Array<{ pos: number; image: boolean }> = [];
  const n = s.length;
  let i = 0;
  const result = (extra: Partial<Scan>): Scan => ({
    delimiters,
    code: null,
    math: null,
    rewrite: null,
    ...extra,
  });
  const drop = (at: number, text = ""): Scan => result({ rewrite: { at, text } });

  while (i < n) {
    const ch = s[i]!;
    if (ch === "\\") {
      if (s[i + 1] === "(" || s[i + 1] === "[") {
        const found = scanMath(s, i);
        if (found.kind === "closed") {
          i = found.end;
          continue;
        }
        if (found.kind === "open") return openMath(s, i, found.opener, delimiters);
      }
      if (i === n - 1) return drop(i); // a trailing backslash would escape what follows
      i += 2;
      continue;
    }
    if (ch === "`") {
      let length = 1;
      while (s[i + length] === "`") length++;
      const closeAt = findBacktickRun(s, i + length, length);
      if (closeAt >= 0) {
        i = closeAt + length;
        continue;
      }
      if (
        s
          .slice(i + length)
          .replace(/`+$/, "")
          .trim() === ""
      )
        return drop(i);
      return result({ code: { pos: i, length } });
    }
    if (ch === "$") {
      const found = scanMath(s, i);
      if (found.kind === "closed") {
        i = found.end;
        continue;
      }
      if (found.kind === "open") return openMath(s, i, found.opener, delimiters);
      if (i === n - 1) return drop(i);
      i++;
      continue;
    }
    if (ch === "<") {
      const autolink = /^<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*>/.exec(s.slice(i, i + 2048));
      i += autolink ? autolink[0].length : 1;
      continue;
    }
    if (ch === "!" && i === n - 1) return drop(i); // maybe an image's "![" to come
    if (ch === "!" && s[i + 1] === "[") {
      brackets.push({ pos: i, image: true });
      i += 2;
      continue;
    }
    if (ch === "[") {
      brackets.push({ pos: i, image: false });
      i++;
      continue;
    }
    if (ch === "]") {
      const open = brackets.pop();
      if (open && s[i + 1] === "(") {
        const end = findDestinationEnd(s, i + 2);
        if (end >= 0) {
          i = end + 1;
          continue;
        }
        // Destination still streaming: show the label only (an image: nothing yet).
        return drop(open.pos, open.image ? "" : s.slice(open.pos + 1, i));
      }
      if (open && i === n - 1 && opensLink(s, open.pos)) {
        // "[label]" at the very end may be a link whose "(" comes next.
        return drop(open.pos, open.image ? "" : s.slice(open.pos + 1, i));
      }
      i++;
      continue;
    }
    if (ch === "*" || ch === "_" || ch === "~") {
      let length = 1;
      while (s[i + length] === ch) length++;
      const end = i + length;
      // A marker with nothing after it yet.
      if (end === n && !closesDelimiter(s, i, length, delimiters)) return drop(i);
      runDelimiter(s, i, length, delimiters);
      i = end;
      continue;
    }
    i++;
  }
  // An unclosed "[" or "![": the label shows without the bracket (or nothing, for images).
  for (let b = brackets.length - 1; b >= 0; b--) {
    const open = brackets[b]!;
    if (open.image) return drop(open.pos);
    if (opensLink(s, open.pos)) return drop(open.pos, s.slice(open.pos + 1));
  }
  return result({});
}

/** "[" after a letter or digit ("a[i") is an index, not a link. */
const opensLink = (s: string, pos: number): boolean => !isWordChar(s[pos - 1]);

function openMath(s: string, pos: number, opener: MathOpener, delimiters: Delimiter[]): Scan {
  const content = s.slice(pos + opener.open.length);
  const empty = content.replace(/[$\\]+$/, "").trim() === "";
  return {
    delimiters,
    code: null,
    math: empty ? null : { pos, opener },
    rewrite: empty ? { at: pos, text: "" } : null,
  };
}

type MathScan =
  | { kind: "closed"; end: number }
  | { kind: "open"; opener: MathOpener }
  | { kind: "text" };

/** Math at `pos`: complete, open at the end of `s` (and worth closing), or plain text. */
function scanMath(s: string, pos: number): MathScan {
  const match = matchInlineMath(s, pos);
  if (match) return { kind: "closed", end: match.end };
  const opener = mathOpenerAt(s, pos);
  if (!opener) return { kind: "text" };
  const start = pos + opener.open.length;
  if (findMathClose(s, opener, start) >= 0) return { kind: "text" };
  // A single `$` followed by a digit is most likely a price: never turned into math early.
  if (opener.open === "$") {
    const content = s.slice(start);
    if (/^\d/.test(content) || looksLikeCurrency(content)) return { kind: "text" };
  }
  return { kind: "open", opener };
}

function findBacktickRun(s: string, from: number, length: number): number {
  for (let i = s.indexOf("`", from); i >= 0; i = s.indexOf("`", i)) {
    let run = 1;
    while (s[i + run] === "`") run++;
    if (run === length) return i;
    i += run;
  }
  return -1;
}

/** Index of the ")" ending a link destination (and title) starting at `from`, or -1. */
function findDestinationEnd(s: string, from: number): number {
  let depth = 0;
  let angle = false;
  for (let i = from; i < s.length; i++) {
    const ch = s[i];
    if (ch === "\\") {
      i++;
    } else if (angle) {
      if (ch === ">") angle = false;
    } else if (ch === "<" && i === from) {
      angle = true;
    } else if (ch === "(") {
      depth++;
    } else if (ch === ")") {
      if (depth === 0) return i;
      depth--;
    } else if (ch === "\n" && s[i + 1] === "\n") {
      return -1;
    }
  }
  return -1;
}

/** Whether a delimiter run can open or close, by CommonMark's flanking rules. */
function canOpenClose(s: string, start: number, length: number): { open: boolean; close: boolean } {
  const char = s[start]!;
  if (char === "~" && length < 2) return { open: false, close: false };
  const before = s[start - 1];
  const after = s[start + length];
  const left = !isSpace(after) && (!isPunct(after) || isSpace(before) || isPunct(before));
  const right = !isSpace(before) && (!isPunct(before) || isSpace(after) || isPunct(after));
  if (char === "_") {
    return { open: left && (!right || isPunct(before)), close: right && (!left || isPunct(after)) };
  }
  return { open: left, close: right };
}

function closesDelimiter(
  s: string,
  start: number,
  length: number,
  stack: readonly Delimiter[],
): boolean {
  const char = s[start]!;
  return canOpenClose(s, start, length).close && stack.some((d) => d.char === char);
}

function runDelimiter(s: string, start: number, length: number, delimiters: Delimiter[]): void {
  const char = s[start]!;
  const { open, close } = canOpenClose(s, start, length);
  let remaining = char === "~" ? 1 : length; // "~~" pairs as one unit
  if (close) {
    while (remaining > 0) {
      let k = delimiters.length - 1;
      while (k >= 0 && delimiters[k]!.char !== char) k--;
      if (k < 0) break;
      // Openers between the pair stay unmatched, as in CommonMark: they become text.
      delimiters.length = k + 1;
      const opener = delimiters[k]!;
      // Both runs 2+ long make strong emphasis (2 each); otherwise emphasis (1 each).
      const used = char === "~" ? 1 : remaining >= 2 && opener.count >= 2 ? 2 : 1;
      opener.count -= used;
      remaining -= used;
      if (opener.count === 0) delimiters.pop();
    }
  }
  if (remaining > 0 && open) delimiters.push({ char, count: remaining });
}
