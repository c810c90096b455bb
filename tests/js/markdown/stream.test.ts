// Streaming = one-shot: for every prefix of every fixture (and for random chunkings) update()
// never throws, and once the text is final the DOM is exactly what renderMarkdown() gives.

import { describe, expect, test } from "vitest";
import { createRenderer, renderMarkdown } from "../../../js/markdown/index.js";
import type { WorkMeter } from "../../../js/markdown/renderer.js";
import { MarkdownStream } from "../../../js/markdown/renderer.js";
import { chunkedPrefixes, fixture, fixtureNames, STREAMING } from "./helpers.js";

const newElement = (): HTMLElement => document.createElement("div");

describe.each(fixtureNames())("%s", (name) => {
  const text = fixture(name);

  test(
    "every prefix, one character at a time, ends equal to the one-shot render",
    STREAMING,
    () => {
      const el = newElement();
      const renderer = createRenderer(el);
      for (let i = 1; i <= text.length; i++) renderer.update(text.slice(0, i));
      renderer.update(text, true);
      expect(el.innerHTML).toBe(renderMarkdown(text));
    },
  );

  test("any prefix made final equals the one-shot render of that prefix", STREAMING, () => {
    const el = newElement();
    const renderer = createRenderer(el);
    // Final at many points, then streaming on: a stopped reply that is continued.
    const prefixes = chunkedPrefixes(text, 5, 16);
    const every = Math.ceil(prefixes.length / 24);
    prefixes.forEach((prefix, i) => {
      const check = i % every === 0 || i === prefixes.length - 1;
      renderer.update(prefix, check);
      if (check) expect(el.innerHTML, `prefix of ${prefix.length}`).toBe(renderMarkdown(prefix));
    });
  });

  test.each([1, 2, 3])(
    "random chunking (seed %i) ends equal to the one-shot render",
    STREAMING,
    (seed) => {
      const el = newElement();
      const renderer = createRenderer(el);
      for (const prefix of chunkedPrefixes(text, seed * 7919, 40)) renderer.update(prefix);
      renderer.update(text, true);
      expect(el.innerHTML).toBe(renderMarkdown(text));
    },
  );

  test(
    "after every update, settled blocks are what a one-shot render of them gives",
    STREAMING,
    () => {
      // Settled blocks keep the nodes the tail drew for them: checked as they settle, not only
      // at the end (a wrong node kept would stay wrong until the reply is rendered again).
      const el = newElement();
      const renderer = new MarkdownStream(el);
      let settled = -1;
      let expected = "";
      for (const prefix of chunkedPrefixes(text, 17, 24)) {
        renderer.update(prefix);
        if (renderer.settledLength !== settled) {
          settled = renderer.settledLength;
          expected = renderMarkdown(text.slice(0, settled));
        }
        expect(el.innerHTML.startsWith(expected), `prefix of ${prefix.length}`).toBe(true);
      }
    },
  );

  test("CRLF line endings render like LF, even split between updates", STREAMING, () => {
    const crlf = text.replace(/\n/g, "\r\n");
    const el = newElement();
    const renderer = createRenderer(el);
    for (const prefix of chunkedPrefixes(crlf, 99, 16)) renderer.update(prefix);
    renderer.update(crlf, true);
    expect(el.innerHTML).toBe(renderMarkdown(text));
  });
});

