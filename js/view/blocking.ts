// While a reply holds its cell (chat.ask, %%chat), the kernel delivers none of the widget's
// messages until the cell ends: a Stop button would do nothing. This note says so and how to
// stop it instead (interrupt the kernel), and offers an Interrupt button where the notebook
// can do that for us (view/host.ts). Shown in compact views too: %%chat has no input box.

import { button, h, setText, show } from "./dom.js";

export const BLOCKING_TEXT =
  "This reply runs in its cell, so the kernel cannot hear Stop: to stop it, interrupt the " +
  "kernel (■ in the notebook's toolbar). The partial reply is kept.";
export const BLOCKING_TEXT_WITH_BUTTON =
  "This reply runs in its cell, so the kernel cannot hear Stop: Interrupt (the toolbar's ■) " +
  "stops the cell. The partial reply is kept.";
/** Why Enter or Esc did nothing meanwhile. */
export const BLOCKING_REASON =
  "This reply runs in its cell — interrupt the kernel (■) to stop it, then send.";

export interface BlockingNote {
  readonly el: HTMLElement;
  update(blocking: boolean, canInterrupt: boolean): void;
}

export function createBlockingNote(interrupt: () => boolean, signal: AbortSignal): BlockingNote {
  // Focusable, so a keyboard user who tabs to where Stop was finds what to do.
  const text = h("span", "nbc-blocking-text", { tabindex: "0" });
  const interruptButton = button(
    "nbc-btn nbc-stop nbc-interrupt",
    "Interrupt the kernel: stops this cell; the partial reply is kept",
    "Interrupt",
    () => {
      // Nobody took it (the cell moved out of the notebook): the text says what to do.
      if (!interrupt()) show(interruptButton, false);
    },
    signal,
  );
  const el = h("div", "nbc-blocking", {}, [text, interruptButton]);
  show(el, false);
  return {
    el,
    update(blocking, canInterrupt) {
      show(el, blocking);
      show(interruptButton, blocking && canInterrupt);
      setText(text, canInterrupt ? BLOCKING_TEXT_WITH_BUTTON : BLOCKING_TEXT);
    },
  };
}
