// Cost, counted not timed: the characters handed to the Markdown parser per update stay
// bounded by the live tail, so streaming a reply costs O(length), not O(length²).

import { expect, test } from "vitest";
import { renderMarkdown } from "../../../js/markdown/index.js";
import { MarkdownStream } from "../../../js/markdown/renderer.js";
import { STREAMING, chunkedPrefixes, fixture } from "./helpers.js";

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
    current += chars;
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
const section = fixture("llm-reply.md").trim() + "\n\n";
const longText = section.repeat(8);
let longCost: Cost | null = null;
const streamLong = (): Cost => (longCost ??= stream(longText));

test("work per update does not grow with the length of the reply", STREAMING, () => {
  const short = stream(section);
  const long = streamLong();
  // The longest tail is the same section either way, so the worst update costs the same.
  expect(max(long.perUpdate)).toBeLessThanOrEqual(max(short.perUpdate) * 1.1);
  // And a late update costs what an early one does.
  const quarter = Math.floor(long.perUpdate.length / 4);
  const early = mean(long.perUpdate.slice(0, quarter));
  const late = mean(long.perUpdate.slice(-quarter));
  expect(late).toBeLessThan(early * 1.5);
});

test("total work is a small multiple of the reply length", STREAMING, () => {
  const text = longText;
  const { total, byKind } = streamLong();
  // Each settled block is rendered exactly once (no reference definitions here).
  expect(byKind.block).toBeLessThanOrEqual(text.length);
  expect(byKind.block).toBeGreaterThan(text.length * 0.9);
  // Per update the tail is read twice (heal, render), so the multiple is about
  // 2 × (mean tail) / (mean delta) + the boundary scans: ~21 here, whatever the length.
  expect(total).toBeLessThan(text.length * 24);
});

test("a long reply streamed in small deltas is not quadratic", STREAMING, () => {
  const text = longText;
  const { total } = streamLong();
  // Baseline: rendering the whole reply on every update (what a naive view does).
  const wholeEachTime = chunkedPrefixes(text, 42, 24).reduce((sum, prefix) => sum + prefix.length, 0);
  expect(total * 10).toBeLessThan(wholeEachTime);
});
