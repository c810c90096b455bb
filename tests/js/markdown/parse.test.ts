// renderBlocks is renderHtml cut at top-level blocks: the pieces join to the same HTML, and
// each piece says which source lines it shows (what lets a settling block keep its nodes).

import { describe, expect, test } from "vitest";
import { renderBlocks, renderHtml } from "../../../js/markdown/parse.js";
import { fixture, fixtureNames } from "./helpers.js";

describe.each(fixtureNames())("%s", (name) => {
  const text = fixture(name);

  test.each([false, true])("blocks join to renderHtml's HTML (streaming: %s)", (streaming) => {
    const { blocks, references } = renderBlocks(text, {}, streaming);
    const whole = renderHtml(text, {}, streaming);
    expect(blocks.map((block) => block.html).join("")).toBe(whole.html);
    expect(references).toEqual(whole.references);
  });

  test("blocks are in order, and each one's lines render to its HTML", () => {
    const { blocks, references } = renderBlocks(text);
    let previousEnd = 0;
    for (const block of blocks) {
      expect(block.start).toBeGreaterThanOrEqual(previousEnd);
      expect(block.end).toBeGreaterThan(block.start);
      previousEnd = block.end;
      // With the text's reference definitions, which may be anywhere in it.
      const alone = renderHtml(text.slice(block.start, block.end), references).html;
      expect(alone).toBe(block.html);
    }
  });
});

test("a reference definition is a block of its own that renders to nothing", () => {
  const text = "Use [x].\n\n[x]: https://example.com/x\n\nEnd.";
  const { blocks } = renderBlocks(text);
  expect(blocks.map((block) => text.slice(block.start, block.end))).toEqual([
    "Use [x].\n",
    "[x]: https://example.com/x\n",
    "End.",
  ]);
  expect(blocks[1]!.html).toBe("");
  expect(blocks[0]!.html).toContain('href="https://example.com/x"');
});

test("math that does not typeset yet is provisional while streaming, and only then", () => {
  const text = "Fine $x^2$.\n\nBad $\\frac{1}{$ here.";
  const provisional = (streaming: boolean): boolean[] =>
    renderBlocks(text, {}, streaming).blocks.map((block) => block.provisional);
  expect(provisional(true)).toEqual([false, true]);
  expect(provisional(false)).toEqual([false, false]);
});
