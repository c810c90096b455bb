// Random documents built from the constructs most likely to make a streamed render disagree
// with a one-shot one (lazy lines, setext underlines, tables, fences, math blocks, reference
// definitions with titles on later lines…), streamed in random chunks: final DOM must match.

import { expect, test } from "vitest";
import { renderMarkdown } from "../../../js/markdown/index.js";
import { MarkdownStream } from "../../../js/markdown/renderer.js";
import { chunkedPrefixes, STREAMING } from "./helpers.js";

const LINES = [
  "",
  "",
  "",
  "text",
  "more text **b",
  "*i* and `c`",
  "- item",
  "  - nested",
  "1. one",
  "2) two",
  "> quote",
  ">",
  "# Head",
  "Setext",
  "===",
  "---",
  "***",
  "    indented",
  "```",
  "```py",
  "~~~",
  "$$",
  "$$ x $$",
  "\\[",
  "\\]",
  "$a$ and $5",
  "| a | b |",
  "|---|---|",
  "| 1 | 2",
  "a | b",
  "[r]: https://example.com/r",
  "'title",
  "title'",
  "[r] and [x][r]",
  "<div>",
  "  lazy",
  "\\(y\\)",
  "![i](https://e.com/i.png)",
  "[l](https://e.com)",
  "   - deep",
  "1.",
  "-",
  "+ plus",
  "term  ",
  "* * *",
  "```",
  "$$",
];

function randomDoc(seed: number): string {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const count = 6 + Math.floor(next() * 14);
  return Array.from({ length: count }, () => LINES[Math.floor(next() * LINES.length)]!).join("\n");
}

// 40 here; 1,500 (chunks of 1–5) and 800 (chunks of 1–2, final on and off) passed when written.
const SEEDS = 40;

test("random documents stream to the one-shot render", STREAMING, () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const text = randomDoc(seed);
    const el = document.createElement("div");
    const renderer = new MarkdownStream(el);
    // Now and then final, then growing again: a stopped reply that is continued.
    for (const prefix of chunkedPrefixes(text, seed, 4)) {
      const final = prefix.length % 7 === 0;
      renderer.update(prefix, final);
      // While it streams, the settled blocks are what rendering them on their own gives
      // (when final, they may use definitions still in the tail).
      if (!final) {
        const settled = renderMarkdown(text.slice(0, renderer.settledLength));
        expect(el.innerHTML.startsWith(settled), `seed ${seed} at ${prefix.length}`).toBe(true);
      }
    }
    renderer.update(text, true);
    expect(el.innerHTML, `seed ${seed}: ${JSON.stringify(text)}`).toBe(renderMarkdown(text));
  }
});
