// Cost, counted not timed: the characters handed to the Markdown parser per update stay
// bounded by the live tail, so streaming a reply costs O(length), not O(length²).

import { expect, test } from "vitest";
import { renderMarkdown } from "../../../js/markdown/index.js";
import { MarkdownStream } from "../../../js/markdown/renderer.js";
import { chunkedPrefixes, fixture, STREAMING } from "./helpers.js";

interface Cost {
  perUpdate: number[];
  byKind: Record<string, number>;
  total: number;
}

function stream(text: string): Cost {
  const el = document.createElement("div");
  let current = 0;
  const byKind: Record<string, number> = {};
  const renderer = new MarkdownStream(el, (kind, chars) => {
    // Adopted blocks are not parsed at all: counted apart, not as work.
    if (kind !== "adopt") current += chars;
    byKind[kind] = (byKind[kind] ?? 0) + chars;
  });
  const perUpdate: number[] = [];
  // Deltas the size a model server sends, coalesced: a few tokens each.
  for (const prefix of chunkedPrefixes(text, 42, 24)) {
    current = 0;
    renderer.update(prefix);
    perUpdate.push(current);
  }
  renderer.update(text, true);
  expect(el.innerHTML).toBe(renderMarkdown(text));
  return { perUpdate, byKind, total: perUpdate.reduce((a, b) => a + b, 0) };
}

const max = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

// One section of a typical reply; the long reply repeats it (streamed once, shared below).
const section = `${fixture("llm-reply.md").trim()}\n\n`;
const longText = section.repeat(8);
let longCost: Cost | null = null;
const streamLong = (): Cost => (longCost ??= stream(longText));

test("work per update does not grow with the length of the reply", STREAMING, () => {
  // Two sections, so the short reply has a section boundary in it too.
  const short = stream(section.repeat(2));
  const long = streamLong();
  // The longest tail is the same section either way, so the worst update costs the same.
  expect(max(long.perUpdate)).toBeLessThanOrEqual(max(short.perUpdate) * 1.1);
  // And a late update costs what an early one does.
  const quarter = Math.floor(long.perUpdate.length / 4);
  const early = mean(long.perUpdate.slice(0, quarter));
  const late = mean(long.perUpdate.slice(-quarter));
  expect(late).toBeLessThan(early * 1.5);
});

test("settling a block reuses what the tail drew: nothing is rendered twice", STREAMING, () => {
  const text = longText;
  const { byKind } = streamLong();
  // Every settled block keeps the nodes the tail drew from the same source a moment before
  // (no reference definitions, no unfinished math here): none is parsed, sanitized or
  // typeset again. Only the last block is still the tail when the text ends.
  expect(byKind.block ?? 0).toBe(0);
  const lastBlock = section.trimEnd().length - section.trimEnd().lastIndexOf("\n\n");
  expect(byKind.adopt).toBeGreaterThanOrEqual(text.length - lastBlock);
});

test("total work is a small multiple of the reply length", STREAMING, () => {
  const text = longText;
  const { total, byKind } = streamLong();
  // Per update the unsettled text is read twice (heal, render) and new complete lines once
  // (scan), so the multiple is about 2 x (mean tail) / (mean delta) + 1: ~22 here, whatever
  // the length. The tail renders each character ~9.5x as the reply grows in small deltas.
  expect(byKind.tail).toBeLessThan(text.length * 10.5);
  expect(total).toBeLessThan(text.length * 23);
});

test("a finished reply shown at once is parsed once", () => {
  const text = longText;
  const byKind: Record<string, number> = {};
  const el = document.createElement("div");
  const renderer = new MarkdownStream(el, (kind, chars) => {
    byKind[kind] = (byKind[kind] ?? 0) + chars;
  });
  renderer.update(text, true);
  expect(el.innerHTML).toBe(renderMarkdown(text));
  // One render of the whole text (nothing healed: it is final), one boundary scan, and the
  // settled blocks take the nodes that render made.
  expect(byKind).toEqual({ tail: text.length, scan: text.length, adopt: renderer.settledLength });
});

test("a long reply streamed in small deltas is not quadratic", STREAMING, () => {
  const text = longText;
  const { total } = streamLong();
  // Baseline: rendering the whole reply on every update (what a naive view does).
  const wholeEachTime = chunkedPrefixes(text, 42, 24).reduce(
    (sum, prefix) => sum + prefix.length,
    0,
  );
  expect(total * 10).toBeLessThan(wholeEachTime);
});
