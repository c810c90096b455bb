// The prompt box: a textarea that grows with its text; Enter sends, Shift+Enter adds a line,
// Esc stops the reply. While a reply streams, Send becomes Stop and a submit is refused with
// a visible reason (the text stays in the box; the kernel refuses too). While a reply holds
// its cell (view/blocking.ts) there is no Stop: Send is disabled, Enter and Esc say why.
// Images go with the message (view/attachments.ts): pasted into the box, dropped on the
// chat (view/chat.ts calls `attach`), or picked with the Attach button's file picker.

import { type AttachmentTray, createAttachmentTray } from "./attachments.js";
import { BLOCKING_REASON } from "./blocking.js";
import { button, h, setText, show } from "./dom.js";
import type { Decode, Prepared } from "./scale.js";
import { ACCEPTED_TYPES } from "./sniff.js";

export const BUSY_REASON = "A reply is still streaming — press Stop (or Esc) first.";
export const PREPARING_REASON = "An image is still being prepared — send again in a moment.";
const MAX_HEIGHT_PX = 240;

export interface InputHandlers {
  /** Send `text` with `images` (prepared, in order; often none). */
  submit(text: string, images: Prepared[]): void;
  stop(): void;
  isBusy(): boolean;
  /** Offer images (absent: text only, as in a comparison). */
  images?: ImageOptions;
}

export interface ImageOptions {
  /** The chat's `max_image_side` now. */
  maxSide(): number;
  decode?: Decode;
}

export interface InputBox {
  readonly el: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  /** `blocking`: the reply holds its cell, so Stop could not reach the kernel. */
  setBusy(busy: boolean, blocking?: boolean): void;
  setPlaceholder(text: string): void;
  /** Put back text the kernel refused, unless the user already typed something new. */
  restore(text: string): void;
  /** Say why nothing happened. */
  explain(reason: string): void;
  /** Attach images (dropped on the chat). */
  attach(files: Iterable<Blob>): void;
  readonly tray: AttachmentTray;
}

/** The image files among a paste's or a drop's items. */
export function imageFiles(data: DataTransfer | null): File[] {
  if (data === null) return [];
  const files = [...data.files];
  if (files.length > 0) return files;
  // Some sources list a pasted image only as an item.
  return [...data.items].flatMap((item) => {
    const file = item.kind === "file" ? item.getAsFile() : null;
    return file === null ? [] : [file];
  });
}

export function createInput(handlers: InputHandlers, signal: AbortSignal): InputBox {
  const textarea = h("textarea", "nbc-input", {
    rows: "1",
    "aria-label": "Message",
    "data-lm-suppress-shortcuts": "true",
    spellcheck: "true",
  });
  const reason = h("div", "nbc-input-reason", { role: "status", "aria-live": "polite" });
  show(reason, false);
  let blocking = false;
  const tray = createAttachmentTray(
    {
      maxSide: () => handlers.images?.maxSide() ?? 0,
      refuse: (text) => explain(text),
      emptied: () => textarea.focus(),
      ...(handlers.images?.decode === undefined ? {} : { decode: handlers.images.decode }),
    },
    signal,
  );
  // A real, labelled button opens the picker: the file input itself is hidden (a hidden
  // file input still opens its dialog when clicked).
  const picker = h("input", "nbc-file", {
    type: "file",
    accept: ACCEPTED_TYPES,
    multiple: true,
    hidden: true,
    "aria-label": "Images to attach",
  });
  picker.addEventListener(
    "change",
    () => {
      tray.add([...(picker.files ?? [])]);
      picker.value = ""; // the same file can be picked again
      textarea.focus();
    },
    { signal },
  );
  const attachButton = button(
    "nbc-btn nbc-attach-button",
    "Attach images",
    "+",
    () => picker.click(),
    signal,
  );
  const sendButton = button(
    "nbc-btn nbc-btn-primary nbc-send",
    "Send message",
    "Send",
    () => {
      if (blocking) explain(BLOCKING_REASON);
      else if (handlers.isBusy()) handlers.stop();
      else trySubmit();
    },
    signal,
  );
  const el = h("div", "nbc-input-area", {}, [
    reason,
    tray.el,
    h(
      "div",
      "nbc-input-row",
      {},
      handlers.images === undefined
        ? [textarea, sendButton]
        : [attachButton, picker, textarea, sendButton],
    ),
  ]);

  let hideTimer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener("abort", () => clearTimeout(hideTimer), { once: true });
  const explain = (text: string): void => {
    setText(reason, text);
    show(reason, true);
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => show(reason, false), 6000);
  };

  const grow = (): void => {
    textarea.style.height = "auto";
    const height = Math.min(textarea.scrollHeight, MAX_HEIGHT_PX);
    if (height > 0) textarea.style.height = `${height}px`;
    textarea.style.overflowY = textarea.scrollHeight > MAX_HEIGHT_PX ? "auto" : "hidden";
  };

  const trySubmit = (): void => {
    const text = textarea.value;
    if (text.trim() === "" && tray.count() === 0) return;
    if (handlers.isBusy()) {
      explain(blocking ? BLOCKING_REASON : BUSY_REASON);
      return;
    }
    if (tray.preparing()) {
      explain(PREPARING_REASON);
      return;
    }
    show(reason, false);
    handlers.submit(text, tray.take());
    textarea.value = "";
    grow();
  };

  textarea.addEventListener(
    "paste",
    (event) => {
      const data = event.clipboardData;
      if (handlers.images === undefined) return;
      // Cells copied from a spreadsheet come as text and as a picture of them: the text is
      // meant. A screenshot, or an image copied in a browser, has no plain text.
      if (data === null || data.getData("text/plain") !== "") return;
      const files = imageFiles(data);
      if (files.length === 0) return;
      event.preventDefault();
      tray.add(files);
    },
    { signal },
  );

  textarea.addEventListener(
    "keydown",
    (event) => {
      // Typing must never reach the notebook's command shortcuts.
      event.stopPropagation();
      if (event.isComposing) return; // IME candidate selection uses Enter
      if (event.key === "Enter" && !event.shiftKey && !event.altKey) {
        event.preventDefault();
        trySubmit();
      } else if (event.key === "Escape") {
        event.preventDefault();
        if (blocking) explain(BLOCKING_REASON);
        else if (handlers.isBusy()) handlers.stop();
      }
    },
    { signal },
  );
  textarea.addEventListener("input", grow, { signal });

  return {
    el,
    textarea,
    setBusy(busy, isBlocking = false) {
      blocking = busy && isBlocking;
      const stop = busy && !blocking;
      el.classList.toggle("is-busy", busy);
      setText(sendButton, stop ? "Stop" : "Send");
      const label = stop ? "Stop generating" : "Send message";
      if (sendButton.getAttribute("aria-label") !== label) {
        sendButton.setAttribute("aria-label", label);
      }
      sendButton.title = stop
        ? "Stop generating (Esc)"
        : blocking
          ? "A reply is running in its cell"
          : "Send (Enter)";
      sendButton.classList.toggle("nbc-stop", stop);
      if (sendButton.disabled !== blocking) sendButton.disabled = blocking;
    },
    setPlaceholder(text) {
      if (textarea.placeholder !== text) textarea.placeholder = text;
    },
    restore(text) {
      if (textarea.value.trim() !== "") return;
      textarea.value = text;
      grow();
    },
    explain,
    attach: (files) => {
      if (handlers.images !== undefined) tray.add(files);
    },
    tray,
  };
}
