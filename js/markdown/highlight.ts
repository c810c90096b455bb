// Code blocks: highlight.js core with the languages a chat about code mostly needs (the full
// build is ~10x larger), wrapped in the bar the view wires its copy button to by delegation.

import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import latex from "highlight.js/lib/languages/latex";
import markdown from "highlight.js/lib/languages/markdown";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import r from "highlight.js/lib/languages/r";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { escapeHtml } from "../escape.js";

const LANGUAGES = {
  bash,
  c,
  cpp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  latex,
  markdown,
  plaintext,
  python,
  r,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, definition] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, definition);
// Names models write that the grammars do not alias themselves.
hljs.registerAliases(["py3", "python3"], { languageName: "python" });
hljs.registerAliases(["node"], { languageName: "javascript" });
hljs.registerAliases(["jsonc", "json5"], { languageName: "json" });
hljs.registerAliases(["sh-session", "terminal"], { languageName: "shell" });

/** The fence's language word, reduced to characters safe in a class name and a label. */
export function languageOf(info: string): string {
  const word = info.trim().split(/\s+/, 1)[0] ?? "";
  return word
    .toLowerCase()
    .replace(/[^a-z0-9_+#.-]/g, "")
    .slice(0, 32);
}

/** Highlighted HTML for `code`; unknown or missing languages are escaped, never guessed. */
export function highlightCode(code: string, language: string): { html: string; known: boolean } {
  if (language && hljs.getLanguage(language)) {
    try {
      return { html: hljs.highlight(code, { language, ignoreIllegals: true }).value, known: true };
    } catch {
      // A grammar bug must not lose the code: fall through to plain text.
    }
  }
  return { html: escapeHtml(code), known: false };
}

/** A whole code block: language bar with its buttons, then the highlighted code. Insert
 * below (its `value` is the fence's language) is shown only where the notebook can insert a
 * cell (see view/host.ts); Copy always. */
export function codeBlockHtml(code: string, info: string): string {
  const language = languageOf(info);
  const { html, known } = highlightCode(code, language);
  const codeClass = known ? `hljs language-${language}` : "hljs";
  const label = language || "text";
  return (
    `<div class="nbc-code"><div class="nbc-code-bar"><span class="nbc-code-lang">${label}</span>` +
    `<span class="nbc-code-actions"><button type="button" class="nbc-insert" value="${language}"` +
    ` aria-label="Insert below as a new cell">Insert below</button>` +
    `<button type="button" class="nbc-copy" aria-label="Copy code">Copy</button></span></div>` +
    `<pre><code class="${codeClass}">${html}</code></pre></div>\n`
  );
}
