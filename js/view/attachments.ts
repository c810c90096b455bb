// The images waiting to go with the next message: a row of thumbnails in the input area,
// each with a named remove (×) button. Images come from paste, drop and the file picker;
// each is prepared (view/scale.ts) in the background, so typing goes on meanwhile, and one
// that is refused says why in the input's reason line — the typed text is never touched.

import { button, h, show } from "./dom.js";
import {
  type Decode,
  decodeInBrowser,
  ImageRefused,
  type Prepared,
  prepareImage,
} from "./scale.js";
import { describeImage } from "./sniff.js";

/** More than this in one message is almost surely a mistake (and a heavy request). */
export const MAX_ATTACHMENTS = 10;

export interface TrayOptions {
  /** The chat's `max_image_side` now. */
  maxSide(): number;
  /** Show why an image was not attached. */
  refuse(reason: string): void;
  /** The last image was removed by hand: where focus should go. */
  emptied?(): void;
  decode?: Decode;
}

export interface AttachmentTray {
  readonly el: HTMLElement;
  /** Prepare and show `files` (from paste, drop or the picker). */
  add(files: Iterable<Blob>): void;
  /** Whether an image is still being prepared. */
  preparing(): boolean;
  count(): number;
  /** The prepared images in order, leaving the tray empty. */
  take(): Prepared[];
  /** Put back images a refused message carried, after those already there (up to the limit). */
  restore(images: readonly Prepared[]): void;
}

interface Entry {
  prepared: Prepared | null; // null while it is being prepared
  url: string; // object URL of the prepared (sniffed PNG/JPEG) blob
  readonly item: HTMLElement;
  readonly gone: AbortController;
}

export function createAttachmentTray(options: TrayOptions, signal: AbortSignal): AttachmentTray {
  const decode = options.decode ?? decodeInBrowser;
  const list = h("ul", "nbc-attachments", { "aria-label": "Images to send" });
  show(list, false);
  let entries: Entry[] = [];

  const relabel = (): void => {
    entries.forEach((entry, i) => {
      const n = i + 1;
      const img = entry.item.querySelector("img");
      const p = entry.prepared;
      if (img !== null && p !== null) img.alt = describeImage(n, p.width, p.height, p.mime);
      const remove = entry.item.querySelector<HTMLButtonElement>(".nbc-attach-remove");
      if (remove !== null) {
        remove.setAttribute("aria-label", `Remove image ${n}`);
        remove.title = `Remove image ${n}`;
      }
    });
    show(list, entries.length > 0);
  };

  const drop = (entry: Entry): void => {
    entry.gone.abort();
    if (entry.url !== "") URL.revokeObjectURL(entry.url);
    entry.item.remove();
    entries = entries.filter((e) => e !== entry);
  };

  const place = (prepared: Prepared | null): Entry => {
    const gone = new AbortController();
    const item = h("li", "nbc-attach");
    const entry: Entry = { prepared: null, url: "", item, gone };
    const remove = button(
      "nbc-attach-remove",
      "Remove image",
      "×",
      () => {
        // Focus would fall to the page: keep it in the tray, or on the message box.
        const at = entries.indexOf(entry);
        drop(entry);
        relabel();
        const next = entries[Math.min(at, entries.length - 1)];
        next?.item.querySelector<HTMLButtonElement>(".nbc-attach-remove")?.focus();
        if (next === undefined) options.emptied?.();
      },
      // Let go with the image, not the chat: a tray sees many images come and go. (The
      // chat's end drops every entry, which aborts this too.)
      gone.signal,
    );
    item.append(
      h("span", "nbc-attach-busy", { role: "img", "aria-label": "Preparing image…" }),
      remove,
    );
    list.append(item);
    entries.push(entry);
    if (prepared !== null) ready(entry, prepared);
    return entry;
  };

  const ready = (entry: Entry, prepared: Prepared): void => {
    entry.prepared = prepared;
    entry.url = URL.createObjectURL(prepared.blob);
    const img = h("img", "nbc-attach-img", { src: entry.url, alt: "" });
    entry.item.querySelector(".nbc-attach-busy")?.replaceWith(img);
    entry.item.classList.add("is-ready");
  };

  signal.addEventListener(
    "abort",
    () => {
      for (const entry of [...entries]) drop(entry);
    },
    { once: true },
  );

  return {
    el: list,
    add(files) {
      for (const file of files) {
        if (entries.length >= MAX_ATTACHMENTS) {
          options.refuse(`At most ${MAX_ATTACHMENTS} images go with one message.`);
          break;
        }
        const entry = place(null);
        relabel();
        prepareImage(file, options.maxSide(), decode).then(
          (prepared) => {
            if (entry.gone.signal.aborted || signal.aborted) return;
            ready(entry, prepared);
            relabel();
          },
          (error: unknown) => {
            if (entry.gone.signal.aborted || signal.aborted) return;
            drop(entry);
            relabel();
            options.refuse(
              error instanceof ImageRefused ? error.message : "That image could not be read.",
            );
          },
        );
      }
    },
    preparing: () => entries.some((e) => e.prepared === null),
    count: () => entries.length,
    take() {
      const out = entries.flatMap((e) => (e.prepared === null ? [] : [e.prepared]));
      for (const entry of [...entries]) drop(entry);
      relabel();
      return out;
    },
    restore(images) {
      // After what the user attached meanwhile, as many as one message may carry.
      const room = Math.max(0, MAX_ATTACHMENTS - entries.length);
      for (const image of images.slice(0, room)) place(image);
      relabel();
      const left = images.length - room;
      if (left > 0) {
        const what = left === 1 ? "1 image" : `${left} images`;
        options.refuse(
          `${what} of the refused message could not be put back: at most ${MAX_ATTACHMENTS} go with one message.`,
        );
      }
    },
  };
}
