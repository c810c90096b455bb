// The full image behind a message's thumbnail, for the larger view: the scaled blob this
// browser sent, when it still has it, else the kernel's copy asked for by id (an `image`
// command answered with one binary buffer). Whatever arrives is sniffed again: only a PNG or
// JPEG ever becomes a Blob an <img> may show.

import { isImageAnswer } from "../guards.js";
import type { ClientMessage } from "../protocol.js";
import type { ChatModel } from "../store.js";
import { sniffImage } from "./sniff.js";

/** How long to wait for the kernel's answer (a busy cell delays it). */
const ANSWER_MS = 30_000;
/** Sent images kept for the larger view; older ones are asked from the kernel again. */
const KEPT = 32;

export interface ImageSource {
  /** Remember an image this browser sent (its id is the kernel's: a hash of the bytes). */
  keep(bytes: ArrayBuffer): Promise<void>;
  /** The full image `id` as a PNG or JPEG blob; null when it cannot be had. */
  get(id: string): Promise<Blob | null>;
  dispose(): void;
}

/** The kernel's id of an image: the first 16 hex digits of the SHA-256 of its bytes. */
async function imageId(bytes: ArrayBuffer): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return null; // not a secure context: ask the kernel instead
  // A copy: the digest wants a buffer of this realm, and the caller's may be about to go.
  const digest = new Uint8Array(await subtle.digest("SHA-256", new Uint8Array(bytes).slice()));
  return [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `bytes` as a Blob typed by what they are, if they are a PNG or a JPEG. */
function shownBlob(bytes: Uint8Array): Blob | null {
  const mime = sniffImage(bytes);
  if (mime !== "image/png" && mime !== "image/jpeg") return null;
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime });
}

function bytesOf(buffer: unknown): Uint8Array | null {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) {
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  return null;
}

export function createImageSource(
  model: ChatModel,
  send: (message: ClientMessage) => void,
): ImageSource {
  const kept = new Map<string, Blob>();
  const waiting = new Map<number, { id: string; answer: (blob: Blob | null) => void }>();
  // Every view of a model hears every answer: each asks with numbers of its own (from a
  // random start), and an answer settles a request only when it is of the image asked for.
  let request = Math.floor(Math.random() * 2 ** 30);

  const onCustom = (content: unknown, buffers?: unknown): void => {
    if (!isImageAnswer(content)) return;
    const asked = waiting.get(content.request);
    if (asked === undefined || asked.id !== content.id) return;
    waiting.delete(content.request);
    const first = Array.isArray(buffers) ? bytesOf(buffers[0]) : null;
    asked.answer(first === null ? null : shownBlob(first));
  };
  model.on("msg:custom", onCustom);

  return {
    async keep(bytes) {
      const blob = shownBlob(new Uint8Array(bytes));
      // Best effort: without the id, the larger view asks the kernel instead.
      const id = blob === null ? null : await imageId(bytes).catch(() => null);
      if (blob === null || id === null) return;
      kept.delete(id);
      kept.set(id, blob);
      for (const old of kept.keys()) {
        if (kept.size <= KEPT) break;
        kept.delete(old);
      }
    },
    get(id) {
      const local = kept.get(id);
      if (local !== undefined) return Promise.resolve(local);
      request += 1;
      const number = request;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(number);
          resolve(null);
        }, ANSWER_MS);
        waiting.set(number, {
          id,
          answer: (blob) => {
            clearTimeout(timer);
            resolve(blob);
          },
        });
        send({ kind: "image", id, request: number });
      });
    },
    dispose() {
      model.off("msg:custom", onCustom);
      for (const { answer } of waiting.values()) answer(null);
      waiting.clear();
      kept.clear();
    },
  };
}
