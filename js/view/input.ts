// The prompt box: a textarea that grows with its text; Enter sends, Shift+Enter adds a line,
// Esc stops the reply. While a reply streams, Send becomes Stop and a submit is refused with
// a visible reason (the text stays in the box; the kernel refuses too). While a reply holds
// its cell (view/blocking.ts) there is no Stop: Send is disabled, Enter and Esc say why.

import { BLOCKING_REASON } from "./blocking.js";
import { button, h, setText, show } from "./dom.js";

export const BUSY_REASON = "A reply is still streaming — press Stop (or Esc) first.";
const MAX_HEIGHT_PX = 240;

export interface InputHandlers {
  submit(text: string): void;
  stop(): void;
  isBusy(): boolean;
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
    h("div", "nbc-input-row", {}, [textarea, sendButton]),
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
    if (text.trim() === "") return;
    if (handlers.isBusy()) {
      explain(blocking ? BLOCKING_REASON : BUSY_REASON);
      return;
    }
    show(reason, false);
    handlers.submit(text);
    textarea.value = "";
    grow();
  };

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
  };
}
