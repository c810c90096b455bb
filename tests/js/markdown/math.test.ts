// Math: four delimiters, prices that stay prices, bad TeX that shows its source, KaTeX that
// never links or runs anything.

import { describe, expect, test } from "vitest";
import { createRenderer, renderMarkdown } from "../../../js/markdown/index.js";
import { looksLikeCurrency, matchInlineMath } from "../../../js/markdown/math.js";

const render = (text: string): HTMLElement => {
  const el = document.createElement("div");
  el.innerHTML = renderMarkdown(text);
  return el;
};

/** The TeX sources KaTeX typeset, in order (from its hidden MathML annotation). */
const typeset = (el: Element): string[] =>
  Array.from(el.querySelectorAll("annotation")).map((node) => node.textContent ?? "");

describe("delimiters", () => {
  test.each([
    ["$x^2$", ["x^2"], false],
    ["\\(a + b\\)", ["a + b"], false],
    ["\\[\\sum_k k\\]", ["\\sum_k k"], true],
    ["$$\\int_0^1 f$$", ["\\int_0^1 f"], true],
    ["text $a$ and $b$ end", ["a", "b"], false],
    ["$$\nE = mc^2\n$$", ["E = mc^2"], true],
    ["\\[\na = b\n\\]", ["a = b"], true],
    ["$$ x = 1 $$", ["x = 1"], true],
    ["- item with $y$", ["y"], false],
    ["| $m$ |\n|---|\n| $n$ |", ["m", "n"], false],
  ])("%j", (text, sources, display) => {
    const el = render(text);
    expect(typeset(el)).toEqual(sources);
    expect(el.querySelector(".katex-display") !== null).toBe(display);
  });

  test("a display block may follow a paragraph line directly", () => {
    const el = render("The formula:\n$$\nx^2\n$$\nafter");
    expect(el.querySelector("p")?.textContent).toBe("The formula:");
    expect(typeset(el)).toEqual(["x^2"]);
    expect(el.textContent).toContain("after");
  });

  test("math inside code stays code", () => {
    const el = render("`$x$` and\n\n```\n$$y$$\n```");
    expect(typeset(el)).toEqual([]);
    expect(el.textContent).toContain("$x$");
    expect(el.textContent).toContain("$$y$$");
  });

  test("an escaped dollar is a dollar", () => {
    const el = render("\\$x\\$ and \\$5");
    expect(typeset(el)).toEqual([]);
    expect(el.textContent?.trim()).toBe("$x$ and $5");
  });
});

describe("currency stays text", () => {
  test.each([
    "It costs $5 and $10.",
    "$20 and $30",
    "from $1,000 to $1.5M",
    "A refund of $5 arrived; then $7 more, total 12$ in credit.",
    "between $5 and 10$ more",
    "Spending 40$ or $ 5",
    "Pro plan: $29/month, or $290/year",
    "only $",
    "$5",
  ])("%j", (text) => {
    const el = render(text);
    expect(el.querySelector(".katex")).toBeNull();
    expect(el.textContent?.trim()).toBe(text);
  });

  test("money and math in one sentence", () => {
    const el = render("The item costs $5, while $f(x) = x^2$ is a function.");
    expect(typeset(el)).toEqual(["f(x) = x^2"]);
    expect(el.textContent).toContain("costs $5, while");
  });

  test("the currency guard only rejects prose after a leading digit", () => {
    expect(looksLikeCurrency("5 and 10")).toBe(true);
    expect(looksLikeCurrency("2x + 1")).toBe(false);
    expect(looksLikeCurrency("3^n")).toBe(false);
    expect(looksLikeCurrency("x and y")).toBe(false);
    expect(matchInlineMath("$2x + 1$", 0)?.content).toBe("2x + 1");
    expect(matchInlineMath("$5 and 10$ more", 0)).toBeNull();
    expect(matchInlineMath("$x$5", 0)).toBeNull();
    expect(matchInlineMath("$x $", 0)).toBeNull();
  });

  test("prices stay text at every step of streaming", () => {
    const text = "It costs $5 and $10, or $20 and $30 with shipping.";
    const el = document.createElement("div");
    const renderer = createRenderer(el);
    for (let i = 1; i <= text.length; i++) {
      renderer.update(text.slice(0, i));
      expect(el.querySelector(".katex"), text.slice(0, i)).toBeNull();
    }
  });
});

describe("bad TeX", () => {
  test("shows its source in the error style, with KaTeX's message", () => {
    const el = render("Before $\\frac{1}{$ after and $\\notacommand{x}$.");
    const errors = Array.from(el.querySelectorAll(".nbc-math-error"));
    expect(errors.map((e) => e.textContent)).toEqual(["$\\frac{1}{$", "$\\notacommand{x}$"]);
    expect(errors[0]?.getAttribute("title")).toMatch(/KaTeX parse error/);
    expect(el.textContent).toContain("Before");
    expect(el.textContent).toContain("after and");
  });

  test("a bad display block shows its source and the rest of the message renders", () => {
    const el = render("$$\n\\begin{matrix} a \\end{pmatrix}\n$$\n\nNext paragraph.");
    const error = el.querySelector(".nbc-math-error.nbc-math-block");
    expect(error?.textContent).toBe("$$\\begin{matrix} a \\end{pmatrix}$$");
    expect(el.querySelector("p")?.textContent).toBe("Next paragraph.");
  });

  test("is shown quietly while it may still be half-typed, as an error once final", () => {
    const el = document.createElement("div");
    const renderer = createRenderer(el);
    renderer.update("Look: $\\notacommand{x}$ and more");
    expect(el.querySelector(".nbc-math-pending")).not.toBeNull();
    expect(el.querySelector(".nbc-math-error")).toBeNull();
    renderer.update("Look: $\\notacommand{x}$ and more", true);
    expect(el.querySelector(".nbc-math-error")).not.toBeNull();
    expect(el.querySelector(".nbc-math-pending")).toBeNull();
  });
});

describe("KaTeX stays inert", () => {
  test.each([
    "$\\href{javascript:alert(1)}{x}$",
    "$\\url{javascript:alert(1)}$",
    "$\\href{https://example.com}{x}$",
    "$$\\htmlClass{evil}{x}$$",
    "$\\htmlId{cookie}{x}$",
    "$\\htmlStyle{position:fixed;top:0}{x}$",
    "$\\htmlData{foo=bar}{x}$",
    "\\(\\includegraphics{https://example.com/a.png}\\)",
  ])("%j", (text) => {
    const el = render(text);
    expect(el.querySelector("a, img, [id], [data-foo]")).toBeNull();
    expect(el.querySelector(".evil")).toBeNull();
    // The TeX source may show as text; no attribute may carry it.
    const attributes = Array.from(el.querySelectorAll("*")).flatMap((node) =>
      Array.from(node.attributes).map((a) => `${a.name}=${a.value}`),
    );
    expect(attributes.filter((a) => /javascript:|position:\s*fixed|href|src=/i.test(a))).toEqual(
      [],
    );
  });
});
