// An image's size read from its header, without decoding it. Knowing it up front lets the
// browser decode a 12-megapixel photo straight to the size it will be sent at (one pass,
// a fraction of the memory) instead of decoding it whole and scaling it after.

import type { RasterMime } from "./sniff.js";

export interface Dimensions {
  width: number;
  height: number;
  /** EXIF orientation (1 = upright; 5–8 swap width and height when shown). */
  orientation: number;
}

/** Bytes to read for the header: a JPEG's EXIF block (with its preview) comes first. */
export const HEADER_BYTES = 256 * 1024;

/** The size `bytes` (the file's first bytes) declare, or null when the header is cut short. */
export function readDimensions(bytes: Uint8Array, mime: RasterMime): Dimensions | null {
  const at = (i: number): number => bytes[i] ?? 0;
  const be16 = (i: number): number => (at(i) << 8) | at(i + 1);
  const le16 = (i: number): number => at(i) | (at(i + 1) << 8);
  const be32 = (i: number): number => be16(i) * 65536 + be16(i + 2);
  const upright = (width: number, height: number): Dimensions | null =>
    width > 0 && height > 0 ? { width, height, orientation: 1 } : null;
  switch (mime) {
    case "image/png":
      return bytes.length >= 24 ? upright(be32(16), be32(20)) : null;
    case "image/gif":
      return bytes.length >= 10 ? upright(le16(6), le16(8)) : null;
    case "image/webp":
      return webp(bytes, at, le16);
    case "image/jpeg":
      return jpeg(bytes, at, be16);
  }
}

function webp(
  bytes: Uint8Array,
  at: (i: number) => number,
  le16: (i: number) => number,
): Dimensions | null {
  if (bytes.length < 30) return null;
  const chunk = String.fromCharCode(at(12), at(13), at(14), at(15));
  let width = 0;
  let height = 0;
  if (chunk === "VP8 ") {
    width = le16(26) & 0x3fff;
    height = le16(28) & 0x3fff;
  } else if (chunk === "VP8L") {
    width = 1 + (((at(22) & 0x3f) << 8) | at(21));
    height = 1 + (((at(24) & 0x0f) << 10) | (at(23) << 2) | ((at(22) & 0xc0) >> 6));
  } else if (chunk === "VP8X") {
    width = 1 + (at(24) | (at(25) << 8) | (at(26) << 16));
    height = 1 + (at(27) | (at(28) << 8) | (at(29) << 16));
  }
  return width > 0 && height > 0 ? { width, height, orientation: 1 } : null;
}

function jpeg(
  bytes: Uint8Array,
  at: (i: number) => number,
  be16: (i: number) => number,
): Dimensions | null {
  let orientation = 1;
  let i = 2;
  while (i + 9 < bytes.length) {
    if (at(i) !== 0xff) return null; // not a marker where one must be: give up
    const marker = at(i + 1);
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      i += 2; // markers without a length
      continue;
    }
    const length = be16(i + 2);
    const frame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (frame) {
      const height = be16(i + 5);
      const width = be16(i + 7);
      return width > 0 && height > 0 ? { width, height, orientation } : null;
    }
    if (marker === 0xe1) orientation = exifOrientation(bytes, i + 4, length - 2) ?? orientation;
    i += 2 + length;
  }
  return null;
}

/** The orientation tag of an APP1 segment's EXIF block starting at `start`, if any. */
function exifOrientation(bytes: Uint8Array, start: number, length: number): number | null {
  const at = (i: number): number => bytes[i] ?? 0;
  if (String.fromCharCode(at(start), at(start + 1), at(start + 2), at(start + 3)) !== "Exif") {
    return null;
  }
  const tiff = start + 6;
  const little = at(tiff) === 0x49; // "II": little-endian; "MM": big-endian
  const u16 = (i: number): number => (little ? at(i) | (at(i + 1) << 8) : (at(i) << 8) | at(i + 1));
  const u32 = (i: number): number =>
    little ? u16(i) + u16(i + 2) * 65536 : u16(i) * 65536 + u16(i + 2);
  const ifd = tiff + u32(tiff + 4);
  const end = Math.min(bytes.length, start + length);
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + 12 * k;
    if (entry + 12 > end) return null;
    if (u16(entry) === 0x0112) return u16(entry + 8);
  }
  return null;
}
