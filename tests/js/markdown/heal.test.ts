// Healing: while a reply streams, half-typed Markdown renders as it will once complete, so no
// raw marker ("**", "`", "$$", "[", "|") flashes up and disappears again.

import { describe, expect, test } from "vitest";
import { heal } from "../../../js/markdown/heal.js";
import { healInline } from "../../../js/markdown/heal-inline.js";
import { healTex } from "../../../js/markdown/heal-tex.js";
import { createRenderer } from "../../../js/markdown/index.js";
import { parseBlocks } from "../../../js/markdown/parse.js";
import { proseText, STREAMING } from "./helpers.js";

const healed = (tail: string): string => heal(tail, (src) => parseBlocks(src, {}));

describe("healInline", () => {
  test.each([
    ["**bold", "**bold**"],
    ["**bold ", "**bold**"],
    ["*it", "*it*"],
    ["_it", "_it_"],
    ["***both", "***both***"],
    ["**bold *nested", "**bold *nested***"],
    ["**bold*", "**bold**"],
    ["~~gone", "~~gone~~"],
    ["`code", "`code`"],
    ["``co`de", "``co`de``"],
    ["text `", "text"],
    ["**", ""],
    ["a **", "a"],
    ["trailing \\", "trailing"],
    ["$x^", "$x$"],
    ["$x + y", "$x + y$"],
    ["\\(a+b\\", "\\(a+b\\)"],
    ["\\[c", "\\[c\\]"],
    ["$$x", "$$x$$"],
    ["$$x$", "$$x$$"],
    ["[link](https://exa", "link"],
    ["[**bold link**](htt", "**bold link**"],
    ["see [docs", "see docs"],
    ["see [docs]", "see docs"],
    ["![alt](https://x/y.p", ""],
    ["pic ![al", "pic"],
    ["**a [b](c) d", "**a [b](c) d**"],
    ["done [x](y).", "done [x](y)."],
    ["snake_case_name", "snake_case_name"],
    ["a * b", "a * b"],
    ["a[i", "a[i"],
  ])("%j → %j", (input, output) => {
    expect(healInline(input)).toBe(output);
  });

  test.each([
    ["costs $5", "costs $5"],
    ["$20 and $30", "$20 and $30"],
    ["it is $", "it is"],
    ["price $10 and", "price $10 and"],
  ])("a price is never turned into math: %j → %j", (input, output) => {
    expect(healInline(input)).toBe(output);
  });
});

describe("healTex", () => {
  test.each([
    ["\\frac{a}{", "\\frac{a}{}"],
    ["\\frac{a}", "\\frac{a}{}"],
    ["\\frac", ""],
    ["\\frac{", "\\frac{}{}"],
    ["\\frac12", "\\frac12"],
    ["\\sqrt[3]", "\\sqrt[3]{}"],
    ["x = \\text{", "x = \\text{}"],
    ["\\sqrt{x", "\\sqrt{x}"],
    ["x^", "x"],
    ["a_", "a"],
    ["\\alp", ""],
    ["x + \\", "x +"],
    ["a \\\\", "a \\\\"],
    ["\\left( x", "\\left( x\\right."],
    ["\\begin{aligned} a &= b", "\\begin{aligned} a &= b\\end{aligned}"],
    ["\\begin{pmat", ""],
    ["{a \\left[ b", "{a \\left[ b\\right.}"],
  ])("%j → %j", (input, output) => {
    expect(healTex(input)).toBe(output);
  });
});

describe("heal (block context)", () => {
  test.each([
    ["```python\nx = 1\n``", "```python\nx = 1\n"],
    ["````\ncode\n```", "````\ncode\n"],
    ["$$\n\\frac{a}{", "$$\n\\frac{a}{}\n$$"],
    ["$$\nx^2\n$", "$$\nx^2\n$$"],
    ["\\[\nx", "\\[\nx\n\\]"],
    ["text\n\n$$\n", "text\n\n"],
    ["| a | b |", "| a | b |\n| --- | --- |"],
    ["| a | b |\n", "| a | b |\n| --- | --- |"],
    ["| a | b |\n| -", "| a | b |\n| --- | --- |"],
    ["| a | b |\n|---|:", "| a | b |\n| --- | --- |"],
    ["| a | b |\n|---|:-", "| a | b |\n|---|:-"],
    ["| a", "| a\n| --- |"],
    ["| a\n", "| a\n"],
    ["| a | b |\n|---|---|\n| 1 | **2", "| a | b |\n|---|---|\n| 1 | **2**"],
    ["| a | b |\n|---|---|\n| **1 | 2 |", "| a | b |\n|---|---|\n| **1 | 2 |"],
    ["- item **bold", "- item **bold**"],
    ["> quote `code", "> quote `code`"],
    ["para\n\n-", "para\n\n"],
    ["para\n\n1.", "para\n\n"],
    ["para\n\n#", "para\n\n"],
    ["Some *text* here.", "Some *text* here."],
  ])("%j → %j", (input, output) => {
    expect(healed(input)).toBe(output);
  });
});

// Every prefix of each snippet is rendered as it streams; the prose (text outside code and
// math) must never show the listed markers.
const NO_FLASH: Array<[string, RegExp]> = [
  [
    "Some **bold text** and *italic words* and ***both*** and `inline code` and ~~struck~~ end.",
    /[*`~]/,
  ],
  ["Nested **bold with *italic* inside** and _under_ and __strong__ words.", /[*_]/],
  ["A [link text](https://example.com/page) and ![alt text](https://x.org/y.png) end.", /[[\]()!]/],
  ["Math $x^2 + y^2$ and \\(a+b\\) and \\[c = d\\] and $$e$$ end.", /[$\\]/],
  ["```python\nprint('hi')\nx = [1, 2]\n```\n\nAfter the code.", /[`]/],
  ["$$\n\\frac{a}{b} + \\sqrt{c}\n$$\n\nAfter the math.", /[$]/],
  ["\\[\n\\int_0^1 x\\,dx\n\\]\n\nAfter.", /\\/],
  ["| Name | Value |\n|------|------:|\n| a | 1 |\n| b | 2 |\n\nAfter the table.", /[|]|---/],
  ["## A heading\n\nSome text.\n\n### Another", /#/],
  ["> A quote with **bold**\n> on two lines", />|\*/],
  ["Steps:\n\n1. first\n2. second\n\nBullets:\n\n+ one\n+ two", /\+|\d\./],
];

describe("no raw markers while streaming", () => {
  test.each(NO_FLASH)("%j", STREAMING, (text, markers) => {
    const el = document.createElement("div");
    const renderer = createRenderer(el);
    for (let i = 1; i <= text.length; i++) {
      renderer.update(text.slice(0, i));
      const prose = proseText(el);
      const why = `prefix ${JSON.stringify(text.slice(0, i))} shows ${JSON.stringify(prose)}`;
      expect(markers.test(prose), why).toBe(false);
    }
  });

  test("half-typed TeX in a display block typesets rather than erroring", STREAMING, () => {
    const text = "$$\n\\frac{a}{b} + \\sqrt{c} + \\left( x^2 \\right)\n$$";
    const el = document.createElement("div");
    const renderer = createRenderer(el);
    const pending: string[] = [];
    for (let i = 1; i <= text.length; i++) {
      renderer.update(text.slice(0, i));
      if (el.querySelector(".nbc-math-pending, .nbc-math-error")) pending.push(text.slice(0, i));
    }
    expect(pending).toEqual([]);
  });
});
