// Hostile replies: whatever a model writes (or is tricked into writing), the rendered DOM holds
// no script, no event handler, no javascript:/vbscript:/data: URL, nothing that fetches (no
// remote <img>), and no id/name from content. Checked whole, and at every step of streaming
// (each prefix is also what an update split at that character leaves on screen).

import { describe, expect, test } from "vitest";
import { createRenderer, renderMarkdown } from "../../../js/markdown/index.js";
import { STREAMING } from "./helpers.js";

const CORPUS: string[] = [
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "<svg onload=alert(1)><circle r=5></svg>",
  '<iframe src="javascript:alert(1)"></iframe>',
  "<style>body{display:none}</style>",
  '<form action="javascript:alert(1)"><input name="cookie"><button>go</button></form>',
  '<a href="javascript:alert(1)">x</a>',
  '<div id="__proto__">x</div> <a name="cookie">y</a> <span id=cookie>z</span>',
  "<!-- comment --><script>alert(1)</script>",
  "&lt;script&gt;alert(1)&lt;/script&gt;",
  "[x](javascript:alert(1))",
  "[x](JaVaScRiPt:alert(1))",
  "[x](&#106;avascript:alert(1))",
  "[x](jav&#x61;script:alert(1))",
  "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
  "[x](java%0ascript:alert(1))",
  "[x]( javascript:alert(1) )",
  "[x](<javascript:alert(1)>)",
  "[x](vbscript:msgbox(1))",
  "[x](VbScRiPt:msgbox(1))",
  "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "[x](DATA:text/html,<script>alert(1)</script>)",
  "[x](file:///etc/passwd)",
  "<javascript:alert(1)> and <vbscript:msgbox(1)> and <data:text/html,x>",
  "[ref] and [x][ref]\n\n[ref]: javascript:alert(1)",
  "[ok][r]\n\n[r]: data:text/html,<script>alert(1)</script>",
  "![x](https://remote.example/img.png)",
  '![x](https://remote.example/img.png "t" onerror="alert(1)")',
  "![x](javascript:alert(1))",
  "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
  "![x](data:image/png;base64,iVBORw0KGgo=)",
  "![x][img]\n\n[img]: https://remote.example/track.gif",
  "[![inner](https://remote.example/a.png)](https://example.com)",
  '[link](https://ok.example "title\\" onmouseover=\\"alert(1)")',
  '[x](https://example.com/" onclick="alert(1))',
  'https://example.com/"onmouseover="alert(1)',
  '```x" onmouseover="alert(1)\ncode\n```',
  "```<script>alert(1)</script>\ncode\n```",
  "| <script>alert(1)</script> | x |\n|---|---|\n| <img src=x onerror=alert(1)> | y |",
  "**<img src=x onerror=alert(1)>** and _<b onmouseover=alert(1)>b</b>_",
  "`<script>alert(1)</script>`",
  "$\\href{javascript:alert(1)}{x}$",
  "$$\\htmlClass{x}{y}$$",
  "$\\url{javascript:alert(1)}$",
  "$\\htmlId{cookie}{x}$ and \\(\\htmlData{name=cookie}{y}\\)",
  "$\\htmlStyle{background:url(https://remote.example/x)}{x}$",
  "\\(\\includegraphics{https://remote.example/a.png}\\)",
  "\\[\\href{vbscript:msgbox(1)}{x}\\]",
  "$</span><img src=x onerror=alert(1)>$",
  "$$\n</div><script>alert(1)</script>\n$$",
  "> <script>alert(1)</script>\n> [x](javascript:alert(1))",
  "- [x](javascript:alert(1))\n- ![y](https://remote.example/y.png)",
];

const DANGEROUS_TAGS =
  "script, style, iframe, frame, object, embed, form, input, textarea, select, img, image, " +
  "video, audio, source, picture, link, meta, base, template, foreignObject, use";
const BAD_URL = /^(?:javascript|vbscript|data|file):/i;

function problems(root: Element): string[] {
  const found: string[] = [];
  for (const node of Array.from(root.querySelectorAll(DANGEROUS_TAGS)))
    found.push(`<${node.nodeName}>`);
  for (const svg of Array.from(root.querySelectorAll("svg"))) {
    if (!svg.closest(".katex")) found.push("svg outside KaTeX");
  }
  for (const node of Array.from(root.querySelectorAll("*"))) {
    for (const { name, value } of Array.from(node.attributes)) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: browsers skip these in URLs
      const plain = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
      if (/^on/i.test(name)) found.push(`handler ${name}`);
      if (name === "id" || name === "name") found.push(`${name}=${value}`);
      if (name === "style" && !node.closest(".katex")) found.push(`style=${value}`);
      if (name === "style" && /url\(/i.test(value)) found.push(`style url ${value}`);
      if (/^(?:href|src|xlink:href|action|formaction|srcset|background|poster)$/i.test(name)) {
        if (BAD_URL.test(plain)) found.push(`${name}=${value}`);
        if (name !== "href") found.push(`fetching ${name}=${value}`);
      }
    }
    if (node.nodeName === "A" && node.hasAttribute("href")) {
      if (
        node.getAttribute("target") !== "_blank" ||
        node.getAttribute("rel") !== "noopener noreferrer"
      ) {
        found.push(`link without target/rel: ${node.outerHTML}`);
      }
    }
    // Our own two buttons on a code block; Insert's value is the fence's language, reduced
    // to a word (it ends up in a new cell's magic or fence, never as markup).
    if (node.nodeName === "BUTTON" && !["nbc-copy", "nbc-insert"].includes(node.className)) {
      found.push(`foreign button ${node.outerHTML}`);
    }
    if (node.nodeName === "BUTTON" && !/^[a-z0-9_+#.-]*$/.test(node.getAttribute("value") ?? "")) {
      found.push(`button value ${node.outerHTML}`);
    }
  }
  return found;
}

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
