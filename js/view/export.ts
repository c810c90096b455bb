// The header's Export menu: Markdown, HTML and JSON downloads, and Copy conversation.
// Markdown and JSON come from the kernel (`export` → `exported`): one writer of each format
// (src/nbchat/transcript/, via src/nbchat/widget/_export.py). HTML is built here: typesetting
// math needs KaTeX, which only the front end has. The page is standalone (the widget's CSS
// and KaTeX's fonts inline as data URLs, no CDN) and inert: model text goes through the same
// sanitizer as in the widget, and a Content-Security-Policy forbids scripts and any fetch.

import { escapeHtml } from "../escape.js";
import { imagesOf, isExported } from "../guards.js";
import { katexFontFaceCss } from "../markdown/fonts.js";
import { renderMarkdown } from "../markdown/index.js";
import type { ClientMessage, ExportedMsg, Message } from "../protocol.js";
import type { ChatModel } from "../store.js";
import { copyText } from "./clipboard.js";
import { button, h, show } from "./dom.js";
import { roleLabel } from "./message.js";
import { describeImage, isSafeThumbnail } from "./sniff.js";

/** No script, no remote request: only inline styles, and fonts/images as data URLs. */
export const EXPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:";

/** A message's images as the widget shows them: the kernel's thumbnail where it is a safe
 * PNG/JPEG data: URL (the CSP allows data: images only), else the image named in text. */
function imagesHtml(message: Message): string {
  const images = imagesOf(message).map((image, i) => {
    const label = describeImage(i + 1, image.width, image.height, image.mime);
    return isSafeThumbnail(image.thumbnail)
      ? `<img class="nbc-thumb-img" src="${escapeHtml(image.thumbnail)}" alt="${escapeHtml(label)}">`
      : `<span class="nbc-thumb-text">[image: ${escapeHtml(label.replace(/^Image \d+, /, ""))}]</span>`;
  });
  return images.length === 0 ? "" : `<div class="nbc-msg-images">${images.join("")}</div>`;
}

