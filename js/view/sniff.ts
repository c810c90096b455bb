// What an image really is, from its first bytes: a file's name and its declared type are the
// sender's word, and an SVG (a document that can run script and fetch) may call itself
// anything. Only the four raster formats below are ever decoded; only PNG and JPEG data: URLs
// are ever put into an <img> (thumbnails come from the kernel's state, which a saved
// notebook or a hostile transcript can hold).

export type RasterMime = "image/png" | "image/jpeg" | "image/webp" | "image/gif";
/** What leaves the browser and what the kernel keeps: llama.cpp cannot read WebP. */
export type SentMime = "image/png" | "image/jpeg";

export const ACCEPTED_TYPES = "image/png,image/jpeg,image/webp,image/gif";

/** Bytes needed to tell the formats (and an SVG) apart. */
const SNIFF_BYTES = 512;

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((b, i) => bytes[at + i] === b);
}

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** The raster format of `bytes`, or null when it is none of PNG, JPEG, WebP and GIF. */
export function sniffImage(bytes: Uint8Array): RasterMime | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif";
  return null;
}

/** Whether `bytes` look like SVG (or other XML): text whose first tag is <svg or <?xml. */
function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = new TextDecoder("utf-8", { fatal: false })
    .decode(bytes.subarray(0, SNIFF_BYTES))
    .replace(/^\uFEFF/, "")
    .trimStart()
    .toLowerCase();
  return (
    head.startsWith("<?xml") || head.startsWith("<svg") || /^<!--[\s\S]*?-->\s*<svg/.test(head)
  );
}

/** The one-line reason an image with these first bytes is refused; null when accepted. */
export function refusal(bytes: Uint8Array, name: string): string | null {
  if (sniffImage(bytes) !== null) return null;
  const what = name === "" ? "That file" : `“${name}”`;
  if (looksLikeSvg(bytes)) {
    return `${what} is an SVG: only PNG, JPEG, WebP and GIF images can be attached (SVG can hold script).`;
  }
  return `${what} is not a PNG, JPEG, WebP or GIF image, so it was not attached.`;
}

const SAFE_THUMBNAIL = /^data:image\/(png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$/;

/** Whether `url` may go into an <img src>: a base64 PNG or JPEG data: URL, nothing else. */
export function isSafeThumbnail(url: unknown): url is string {
  return typeof url === "string" && SAFE_THUMBNAIL.test(url);
}

/** "PNG", "JPEG"…: how a caption names the format. */
function formatName(mime: string): string {
  const sub = mime.startsWith("image/") ? mime.slice(6) : mime;
  return sub.toUpperCase();
}

/** "Image 1, 1024×768 PNG": the accessible name of an image, as captions say it. */
export function describeImage(index: number, width: number, height: number, mime: string): string {
  const size = width > 0 && height > 0 ? `${width}×${height} ` : "";
  return `Image ${index}, ${size}${formatName(mime)}`;
}
