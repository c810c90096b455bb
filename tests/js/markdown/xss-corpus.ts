// Hostile replies and the check of what rendering them left, shared by the renderer's tests
// and the HTML export's (js/view/export.ts).

export const CORPUS: readonly string[] = [
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

/** What in `root` could run, fetch or clobber: empty when the HTML is inert. */
export function problems(root: Element): string[] {
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
