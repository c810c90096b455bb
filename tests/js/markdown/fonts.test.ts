// KaTeX fonts: registered once per document, in document.head (a shadow root would not
// register them), woff2 only, bundled as data URLs so nothing is fetched.

import { expect, test } from "vitest";
import { ensureKatexFonts, katexFontFaceCss } from "../../../js/markdown/fonts.js";

const FAMILIES = [
  "KaTeX_AMS",
  "KaTeX_Caligraphic",
  "KaTeX_Fraktur",
  "KaTeX_Main",
  "KaTeX_Math",
  "KaTeX_SansSerif",
  "KaTeX_Script",
  "KaTeX_Size1",
  "KaTeX_Size2",
  "KaTeX_Size3",
  "KaTeX_Size4",
  "KaTeX_Typewriter",
];

test("one @font-face per KaTeX font file, woff2 only", () => {
  const css = katexFontFaceCss();
  const rules = css.match(/@font-face\{[^}]*\}/g) ?? [];
  expect(rules).toHaveLength(20);
  expect(new Set(rules.map((rule) => /font-family:"([^"]+)"/.exec(rule)?.[1]))).toEqual(
    new Set(FAMILIES),
  );
  expect(css).not.toMatch(/\.woff"|\.ttf|format\("woff"\)|format\("truetype"\)/);
  expect(css).toContain('font-family:"KaTeX_Main";src:url(');
  expect(rules.filter((rule) => rule.includes("font-weight:bold;font-style:italic"))).toHaveLength(
    2,
  );
});

test("registered once per document, in its head", () => {
  ensureKatexFonts(document);
  ensureKatexFonts(document);
  const styles = document.head.querySelectorAll("style[data-nbc-katex-fonts]");
  expect(styles).toHaveLength(1);
  expect(styles[0]?.textContent).toBe(katexFontFaceCss());

  const other = document.implementation.createHTMLDocument("another page");
  ensureKatexFonts(other);
  expect(other.head.querySelectorAll("style[data-nbc-katex-fonts]")).toHaveLength(1);
  expect(document.head.querySelectorAll("style[data-nbc-katex-fonts]")).toHaveLength(1);
});
