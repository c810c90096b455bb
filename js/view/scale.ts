// An attached image made ready to send: sniffed, decoded and scaled so its longest side is at
// most the chat's `max_image_side`, encoded as PNG (kept lossless while small) or JPEG. The
// scaled image is the message's image from then on; the original never leaves the browser:
// even an image already small enough is drawn and encoded afresh, so what its file carried
// besides the pixels (EXIF GPS position, camera serial, XMP) is not sent.
//
// Pixel work stays off the main thread where the browser allows: `createImageBitmap` decodes
// and resizes asynchronously — straight to the size sent, when the header says the size
// (view/dimensions.ts) — and `OffscreenCanvas.convertToBlob` encodes asynchronously. Where
// OffscreenCanvas is missing, a detached <canvas> does the encoding (on the main thread,
// but only of the already-scaled image).

import { type Dimensions, HEADER_BYTES, readDimensions } from "./dimensions.js";
import { type RasterMime, refusal, type SentMime, sniffImage } from "./sniff.js";

/** A PNG larger than this once encoded goes as JPEG instead. */
export const PNG_KEEP_BYTES = 512 * 1024;
export const JPEG_QUALITY = 0.9;

export interface Prepared {
  readonly blob: Blob; // typed `mime`, never anything the browser could render as a document
  readonly mime: SentMime;
  readonly width: number;
  readonly height: number;
}

/** A refused image: `message` is the one line to show. */
export class ImageRefused extends Error {
  override readonly name = "ImageRefused";
}

/** A decoded image, and how to write it out at another size. */
export interface Decoded {
  readonly width: number;
  readonly height: number;
  encode(width: number, height: number, mime: SentMime, quality?: number): Promise<Blob>;
  close(): void;
}

/** What the header told of the image, and the longest side wanted. */
export interface DecodeHint {
  maxSide: number;
  size: Dimensions | null;
}

/** Decodes a sniffed raster image; the browser's by default, a fake one in tests. */
export type Decode = (blob: Blob, mime: RasterMime, hint: DecodeHint) => Promise<Decoded>;

/** `width`×`height` scaled (never up) so its longest side is at most `maxSide`. */
export function fitWithin(
  width: number,
  height: number,
  maxSide: number,
): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (!(maxSide > 0) || longest <= maxSide) return { width, height };
  const scale = maxSide / longest;
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/** Make `file` ready to send, or throw {@link ImageRefused} with the reason. */
export async function prepareImage(
  file: Blob,
  maxSide: number,
  decode: Decode = decodeInBrowser,
): Promise<Prepared> {
  const name = file instanceof File ? file.name : "";
  const head = new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
  const reason = refusal(head, name);
  const mime = sniffImage(head);
  if (reason !== null || mime === null) throw new ImageRefused(reason ?? "Not an image.");
  // Retyped by what the bytes are: whatever the file claimed, the browser sees a raster type.
  const source = new Blob([file], { type: mime });
  let decoded: Decoded;
  try {
    decoded = await decode(source, mime, { maxSide, size: readDimensions(head, mime) });
  } catch {
    const what = name === "" ? "That image" : `“${name}”`;
    throw new ImageRefused(`${what} could not be decoded (damaged or unsupported).`);
  }
  try {
    const size = fitWithin(decoded.width, decoded.height, maxSide);
    const done = (blob: Blob, as: SentMime): Prepared => ({ blob, mime: as, ...size });
    if (mime !== "image/jpeg") {
      // Screenshots and plots: lossless while that stays small.
      const png = await decoded.encode(size.width, size.height, "image/png");
      if (png.size <= PNG_KEEP_BYTES) return done(png, "image/png");
    }
    const jpeg = await decoded.encode(size.width, size.height, "image/jpeg", JPEG_QUALITY);
    return done(jpeg, "image/jpeg");
  } finally {
    decoded.close();
  }
}

// ---------------------------------------------------------------------------------------
// The browser's decoder.

/** `createImageBitmap` + `OffscreenCanvas` (or a <canvas> where that is missing). */
export const decodeInBrowser: Decode = async (blob, _mime, { maxSide, size }) => {
  // A large upright image of known size is decoded straight to the size it is sent at. A
  // rotated one (EXIF orientation 5–8) is decoded whole: imageOrientation "from-image"
  // (the default) turns it upright, and only then are its sides known.
  if (size !== null && size.orientation <= 4) {
    const target = fitWithin(size.width, size.height, maxSide);
    if (target.width !== size.width || target.height !== size.height) {
      const scaled = await createImageBitmap(blob, {
        resizeWidth: target.width,
        resizeHeight: target.height,
        resizeQuality: "high",
      });
      return {
        width: size.width,
        height: size.height,
        async encode(width, height, mime, quality) {
          if (width !== scaled.width || height !== scaled.height) {
            throw new Error("the image was decoded at another size");
          }
          return encodeBitmap(scaled, mime, quality);
        },
        close: () => scaled.close(),
      };
    }
  }
  const bitmap = await createImageBitmap(blob);
  return {
    width: bitmap.width,
    height: bitmap.height,
    async encode(width, height, mime, quality) {
      const scaled =
        width === bitmap.width && height === bitmap.height
          ? bitmap
          : await createImageBitmap(bitmap, {
              resizeWidth: width,
              resizeHeight: height,
              resizeQuality: "high",
            });
      try {
        return await encodeBitmap(scaled, mime, quality);
      } finally {
        if (scaled !== bitmap) scaled.close();
      }
    },
    close: () => bitmap.close(),
  };
};

async function encodeBitmap(bitmap: ImageBitmap, mime: SentMime, quality?: number): Promise<Blob> {
  const { width, height } = bitmap;
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext("2d");
    if (ctx === null) throw new Error("no 2d context");
    paint(ctx, bitmap, mime);
    return canvas.convertToBlob(quality === undefined ? { type: mime } : { type: mime, quality });
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (ctx === null) throw new Error("no 2d context");
  paint(ctx, bitmap, mime);
  return new Promise((resolve, reject) => {
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("encode failed"))),
      mime,
      quality,
    );
  });
}

function paint(
  ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D,
  bitmap: ImageBitmap,
  mime: SentMime,
): void {
  // JPEG has no alpha: transparent pixels would turn black, so they sit on white.
  if (mime === "image/jpeg") {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, bitmap.width, bitmap.height);
  }
  ctx.drawImage(bitmap, 0, 0);
}