/** A standalone HTML page of `messages` (the branch on screen), typeset as in the widget. */
export function conversationHtml(messages: readonly Message[], css: string, title: string): string {
  const body = messages
    .filter((m) => m.role !== "system")
    .map((m) => {
      const reply = m.role === "assistant";
      const content = reply
        ? `<div class="nbc-body nbc-md">${renderMarkdown(m.content)}</div>`
        : `<div class="nbc-body nbc-plain">${escapeHtml(m.content)}</div>`;
      const model = reply && m.meta?.model ? ` · ${escapeHtml(m.meta.model)}` : "";
      return (
        `<article class="nbc-msg nbc-msg-${m.role}"><div class="nbc-msg-head">` +
        `<span class="nbc-role">${roleLabel(m.role)}${model}</span></div>${content}` +
        `${imagesHtml(m)}</article>`
      );
    })
    .join("\n");
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${EXPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${css.replace(/<\/style/gi, "<\\/style")}</style>`,
    "<style>.nbc-root{max-width:48rem;margin:2rem auto;padding:0 1rem}</style>",
    '</head><body><div class="nbc-root" data-theme="light"><div class="nbc-list">',
    body,
    "</div></div></body></html>",
  ].join("\n");
}

/** The widget's own CSS as the page holds it (document or shadow root), plus KaTeX's fonts. */
export function widgetCss(el: Element): string {
  const root = el.getRootNode() as Document | ShadowRoot;
  const sheets = [...(root.styleSheets ?? []), ...(root.adoptedStyleSheets ?? [])];
  const parts = [katexFontFaceCss()];
  for (const sheet of sheets) {
    let text = "";
    try {
      text = [...sheet.cssRules].map((rule) => rule.cssText).join("\n");
    } catch {
      continue; // a cross-origin sheet of the host: not ours
    }
    if (text.includes(".nbc-root")) parts.push(text);
  }
  return parts.join("\n");
}

/** Offer `text` as a file download. */
export function download(doc: Document, filename: string, text: string, mime: string): void {
  const view = doc.defaultView;
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const link = h("a", "", { href: url, download: filename });
  link.hidden = true;
  doc.body.append(link);
  link.click();
  link.remove();
  // Revoked later: some browsers start the download only after the click has returned.
  view?.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const MIME = { markdown: "text/markdown", json: "application/json" } as const;

export interface ExportMenu {
  readonly el: HTMLElement;
}

/**
 * The Export button and its menu. `messages` is the branch on screen; `say` tells what
 * happened (Copied, Copy failed) where the view shows notices.
 */
export function createExportMenu(
  model: ChatModel,
  send: (message: ClientMessage) => void,
  messages: () => readonly Message[],
  say: (text: string) => void,
  signal: AbortSignal,
): ExportMenu {
  // Every view of a model hears every answer: each asks with numbers of its own (from a
  // random start) and takes only the answers to them.
  let request = Math.floor(Math.random() * 2 ** 30);
  const waiting = new Map<number, "file" | "clipboard">();
  const items: HTMLButtonElement[] = [];
  const item = (label: string, text: string, run: () => void): HTMLButtonElement => {
    const el = button(
      "nbc-menu-item",
      label,
      text,
      () => {
        close(true);
        run();
      },
      signal,
    );
    el.setAttribute("role", "menuitem");
    items.push(el);
    return el;
  };
  const ask = (format: "markdown" | "json", toClipboard = false): void => {
    request += 1;
    waiting.set(request, toClipboard ? "clipboard" : "file");
    send({ kind: "export", format, request });
  };
  const menu = h("div", "nbc-menu", { role: "menu", "aria-label": "Export" }, [
    item("Export as Markdown", "Markdown (.md)", () => ask("markdown")),
    item("Export as HTML", "HTML (.html)", () => {
      const doc = root.ownerDocument;
      const html = conversationHtml(messages(), widgetCss(root), "Chat");
      download(doc, "chat.html", html, "text/html");
    }),
    item("Export as JSON", "JSON (.json)", () => ask("json")),
    item("Copy conversation as Markdown", "Copy conversation", () => ask("markdown", true)),
  ]);
  show(menu, false);
  const toggle = button(
    "nbc-btn nbc-btn-quiet",
    "Export the conversation",
    "Export ▾",
    () => {
      if (menu.hidden) open();
      else close(false);
    },
    signal,
  );
  toggle.setAttribute("aria-haspopup", "menu");
  toggle.setAttribute("aria-expanded", "false");
  const root = h("span", "nbc-export", {}, [toggle, menu]);

  function open(): void {
    show(menu, true);
    toggle.setAttribute("aria-expanded", "true");
    items[0]?.focus();
  }
  function close(refocus: boolean): void {
    show(menu, false);
    toggle.setAttribute("aria-expanded", "false");
    if (refocus) toggle.focus();
  }
  // Arrow keys move between items, Escape closes: the usual menu keyboard.
  menu.addEventListener(
    "keydown",
    (event) => {
      const at = items.indexOf(event.target as HTMLButtonElement);
      if (event.key === "Escape") {
        event.preventDefault();
        close(true);
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        items[(at + step + items.length) % items.length]?.focus();
      }
    },
    { signal },
  );
  root.addEventListener(
    "focusout",
    (event) => {
      const next = event.relatedTarget;
      if (!(next instanceof Node) || !root.contains(next)) close(false);
    },
    { signal },
  );

  const onCustom = (content: unknown): void => {
    if (isExported(content) && waiting.has(content.request)) handle(content);
  };
  const handle = (answer: ExportedMsg): void => {
    const doc = root.ownerDocument;
    const to = waiting.get(answer.request);
    waiting.delete(answer.request);
    if (to === "clipboard") {
      void copyText(answer.text, doc).then((ok) => {
        say(ok ? "Conversation copied as Markdown." : "Copy failed.");
      });
      return;
    }
    download(doc, answer.filename, answer.text, MIME[answer.format]);
  };
  model.on("msg:custom", onCustom);
  signal.addEventListener("abort", () => model.off("msg:custom", onCustom), { once: true });

  return { el: root };
}