describe("streaming behaviour", () => {
  test("settled blocks keep their DOM nodes while the reply grows", () => {
    const el = newElement();
    const renderer = createRenderer(el);
    let text = "# Title\n\nFirst paragraph.\n\nSecond";
    renderer.update(text);
    const heading = el.querySelector("h1");
    const first = el.querySelector("p");
    expect(first?.textContent).toBe("First paragraph.");
    for (const more of [" paragraph", " grows.\n\n- a list", "\n- item\n\nEnd."]) {
      text += more;
      renderer.update(text);
    }
    expect(el.querySelector("h1")).toBe(heading);
    expect(el.querySelector("p")).toBe(first);
    expect(el.querySelectorAll("p")[1]?.textContent).toBe("Second paragraph grows.");
  });

  test("a block that settles keeps the very nodes the tail drew for it", () => {
    const el = newElement();
    const work: Record<string, number> = {};
    const meter: WorkMeter = (kind, chars) => (work[kind] = (work[kind] ?? 0) + chars);
    const renderer = new MarkdownStream(el, meter);
    renderer.update("Some *text* with $x^2$ in it.\n\nNext");
    expect(renderer.settledLength).toBe(0);
    const [paragraph] = Array.from(el.children);
    const formula = el.querySelector(".katex");
    renderer.update("Some *text* with $x^2$ in it.\n\nNext paragraph.\n\n## Head");
    expect(renderer.settledLength).toBeGreaterThan(0);
    expect(el.children[0]).toBe(paragraph);
    expect(el.querySelector(".katex")).toBe(formula);
    expect(work.block ?? 0).toBe(0);
    expect(work.adopt).toBe(renderer.settledLength);
  });

  test("a block drawn with unfinished math is rendered again when it settles", () => {
    // While streaming, TeX that does not typeset yet is shown quietly ("pending"); settled,
    // it is an error, as in a one-shot render: the tail's nodes cannot be kept as they are.
    const text = "Bad $\\frac{1}{$ math.\n\nNext paragraph.\n\nLast";
    const el = newElement();
    const work: Record<string, number> = {};
    const meter: WorkMeter = (kind, chars) => (work[kind] = (work[kind] ?? 0) + chars);
    const renderer = new MarkdownStream(el, meter);
    renderer.update("Bad $\\frac{1}{$ math.\n\nNext");
    expect(el.querySelector(".nbc-math-pending")).not.toBeNull();
    renderer.update(text);
    expect(work.block).toBe("Bad $\\frac{1}{$ math.\n".length);
    expect(el.querySelector(".nbc-math-pending")).toBeNull();
    expect(el.querySelector(".nbc-math-error")).not.toBeNull();
    renderer.update(text, true);
    expect(el.innerHTML).toBe(renderMarkdown(text));
  });

  test("a text that is not an extension of the last one starts over", () => {
    const el = newElement();
    const renderer = createRenderer(el);
    renderer.update("# Old reply\n\nwith text\n\nand more");
    renderer.update("Completely **new**", true);
    expect(el.innerHTML).toBe(renderMarkdown("Completely **new**"));
  });

  test("the same text again does nothing", () => {
    const el = newElement();
    const renderer = createRenderer(el);
    renderer.update("Hello *world*", true);
    const node = el.firstChild;
    renderer.update("Hello *world*", true);
    expect(el.firstChild).toBe(node);
  });

  test("destroy empties the element", () => {
    const el = newElement();
    const renderer = createRenderer(el);
    renderer.update("Some text\n\nmore");
    renderer.destroy();
    expect(el.childNodes.length).toBe(0);
  });

  test("a reference defined after its use resolves in settled blocks too", STREAMING, () => {
    const text =
      "See [the docs][d] first.\n\nMiddle paragraph.\n\n[d]: https://example.com/docs\n\nLast.";
    const el = newElement();
    const renderer = createRenderer(el);
    for (let i = 1; i <= text.length; i++) renderer.update(text.slice(0, i));
    renderer.update(text, true);
    expect(el.querySelector("a")?.getAttribute("href")).toBe("https://example.com/docs");
    expect(el.innerHTML).toBe(renderMarkdown(text));
  });

  test("a definition still in the tail resolves once the text is final", () => {
    const text = "Use [x].\n\n[x]: https://example.com/x";
    const el = newElement();
    const renderer = createRenderer(el);
    renderer.update(text);
    renderer.update(text, true);
    expect(el.querySelector("a")?.getAttribute("href")).toBe("https://example.com/x");
    expect(el.innerHTML).toBe(renderMarkdown(text));
  });
});
