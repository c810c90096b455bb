// A sent message's images as a row of thumbnails. Each is a button (Enter and Space work as
// a click) named like "Image 1, 1024×768 PNG"; it opens the larger view. A thumbnail is the
// kernel's small data: URL, shown only when it is a base64 PNG or JPEG one — anything else
// (a remote URL, an SVG, a saved notebook's tampered state) is dropped, and the button
// names the image in text instead.

import type { ImagePart } from "../protocol.js";
import { h } from "./dom.js";
import { describeImage, isSafeThumbnail } from "./sniff.js";

export type OpenImage = (image: ImagePart, label: string, opener: HTMLElement) => void;

/** The thumbnails of `images`, replacing what `row` held. */
export function drawThumbnails(
  row: HTMLElement,
  images: readonly ImagePart[],
  open: OpenImage,
  signal: AbortSignal,
): void {
  const buttons = images.map((image, i) => {
    const label = describeImage(i + 1, image.width, image.height, image.mime);
    const face = isSafeThumbnail(image.thumbnail)
      ? h("img", "nbc-thumb-img", { src: image.thumbnail, alt: label })
      : h("span", "nbc-thumb-text", {}, [`${label.replace(/^Image \d+, /, "")}`]);
    const el = h("button", "nbc-thumb", { type: "button", title: "Show larger" }, [face]);
    if (face.tagName !== "IMG") el.setAttribute("aria-label", label);
    el.addEventListener("click", () => open(image, label, el), { signal });
    return el;
  });
  row.replaceChildren(...buttons);
  row.hidden = images.length === 0;
}
