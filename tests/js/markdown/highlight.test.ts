// Code blocks: the exact markup the view wires its copy button to, the chosen languages,
// escaping, and highlighting while the fence is still open.

import hljs from "highlight.js/lib/core";
import { describe, expect, test } from "vitest";
import { codeBlockHtml, languageOf } from "../../../js/markdown/highlight.js";
import { createRenderer, renderMarkdown } from "../../../js/markdown/index.js";

const inDiv = (html: string): HTMLElement => {
  const el = document.createElement("div");
  el.innerHTML = html;
  return el;
};

test("a fence renders as bar + insert and copy buttons + highlighted code, exactly", () => {
  expect(renderMarkdown("```python\nx = 1\n```")).toBe(
    '<div class="nbc-code"><div class="nbc-code-bar"><span class="nbc-code-lang">python</span>' +
      '<span class="nbc-code-actions"><button type="button" class="nbc-insert" value="python"' +
      ' aria-label="Insert below as a new cell">Insert below</button>' +
      '<button type="button" class="nbc-copy" aria-label="Copy code">Copy</button></span></div>' +
      '<pre><code class="hljs language-python">x = <span class="hljs-number">1</span>\n' +
      "</code></pre></div>\n",
  );
});

test("the copy target holds exactly the code", () => {
  const code = 'if a < b and c > "d":\n    print(a & b)\n';
  const el = inDiv(renderMarkdown(`\`\`\`python\n${code}\`\`\``));
  expect(el.querySelector(".nbc-code pre code")?.textContent).toBe(code);
});

test.each([
  "python",
  "py",
  "javascript",
  "js",
  "typescript",
  "ts",
  "json",
  "bash",
  "sh",
  "shell",
  "console",
  "sql",
  "html",
  "xml",
  "css",
  "yaml",
  "yml",
  "markdown",
  "md",
  "c",
  "cpp",
  "c++",
  "java",
  "go",
  "golang",
  "rust",
  "rs",
  "r",
  "latex",
  "tex",
  "diff",
  "patch",
  "plaintext",
  "text",
])("language %j is highlighted", (name) => {
  expect(hljs.getLanguage(name)).toBeDefined();
  const html = codeBlockHtml("x", name);
  expect(html).toContain(`class="hljs language-${name}"`);
  expect(html).toContain(`<span class="nbc-code-lang">${name}</span>`);
});

test("an unknown or missing language is escaped, not guessed", () => {
  const unknown = inDiv(renderMarkdown("```brainfuck\n<b>&</b>\n```"));
  expect(unknown.querySelector("code")?.className).toBe("hljs");
  expect(unknown.querySelector("code")?.textContent).toBe("<b>&</b>\n");
  expect(unknown.querySelector("code span")).toBeNull();
  expect(unknown.querySelector(".nbc-code-lang")?.textContent).toBe("brainfuck");
  const none = inDiv(renderMarkdown("```\nplain\n```"));
  expect(none.querySelector(".nbc-code-lang")?.textContent).toBe("text");
  expect(none.querySelector("code")?.className).toBe("hljs");
});

test("indented code gets the same frame", () => {
  const el = inDiv(renderMarkdown("    indented()\n"));
  expect(el.querySelector(".nbc-code .nbc-copy")).not.toBeNull();
  expect(el.querySelector("code")?.textContent).toBe("indented()\n");
});

describe("the info string", () => {
  test.each([
    ["python", "python"],
    ["  Python  extra words", "python"],
    ['x" onmouseover="alert(1)', "x"],
    ['py"onclick="x', "pyonclickx"],
    ["c++", "c++"],
    ["<script>", "script"],
    ["a".repeat(80), "a".repeat(32)],
  ])("%j → %j", (info, language) => {
    expect(languageOf(info)).toBe(language);
  });
});

test("an unclosed fence is highlighted while it streams", () => {
  const el = document.createElement("div");
  const renderer = createRenderer(el);
  renderer.update("Here:\n\n```python\ndef f(x):\n    return x + 1");
  const code = el.querySelector(".nbc-code code.language-python");
  expect(code).not.toBeNull();
  expect(code?.querySelector(".hljs-keyword")?.textContent).toBe("def");
  expect(code?.textContent).toContain("return x + 1");
});
