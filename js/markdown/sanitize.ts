// DOMPurify over every rendered block. markdown-it already runs with `html: false`, so this is
// the second wall: whatever a model writes, the output holds no script, no handler, no
// `javascript:`/`data:` URL, nothing that fetches, no `style` outside KaTeX, no `id`/`name`.

import type { Config, DOMPurify } from "dompurify";
import createDOMPurify from "dompurify";
import { FORMULA, fillFormulas } from "./math.js";

// http(s), mailto and scheme-less (relative, #fragment) URLs; every other scheme is dropped.
const SAFE_URL = /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

// KaTeX lays formulas out with inline styles it writes itself; those are kept, provided they
// hold plain lengths and colours (nothing that loads or escapes).
const UNSAFE_CSS = /url\s*\(|expression\s*\(|@import|\\|javascript:|behavior\s*:/i;

const CONFIG: Config = {
  ALLOWED_URI_REGEXP: SAFE_URL,
  // KaTeX's MathML wraps the TeX source in <semantics>/<annotation> (never annotation-xml).
  ADD_TAGS: ["semantics", "annotation"],
  ADD_ATTR: ["encoding"],
  FORBID_TAGS: [
    "style",
    "img",
    "image",
    "picture",
    "source",
    "video",
    "audio",
    "track",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "form",
    "input",
    "textarea",
    "select",
    "option",
    "link",
    "meta",
    "base",
    "template",
    "use",
    "foreignObject",
    "annotation-xml",
    "dialog",
  ],
  // No `id`/`name`: they would clobber DOM globals (`document.cookie`, `window.x`).
  FORBID_ATTR: ["id", "name", "srcset", "action", "formaction", "xlink:href", "ping", "background"],
  ALLOW_DATA_ATTR: false,
  IN_PLACE: true,
};

function insideKatex(node: Element): boolean {
  // A plain walk up: far cheaper than closest() with a selector, and KaTeX output is all spans.
  for (let at: Element | null = node; at; at = at.parentElement) {
    if (at.classList.contains("katex")) return true;
  }
  return false;
}

function createPurifier(): DOMPurify {
  const purifier = createDOMPurify(window);
  // One `afterSanitizeAttributes` hook does all our checks: an `uponSanitize…` hook would make
  // DOMPurify copy its whole allow-list for every element it visits.
  purifier.addHook("afterSanitizeAttributes", (node) => {
    const style = node.getAttribute("style");
    if (style !== null && (!insideKatex(node) || UNSAFE_CSS.test(style)))
      node.removeAttribute("style");
    if (node.nodeName !== "A") return;
    if (node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    } else {
      node.removeAttribute("target");
    }
  });
  // Parsed once: DOMPurify would otherwise rebuild its allow-lists on every call.
  purifier.setConfig(CONFIG);
  return purifier;
}

let purifier: DOMPurify | null = null;
const purify = (): DOMPurify => (purifier ??= createPurifier());

// HTML is parsed into a document without a browsing context (nothing in it loads or runs)
// and cleaned in place: DOMPurify would otherwise make a new document for every call. The
// document is replaced now and then, because jsdom (the test DOM) keeps every NodeIterator
// DOMPurify ever made on it and visits each one whenever a node leaves the document.
const INERT_USES = 50;
let inert: Document | null = null;
let inertUses = 0;

function inertHolder(): HTMLElement {
  if (!inert || ++inertUses > INERT_USES) {
    inert = document.implementation.createHTMLDocument("");
    inertUses = 0;
  }
  return inert.createElement("div");
}

function sanitizedHolder(html: string): HTMLElement {
  const holder = inertHolder();
  holder.innerHTML = html;
  purify().sanitize(holder);
  return holder;
}

function toFragment(holder: HTMLElement): DocumentFragment {
  const fragment = document.createDocumentFragment();
  fragment.append(...Array.from(holder.childNodes));
  return fragment;
}

const sanitizeFormula = (html: string): DocumentFragment => toFragment(sanitizedHolder(html));

/** Fill the (empty) formula elements in or under `node`; see math.ts. */
export function fillMath(node: Node): void {
  fillFormulas(node, sanitizeFormula);
}

/**
 * Sanitized HTML as detached nodes, ready to insert. With `formulas: false` the formula
 * elements stay empty, for a patcher that keeps the ones already on screen (`fillMath` the rest).
 */
export function sanitizeToFragment(html: string, { formulas = true } = {}): DocumentFragment {
  const fragment = toFragment(sanitizedHolder(html));
  if (formulas && html.includes(FORMULA)) fillMath(fragment);
  return fragment;
}

/**
 * Several blocks' HTML sanitized as one, plus how many top-level nodes each block gave: null
 * if sanitizing changed their number (DOMPurify keeps every element markdown-it puts there).
 */
export function sanitizeBlocksToFragment(
  htmls: readonly string[],
  { formulas = true } = {},
): { fragment: DocumentFragment; counts: number[] | null } {
  const holder = inertHolder();
  const counts: number[] = [];
  for (const html of htmls) {
    const before = holder.childNodes.length;
    // Parsed on its own, appended: the same nodes as parsing the joined HTML at once.
    if (html) holder.insertAdjacentHTML("beforeend", html);
    counts.push(holder.childNodes.length - before);
  }
  const drawn = holder.childNodes.length;
  purify().sanitize(holder);
  const fragment = toFragment(holder);
  if (formulas && htmls.some((html) => html.includes(FORMULA))) fillMath(fragment);
  return { fragment, counts: fragment.childNodes.length === drawn ? counts : null };
}

/** Sanitized HTML as a string (one-shot rendering): the same nodes, serialised. */
export function sanitizeToString(html: string): string {
  const holder = sanitizedHolder(html);
  if (html.includes(FORMULA)) fillMath(holder);
  return holder.innerHTML;
}
