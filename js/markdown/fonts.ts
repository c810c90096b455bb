// KaTeX's fonts, bundled (woff2 only: every target browser reads it) and registered as
// @font-face rules in the document's own <style>. Not in the widget CSS: hosts that put widget
// CSS in a shadow root (marimo) never register @font-face rules found there, and nothing may
// be fetched from a CDN.

import amsRegular from "katex/dist/fonts/KaTeX_AMS-Regular.woff2";
import caligraphicBold from "katex/dist/fonts/KaTeX_Caligraphic-Bold.woff2";
import caligraphicRegular from "katex/dist/fonts/KaTeX_Caligraphic-Regular.woff2";
import frakturBold from "katex/dist/fonts/KaTeX_Fraktur-Bold.woff2";
import frakturRegular from "katex/dist/fonts/KaTeX_Fraktur-Regular.woff2";
import mainBold from "katex/dist/fonts/KaTeX_Main-Bold.woff2";
import mainBoldItalic from "katex/dist/fonts/KaTeX_Main-BoldItalic.woff2";
import mainItalic from "katex/dist/fonts/KaTeX_Main-Italic.woff2";
import mainRegular from "katex/dist/fonts/KaTeX_Main-Regular.woff2";
import mathBoldItalic from "katex/dist/fonts/KaTeX_Math-BoldItalic.woff2";
import mathItalic from "katex/dist/fonts/KaTeX_Math-Italic.woff2";
import sansserifBold from "katex/dist/fonts/KaTeX_SansSerif-Bold.woff2";
import sansserifItalic from "katex/dist/fonts/KaTeX_SansSerif-Italic.woff2";
import sansserifRegular from "katex/dist/fonts/KaTeX_SansSerif-Regular.woff2";
import scriptRegular from "katex/dist/fonts/KaTeX_Script-Regular.woff2";
import size1Regular from "katex/dist/fonts/KaTeX_Size1-Regular.woff2";
import size2Regular from "katex/dist/fonts/KaTeX_Size2-Regular.woff2";
import size3Regular from "katex/dist/fonts/KaTeX_Size3-Regular.woff2";
import size4Regular from "katex/dist/fonts/KaTeX_Size4-Regular.woff2";
import typewriterRegular from "katex/dist/fonts/KaTeX_Typewriter-Regular.woff2";

type Variant = "Regular" | "Bold" | "Italic" | "BoldItalic";

const FONTS: ReadonlyArray<readonly [family: string, variant: Variant, url: string]> = [
  ["KaTeX_AMS", "Regular", amsRegular],
  ["KaTeX_Caligraphic", "Bold", caligraphicBold],
  ["KaTeX_Caligraphic", "Regular", caligraphicRegular],
  ["KaTeX_Fraktur", "Bold", frakturBold],
  ["KaTeX_Fraktur", "Regular", frakturRegular],
  ["KaTeX_Main", "Bold", mainBold],
  ["KaTeX_Main", "BoldItalic", mainBoldItalic],
  ["KaTeX_Main", "Italic", mainItalic],
  ["KaTeX_Main", "Regular", mainRegular],
  ["KaTeX_Math", "BoldItalic", mathBoldItalic],
  ["KaTeX_Math", "Italic", mathItalic],
  ["KaTeX_SansSerif", "Bold", sansserifBold],
  ["KaTeX_SansSerif", "Italic", sansserifItalic],
  ["KaTeX_SansSerif", "Regular", sansserifRegular],
  ["KaTeX_Script", "Regular", scriptRegular],
  ["KaTeX_Size1", "Regular", size1Regular],
  ["KaTeX_Size2", "Regular", size2Regular],
  ["KaTeX_Size3", "Regular", size3Regular],
  ["KaTeX_Size4", "Regular", size4Regular],
  ["KaTeX_Typewriter", "Regular", typewriterRegular],
];

const MARKER = "data-nbc-katex-fonts";

/** The @font-face rules, one per bundled font file. */
export function katexFontFaceCss(): string {
  return FONTS.map(([family, variant, url]) => {
    const weight = variant.startsWith("Bold") ? "bold" : "normal";
    const style = variant.endsWith("Italic") ? "italic" : "normal";
    return (
      `@font-face{font-family:"${family}";src:url(${JSON.stringify(url)}) format("woff2");` +
      `font-weight:${weight};font-style:${style};font-display:block}`
    );
  }).join("\n");
}

/**
 * Add the rules to `doc.head` once per document. Checked in the DOM, not in module state:
 * anywidget evaluates this module once per widget, and all of them share the page.
 */
export function ensureKatexFonts(doc: Document): void {
  const head = doc.head ?? doc.documentElement;
  if (!head || doc.querySelector(`style[${MARKER}]`)) return;
  const style = doc.createElement("style");
  style.setAttribute(MARKER, "");
  style.textContent = katexFontFaceCss();
  head.append(style);
}
