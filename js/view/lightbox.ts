// The larger view of a message's image, inside the widget: a modal dialog over the chat with
// the image and a Close button. Escape, the button or a click outside the image close it, and
// focus returns to the thumbnail that opened it. The image is an object URL of a sniffed PNG
// or JPEG blob, revoked on close; its <img> exists only while it shows one, so a chat with no
// image open holds no image element at all.

import { button, h, setText, show } from "./dom.js";

export interface Lightbox {
  readonly el: HTMLElement;
  /** Show the image `load` gives (null: unavailable), named `label`; `opener` gets focus back. */
  open(load: () => Promise<Blob | null>, label: string, opener: HTMLElement): void;
  close(): void;
  readonly isOpen: boolean;
}

export function createLightbox(signal: AbortSignal): Lightbox {
  let img: HTMLImageElement | null = null;
  const status = h("div", "nbc-lightbox-status", { role: "status", "aria-live": "polite" });
  const caption = h("div", "nbc-lightbox-caption");
  const closeButton = button(
    "nbc-btn nbc-lightbox-close",
    "Close image",
    "×",
    () => close(),
    signal,
  );
  const frame = h("div", "nbc-lightbox-frame", {}, [status]);
  const el = h("div", "nbc-lightbox", { role: "dialog", "aria-modal": "true" }, [
    h("div", "nbc-lightbox-bar", {}, [caption, closeButton]),
    frame,
  ]);
  show(el, false);
  let url = "";
  let opener: HTMLElement | null = null;
  let opening = 0; // the current open(); a slow answer for an earlier one is dropped

  const release = (): void => {
    if (url !== "") URL.revokeObjectURL(url);
    url = "";
    img?.remove();
    img = null;
  };

  const close = (): void => {
    if (el.hidden) return;
    opening += 1;
    release();
    show(el, false);
    const back = opener;
    opener = null;
    if (back?.isConnected) back.focus();
  };

  el.addEventListener(
    "keydown",
    (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      } else if (event.key === "Tab") {
        // The dialog's one control keeps focus while it is open (aria-modal).
        event.preventDefault();
        closeButton.focus();
      }
    },
    { signal },
  );
  el.addEventListener(
    "click",
    (event) => {
      if (event.target === el || event.target === frame) close();
    },
    { signal },
  );
  signal.addEventListener("abort", release, { once: true });

  return {
    el,
    open(load, label, from) {
      release();
      opening += 1;
      const mine = opening;
      opener = from;
      el.setAttribute("aria-label", label);
      setText(caption, label);
      setText(status, "Loading the image…");
      show(status, true);
      show(el, true);
      closeButton.focus();
      void load().then(
        (blob) => {
          if (mine !== opening || signal.aborted) return;
          if (blob === null) {
            setText(status, "The full image is not available (the kernel may have restarted).");
            return;
          }
          url = URL.createObjectURL(blob);
          img = h("img", "nbc-lightbox-img", { alt: label, src: url });
          frame.prepend(img);
          show(status, false);
        },
        () => {
          if (mine === opening) setText(status, "The full image could not be loaded.");
        },
      );
    },
    close,
    get isOpen() {
      return !el.hidden;
    },
  };
}
