// Hostile replies: whatever a model writes (or is tricked into writing), the rendered DOM holds
// no script, no event handler, no javascript:/vbscript:/data: URL, nothing that fetches (no
// remote <img>), and no id/name from content. Checked whole, and at every step of streaming
// (each prefix is also what an update split at that character leaves on screen).

import { describe, expect, test } from "vitest";
import { createRenderer, renderMarkdown } from "../../../js/markdown/index.js";
import { STREAMING } from "./helpers.js";
import { CORPUS, problems } from "./xss-corpus.js";

const inDiv = (html: string): HTMLElement => {
  const el = document.createElement("div");
  el.innerHTML = html;
  return el;
};

test("the checker itself sees each kind of problem in unsanitized HTML", () => {
  const raw = inDiv(
    '<script></script><img src="https://x/y.png"><a href="javascript:x">a</a><b onclick="x">b</b>' +
      '<i id="cookie" name="n" style="color:red">c</i><a href="https://x">no target</a><svg></svg>',
  );
  expect(problems(raw)).toEqual([
    "<SCRIPT>",
    "<IMG>",
    "svg outside KaTeX",
    "fetching src=https://x/y.png",
    "href=javascript:x",
    'link without target/rel: <a href="javascript:x">a</a>',
    "handler onclick",
    "id=cookie",
    "name=n",
    "style=color:red",
    'link without target/rel: <a href="https://x">no target</a>',
  ]);
});

describe("one-shot render", () => {
  test.each(CORPUS)("%j", (text) => {
    expect(problems(inDiv(renderMarkdown(text)))).toEqual([]);
  });

  test("the corpus as one reply", () => {
    expect(problems(inDiv(renderMarkdown(CORPUS.join("\n\n"))))).toEqual([]);
  });
});

describe("streamed, checked after every character", () => {
  test.each(CORPUS)("%j", STREAMING, (text) => {
    const el = document.createElement("div");
    const renderer = createRenderer(el);
    for (let i = 1; i <= text.length; i++) {
      renderer.update(text.slice(0, i));
      const found = problems(el);
      expect(found, `after ${JSON.stringify(text.slice(0, i))}`).toEqual([]);
    }
    renderer.update(text, true);
    expect(problems(el)).toEqual([]);
    expect(el.innerHTML).toBe(renderMarkdown(text));
  });

  test("split in two at every character", STREAMING, () => {
    const text = CORPUS.slice(0, 12).join("\n\n");
    for (let cut = 0; cut <= text.length; cut += 3) {
      const el = document.createElement("div");
      const renderer = createRenderer(el);
      renderer.update(text.slice(0, cut));
      renderer.update(text, true);
      expect(problems(el), `cut at ${cut}`).toEqual([]);
    }
  });
});

describe("what is shown instead", () => {
  test("raw HTML is shown as text", () => {
    const el = inDiv(renderMarkdown("<b>bold?</b> <script>alert(1)</script>"));
    expect(el.textContent?.trim()).toBe("<b>bold?</b> <script>alert(1)</script>");
  });

  test("a remote image becomes a link showing its alt text; nothing is fetched", () => {
    const el = inDiv(renderMarkdown('![A diagram](https://remote.example/d.png "t")'));
    const link = el.querySelector("a.nbc-image");
    expect(link?.getAttribute("href")).toBe("https://remote.example/d.png");
    expect(link?.getAttribute("title")).toBe("https://remote.example/d.png");
    expect(link?.textContent).toBe("A diagram");
    expect(el.querySelector("img")).toBeNull();
  });

  test("a data: image loses its address and keeps its alt text", () => {
    const el = inDiv(renderMarkdown("![pixel](data:image/png;base64,iVBORw0KGgo=)"));
    expect(el.querySelector("a")).toBeNull();
    expect(el.querySelector(".nbc-image")?.textContent).toBe("pixel");
    expect(el.innerHTML).not.toContain("data:");
  });

  test("links open in a new tab without an opener", () => {
    const text = "[site](https://example.com) and https://example.org and <https://example.net>";
    const el = inDiv(renderMarkdown(text));
    const links = Array.from(el.querySelectorAll("a"));
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "https://example.com",
      "https://example.org",
      "https://example.net",
    ]);
    for (const a of links) {
      expect(a.getAttribute("target")).toBe("_blank");
      expect(a.getAttribute("rel")).toBe("noopener noreferrer");
    }
  });

  test("a javascript: link keeps its text and loses the link", () => {
    const el = inDiv(renderMarkdown("[click me](javascript:alert(1))"));
    expect(el.querySelector("a[href]")).toBeNull();
    expect(el.textContent).toContain("click me");
  });

  test("tables scroll sideways in their own box, aligned by class", () => {
    const el = inDiv(renderMarkdown("| a | b |\n|:-:|--:|\n| 1 | 2 |"));
    expect(el.firstElementChild?.className).toBe("nbc-table-wrap");
    expect(el.querySelector("th")?.className).toBe("nbc-align-center");
    expect(el.querySelector("td:last-child")?.className).toBe("nbc-align-right");
    expect(el.querySelector("[style]")).toBeNull();
  });
});
