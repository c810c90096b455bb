// Each fixture next to its expected HTML (fixtures/<name>.html), so a change in what we emit
// shows up as a diff in review. Formulas are written as their TeX: KaTeX's own markup is
// KaTeX's business, ours is the frame around it. `vitest -u` rewrites the files.

import { expect, test } from "vitest";
import { renderMarkdown } from "../../../js/markdown/index.js";
import { fixture, fixtureNames } from "./helpers.js";

function readable(html: string): string {
  const el = document.createElement("div");
  el.innerHTML = html;
  for (const formula of Array.from(el.querySelectorAll(".nbc-formula"))) {
    const tex = formula.querySelector("annotation")?.textContent ?? "";
    const display = formula.querySelector(".katex-display") ? "display " : "";
    formula.textContent = `[KaTeX ${display}${tex}]`;
  }
  return el.innerHTML;
}

test.each(fixtureNames())("%s", async (name) => {
  const html = readable(renderMarkdown(fixture(name)));
  await expect(html).toMatchFileSnapshot(`./fixtures/${name.replace(/\.md$/, ".html")}`);
});
