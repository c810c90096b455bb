// Images in the chat (issue 11): sniffing, scaling policy, the attachment tray (paste, drop,
// remove, refusals that keep the text), the submit's binary buffers, thumbnails of sent
// messages (only PNG/JPEG data: URLs) and the larger view.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_ATTACHMENTS } from "../../js/view/attachments.js";
import { readDimensions } from "../../js/view/dimensions.js";
import { PREPARING_REASON } from "../../js/view/input.js";
import {
  type Decode,
  fitWithin,
  ImageRefused,
  JPEG_QUALITY,
  PNG_KEEP_BYTES,
  prepareImage,
} from "../../js/view/scale.js";
import { describeImage, isSafeThumbnail, refusal, sniffImage } from "../../js/view/sniff.js";
import {
  FakeModel,
  initializeModel,
  type Mounted,
  manualFrames,
  press,
  renderView,
  traits,
  user,
} from "./helpers.js";

// ---- bytes ---------------------------------------------------------------------------------

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const bytes = (...parts: (number[] | string)[]): Uint8Array<ArrayBuffer> =>
  new Uint8Array(
    parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)),
  );
const be32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
/** A PNG's signature and IHDR chunk (`width`×`height`), then filler. */
const png = (extra = 24, width = 2, height = 2): Uint8Array<ArrayBuffer> =>
  bytes(
    PNG_SIGNATURE,
    be32(13),
    "IHDR",
    be32(width),
    be32(height),
    [8, 2, 0, 0, 0],
    new Array(extra).fill(7),
  );
/** A JPEG's SOI, an EXIF APP1 with `orientation` (big-endian TIFF), and a SOF0 frame. */
const jpegOf = (width: number, height: number, orientation = 1): Uint8Array<ArrayBuffer> => {
  const tiff = [0x4d, 0x4d, 0, 42, ...be32(8), 0, 1];
  const entry = [0x01, 0x12, 0, 3, ...be32(1), 0, orientation, 0, 0];
  const exif = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff, ...entry, ...be32(0)];
  const app1 = [0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 255, ...exif];
  const sof = [0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3];
  return bytes([0xff, 0xd8], app1, sof, new Array(20).fill(0));
};
const jpeg = (): Uint8Array<ArrayBuffer> => bytes([0xff, 0xd8, 0xff, 0xe0], new Array(20).fill(1));
const webp = (): Uint8Array<ArrayBuffer> => bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 ", [0, 0]);
const gif = (): Uint8Array<ArrayBuffer> => bytes("GIF89a", [1, 0, 1, 0]);
const SVG =
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>';

function file(data: Uint8Array<ArrayBuffer> | string, name: string, type: string): File {
  return new File([data], name, { type });
}

// ---- the browser's image APIs, which jsdom lacks ---------------------------------------------

/** Every object URL made and revoked, with the blob it showed. */
const urls = { made: new Map<string, Blob>(), revoked: new Set<string>() };
let nextUrl = 0;

/** Each fake bitmap is `size`; encodings return a PNG or JPEG header of `encodedSize` bytes. */
const browser = { size: { width: 2, height: 2 }, encodedSize: 40, decoded: [] as unknown[] };

function stubBrowser(): void {
  urls.made.clear();
  urls.revoked.clear();
  browser.size = { width: 2, height: 2 };
  browser.encodedSize = 40;
  browser.decoded = [];
  vi.spyOn(URL, "createObjectURL").mockImplementation((blob: Blob | MediaSource) => {
    const url = `blob:nbc-test/${nextUrl++}`;
    urls.made.set(url, blob as Blob);
    return url;
  });
  vi.spyOn(URL, "revokeObjectURL").mockImplementation((url: string) => {
    urls.revoked.add(url);
  });
  vi.stubGlobal(
    "createImageBitmap",
    async (source: unknown, options?: { resizeWidth: number; resizeHeight: number }) => {
      browser.decoded.push({ from: source instanceof Blob ? "blob" : "bitmap", ...options });
      const size =
        options === undefined
          ? browser.size
          : { width: options.resizeWidth, height: options.resizeHeight };
      return { ...size, close: () => {} };
    },
  );
  vi.stubGlobal(
    "OffscreenCanvas",
    class {
      constructor(
        public width: number,
        public height: number,
      ) {}
      getContext() {
        return { fillRect() {}, drawImage() {}, fillStyle: "" };
      }
      async convertToBlob(options: { type: string }) {
        const head = options.type === "image/png" ? PNG_SIGNATURE : [0xff, 0xd8, 0xff, 0xe0];
        const body = new Uint8Array(Math.max(0, browser.encodedSize - head.length));
        return new Blob([new Uint8Array(head), body], { type: options.type });
      }
    },
  );
}

// ---- sniffing ---------------------------------------------------------------------------------

describe("sniffing", () => {
  it("knows PNG, JPEG, WebP and GIF by their first bytes, whatever the name says", () => {
    expect(sniffImage(png())).toBe("image/png");
    expect(sniffImage(jpeg())).toBe("image/jpeg");
    expect(sniffImage(webp())).toBe("image/webp");
    expect(sniffImage(gif())).toBe("image/gif");
    expect(sniffImage(bytes("%PDF-1.7"))).toBeNull();
    expect(sniffImage(new Uint8Array())).toBeNull();
  });

  it("refuses an SVG, even one calling itself a PNG, saying why", () => {
    const reason = refusal(new TextEncoder().encode(SVG), "plot.png");
    expect(reason).toContain("“plot.png” is an SVG");
    expect(refusal(new TextEncoder().encode("\uFEFF  <svg></svg>"), "")).toContain("SVG");
    expect(refusal(bytes("hello"), "notes.txt")).toContain("not a PNG, JPEG, WebP or GIF");
    expect(refusal(png(), "a.png")).toBeNull();
  });

  it("lets only base64 PNG and JPEG data: URLs be thumbnails", () => {
    expect(isSafeThumbnail("data:image/png;base64,iVBORw0KGgo=")).toBe(true);
    expect(isSafeThumbnail("data:image/jpeg;base64,/9j/4AAQ")).toBe(true);
    for (const bad of [
      "data:image/svg+xml;base64,PHN2Zz4=",
      "data:image/svg+xml,<svg onload=alert(1)>",
      "data:image/png,rawbytes",
      "data:image/png;base64,iVBOR\u0022 onerror=x",
      "https://example.com/a.png",
      "javascript:alert(1)",
      "blob:https://example.com/1",
      "data:image/webp;base64,UklGR",
      42,
      undefined,
    ]) {
      expect(isSafeThumbnail(bad), String(bad)).toBe(false);
    }
  });

  it("names an image with its number, size and format", () => {
    expect(describeImage(1, 1024, 768, "image/png")).toBe("Image 1, 1024×768 PNG");
    expect(describeImage(2, 0, 0, "image/jpeg")).toBe("Image 2, JPEG");
  });
});

describe("reading an image's size from its header", () => {
  it("reads PNG, GIF, WebP and JPEG sizes, and a JPEG's EXIF orientation", () => {
    expect(readDimensions(png(0, 4000, 3000), "image/png")).toEqual({
      width: 4000,
      height: 3000,
      orientation: 1,
    });
    expect(readDimensions(bytes("GIF89a", [0x40, 1, 0xf0, 0]), "image/gif")).toMatchObject({
      width: 320,
      height: 240,
    });
    const vp8x = bytes(
      "RIFF",
      [0, 0, 0, 0],
      "WEBPVP8X",
      [10, 0, 0, 0, 0, 0, 0, 0],
      [0x9f, 0x0f, 0],
      [0x9f, 0x0f, 0],
    );
    expect(readDimensions(vp8x, "image/webp")).toMatchObject({ width: 4000, height: 4000 });
    expect(readDimensions(jpegOf(4000, 3000), "image/jpeg")).toEqual({
      width: 4000,
      height: 3000,
      orientation: 1,
    });
    expect(readDimensions(jpegOf(4000, 3000, 6), "image/jpeg")?.orientation).toBe(6);
  });

  it("says nothing of a header cut short", () => {
    expect(readDimensions(jpegOf(4000, 3000).subarray(0, 12), "image/jpeg")).toBeNull();
    expect(readDimensions(png().subarray(0, 20), "image/png")).toBeNull();
  });
});

// ---- scaling ---------------------------------------------------------------------------------

describe("preparing an image", () => {
  /** A decoder of any size, recording what it was asked to write. */
  function fakeDecode(width: number, height: number, encodedSize = 1000) {
    const calls: { width: number; height: number; mime: string; quality?: number }[] = [];
    const decode: Decode = async () => ({
      width,
      height,
      async encode(w, h, mime, quality) {
        calls.push({ width: w, height: h, mime, ...(quality === undefined ? {} : { quality }) });
        const head = mime === "image/png" ? PNG_SIGNATURE : [0xff, 0xd8, 0xff];
        return new Blob([new Uint8Array(head), new Uint8Array(encodedSize)], { type: mime });
      },
      close() {},
    });
    return { decode, calls };
  }

  it("scales the longest side down to the limit, never up", () => {
    expect(fitWithin(4000, 3000, 1568)).toEqual({ width: 1568, height: 1176 });
    expect(fitWithin(3000, 4000, 1568)).toEqual({ width: 1176, height: 1568 });
    expect(fitWithin(800, 600, 1568)).toEqual({ width: 800, height: 600 });
    expect(fitWithin(10000, 10, 1568)).toEqual({ width: 1568, height: 2 });
  });

  it("writes a large photo as a scaled JPEG", async () => {
    const { decode, calls } = fakeDecode(4000, 3000);
    const out = await prepareImage(file(jpeg(), "photo.jpg", "image/jpeg"), 1568, decode);
    expect(calls).toEqual([{ width: 1568, height: 1176, mime: "image/jpeg", quality: 0.9 }]);
    expect(JPEG_QUALITY).toBe(0.9);
    expect(out).toMatchObject({ mime: "image/jpeg", width: 1568, height: 1176 });
  });

  it("re-encodes even a small PNG or JPEG: the file's own bytes (EXIF, GPS) never go", async () => {
    const cases = [
      [png(100), "shot.png", "image/png"],
      [jpegOf(300, 200), "photo.jpg", "image/jpeg"],
    ] as const;
    for (const [data, name, mime] of cases) {
      const { decode, calls } = fakeDecode(300, 200);
      const out = await prepareImage(file(data, name, mime), 1568, decode);
      // PNG stays PNG (lossless); a JPEG is written again as JPEG, at the same size.
      expect(calls.map((c) => [c.mime, c.width, c.height])).toEqual([[mime, 300, 200]]);
      expect(out).toMatchObject({ mime, width: 300, height: 200 });
      expect(new Uint8Array(await out.blob.arrayBuffer())).not.toEqual(data);
    }
  });

  it("re-encodes WebP and GIF (which llama.cpp cannot read) as PNG while small", async () => {
    for (const [data, name] of [
      [webp(), "a.webp"],
      [gif(), "a.gif"],
    ] as const) {
      const { decode, calls } = fakeDecode(64, 64);
      const out = await prepareImage(file(data, name, ""), 1568, decode);
      expect(out.mime).toBe("image/png");
      expect(calls.map((c) => c.mime)).toEqual(["image/png"]);
    }
  });

  it("falls back to JPEG when the PNG would be heavy", async () => {
    const { decode, calls } = fakeDecode(3000, 2000, PNG_KEEP_BYTES + 1);
    const out = await prepareImage(file(png(), "big.png", "image/png"), 1568, decode);
    expect(calls.map((c) => c.mime)).toEqual(["image/png", "image/jpeg"]);
    expect(out.mime).toBe("image/jpeg");
  });

  it("refuses an SVG before decoding, and a damaged image after", async () => {
    const decode = vi.fn<Decode>(async () => {
      throw new Error("broken");
    });
    await expect(prepareImage(file(SVG, "x.png", "image/png"), 1568, decode)).rejects.toThrow(
      /SVG/,
    );
    expect(decode).not.toHaveBeenCalled();
    const damaged = prepareImage(file(png(), "x.png", "image/png"), 1568, decode);
    await expect(damaged).rejects.toBeInstanceOf(ImageRefused);
    await expect(damaged).rejects.toThrow(/could not be decoded/);
  });

  it("hands the decoder a blob typed by its bytes, not by its claim", async () => {
    let seen = "";
    const decode: Decode = async (blob) => {
      seen = blob.type;
      return { width: 1, height: 1, encode: async () => new Blob(), close() {} };
    };
    await prepareImage(file(jpeg(), "a.svg", "image/svg+xml"), 1568, decode);
    expect(seen).toBe("image/jpeg");
  });
});

// ---- the widget --------------------------------------------------------------------------------

let frames: ReturnType<typeof manualFrames>;
const cleanups: (() => void)[] = [];

beforeEach(() => {
  frames = manualFrames();
  stubBrowser();
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  document.body.innerHTML = "";
});

function setup(model = new FakeModel()): { model: FakeModel; view: Mounted } {
  cleanups.push(initializeModel(model));
  const view = renderView(model);
  cleanups.push(view.cleanup);
  return { model, view };
}

const textarea = (view: Mounted): HTMLTextAreaElement =>
  view.root.querySelector("textarea.nbc-input")!;
const trayImages = (view: Mounted): HTMLImageElement[] => [
  ...view.root.querySelectorAll<HTMLImageElement>(".nbc-attachments img"),
];
const removeButtons = (view: Mounted): HTMLButtonElement[] => [
  ...view.root.querySelectorAll<HTMLButtonElement>(".nbc-attach-remove"),
];
const reason = (view: Mounted): HTMLElement => view.root.querySelector(".nbc-input-reason")!;

/** A paste event as a browser makes it, holding `files` (jsdom has no DataTransfer). */
/** Paste one small PNG and wait for its thumbnail in the tray. */
async function attachOne(view: Mounted): Promise<void> {
  paste(textarea(view), [file(png(), "a.png", "image/png")]);
  await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
}

/** Type `text`, press Enter, and wait for one more submit to leave. */
async function send(view: Mounted, model: FakeModel, text: string): Promise<void> {
  const before = model.sentOf("submit").length;
  textarea(view).value = text;
  press(textarea(view), "Enter");
  await vi.waitFor(() => expect(model.sentOf("submit")).toHaveLength(before + 1));
}

function paste(target: HTMLElement, files: File[], text = ""): Event {
  const event = new Event("paste", { bubbles: true, cancelable: true });
  const data = { files, items: [], types: ["Files"], getData: () => text };
  Object.defineProperty(event, "clipboardData", { value: data });
  target.dispatchEvent(event);
  return event;
}

function drop(target: HTMLElement, files: File[]): Event {
  const data = { files, items: [], types: ["Files"], getData: () => "" };
  for (const type of ["dragover", "drop"]) {
    const event = new Event(type, { bubbles: true, cancelable: true });
    Object.defineProperty(event, "dataTransfer", { value: data });
    target.dispatchEvent(event);
    if (type === "drop") return event;
  }
  throw new Error("unreachable");
}

describe("attaching images", () => {
  it("a pasted PNG shows as a named thumbnail with a remove button; the text stays", async () => {
    const { view } = setup();
    textarea(view).value = "what is this?";
    const event = paste(textarea(view), [file(png(), "shot.png", "image/png")]);
    expect(event.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
    const img = trayImages(view)[0]!;
    expect(img.alt).toBe("Image 1, 2×2 PNG");
    expect(urls.made.get(img.src)?.type).toBe("image/png");
    expect(removeButtons(view).map((b) => b.getAttribute("aria-label"))).toEqual([
      "Remove image 1",
    ]);
    expect(textarea(view).value).toBe("what is this?");
  });

  it("a paste with plain text is a text paste (cells copied from a spreadsheet)", () => {
    const { view } = setup();
    const event = paste(textarea(view), [file(png(), "cells.png", "image/png")], "a\tb");
    expect(event.defaultPrevented).toBe(false);
    expect(view.root.querySelectorAll(".nbc-attach")).toHaveLength(0);
  });

  it("a dropped image goes to the tray, and the browser does not open it", async () => {
    const { view } = setup();
    const event = drop(view.root, [file(jpeg(), "photo.jpg", "image/jpeg")]);
    expect(event.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
    expect(trayImages(view)[0]!.alt).toBe("Image 1, 2×2 JPEG");
  });

  it("the file picker is opened by a named button and accepts only the four formats", () => {
    const { view } = setup();
    const open = view.root.querySelector<HTMLButtonElement>(".nbc-attach-button")!;
    expect(open.getAttribute("aria-label")).toBe("Attach images");
    const picker = view.root.querySelector<HTMLInputElement>("input[type=file]")!;
    expect(picker.accept).toBe("image/png,image/jpeg,image/webp,image/gif");
    expect(picker.hidden).toBe(true); // the button is the control

    const click = vi.spyOn(picker, "click").mockImplementation(() => {});
    open.click();
    expect(click).toHaveBeenCalledOnce();
  });

  it("refuses an SVG with a visible reason, keeps the typed text, never shows it", async () => {
    const { view } = setup();
    textarea(view).value = "compare these";
    paste(textarea(view), [file(SVG, "chart.png", "image/png")]);
    await vi.waitFor(() => expect(reason(view).hidden).toBe(false));
    expect(reason(view).textContent).toContain("“chart.png” is an SVG");
    expect(textarea(view).value).toBe("compare these");
    expect(view.root.querySelectorAll(".nbc-attach")).toHaveLength(0);
    for (const blob of urls.made.values()) expect(blob.type).not.toContain("svg");
  });

  it("× removes one image, renumbers the rest, and revokes its URL", async () => {
    const { view } = setup();
    paste(textarea(view), [
      file(png(), "a.png", "image/png"),
      file(jpeg(), "b.jpg", "image/jpeg"),
      file(png(), "c.png", "image/png"),
    ]);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(3));
    const first = trayImages(view)[0]!.src;
    removeButtons(view)[0]!.click();
    expect(urls.revoked.has(first)).toBe(true);
    expect(trayImages(view).map((i) => i.alt)).toEqual(["Image 1, 2×2 JPEG", "Image 2, 2×2 PNG"]);
    expect(removeButtons(view).map((b) => b.getAttribute("aria-label"))).toEqual([
      "Remove image 1",
      "Remove image 2",
    ]);
    expect(document.activeElement).toBe(removeButtons(view)[0]);
  });

  it("a removed image's × button lets go of its click listener", async () => {
    const signals: AbortSignal[] = [];
    const add = HTMLButtonElement.prototype.addEventListener;
    vi.spyOn(HTMLButtonElement.prototype, "addEventListener").mockImplementation(function (
      this: HTMLButtonElement,
      type: string,
      listener: EventListenerOrEventListenerObject,
      options?: boolean | AddEventListenerOptions,
    ) {
      if (this.classList.contains("nbc-attach-remove") && typeof options === "object") {
        signals.push(options.signal!);
      }
      add.call(this, type, listener, options);
    });
    const { view } = setup();
    paste(textarea(view), [file(png(), "a.png", "image/png"), file(png(), "b.png", "image/png")]);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(2));
    expect(signals).toHaveLength(2);
    removeButtons(view)[0]!.click();
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
  });

  it("a large photo is decoded straight to the chat's max_image_side", async () => {
    const { view } = setup(new FakeModel(traits({ max_image_side: 1000 })));
    paste(textarea(view), [file(jpegOf(4000, 3000), "photo.jpg", "image/jpeg")]);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
    // One decode, of the file, at the size sent: the 12 megapixels are never held whole.
    expect(browser.decoded).toEqual([
      { from: "blob", resizeWidth: 1000, resizeHeight: 750, resizeQuality: "high" },
    ]);
    expect(trayImages(view)[0]!.alt).toBe("Image 1, 1000×750 JPEG");
  });

  it("the view has no size limit of its own: max_image_side's default is Python's", async () => {
    browser.size = { width: 4000, height: 3000 };
    const { view } = setup(new FakeModel(traits({})));
    paste(textarea(view), [file(jpegOf(4000, 3000), "photo.jpg", "image/jpeg")]);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
    expect(trayImages(view)[0]!.alt).toBe("Image 1, 4000×3000 JPEG");
  });

  it("a rotated phone photo is decoded upright first, then scaled", async () => {
    browser.size = { width: 3000, height: 4000 }; // what the browser makes of orientation 6
    const { view } = setup(new FakeModel(traits({ max_image_side: 1000 })));
    paste(textarea(view), [file(jpegOf(4000, 3000, 6), "portrait.jpg", "image/jpeg")]);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
    expect(browser.decoded).toEqual([
      { from: "blob" },
      { from: "bitmap", resizeWidth: 750, resizeHeight: 1000, resizeQuality: "high" },
    ]);
    expect(trayImages(view)[0]!.alt).toBe("Image 1, 750×1000 JPEG");
  });
});

describe("sending images", () => {
  it("the submit carries each image as a binary buffer and describes it in the content", async () => {
    const { model, view } = setup();
    const data = png(64);
    paste(textarea(view), [file(data, "a.png", "image/png"), file(jpeg(), "b.jpg", "image/jpeg")]);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(2));
    textarea(view).value = "describe";
    press(textarea(view), "Enter");
    await vi.waitFor(() => expect(model.sentOf("submit")).toHaveLength(1));
    const at = model.sent.findIndex((m) => (m as { kind?: string }).kind === "submit");
    expect(model.sent[at]).toEqual({
      kind: "submit",
      text: "describe",
      images: [
        { mime: "image/png", width: 2, height: 2 },
        { mime: "image/jpeg", width: 2, height: 2 },
      ],
    });
    const buffers = model.sentBuffers[at]!;
    expect(buffers).toHaveLength(2);
    expect(buffers[0]).toBeInstanceOf(ArrayBuffer);
    expect(sniffImage(new Uint8Array(buffers[0] as ArrayBuffer))).toBe("image/png");
    expect(new Uint8Array(buffers[0] as ArrayBuffer)).not.toEqual(data); // drawn afresh
    expect(sniffImage(new Uint8Array(buffers[1] as ArrayBuffer))).toBe("image/jpeg");
    // Not base64 in the JSON: the content stays a few dozen bytes.
    expect(JSON.stringify(model.sent[at]).length).toBeLessThan(200);
    expect(textarea(view).value).toBe("");
    expect(view.root.querySelectorAll(".nbc-attach")).toHaveLength(0);
  });

  it("an image alone can be sent (no text)", async () => {
    const { model, view } = setup();
    await attachOne(view);
    await send(view, model, "");
    expect(model.sentOf("submit")[0]).toMatchObject({ text: "", images: [{ mime: "image/png" }] });
  });

  it("while an image is prepared, typing goes on and Send waits, saying why", async () => {
    let release: (() => void) | null = null;
    vi.stubGlobal(
      "createImageBitmap",
      () =>
        new Promise((resolve) => {
          release = () => resolve({ width: 2, height: 2, close: () => {} });
        }),
    );
    const { model, view } = setup();
    paste(textarea(view), [file(png(), "a.png", "image/png")]);
    await vi.waitFor(() => expect(release).not.toBeNull()); // decoding has begun
    expect(view.root.querySelector(".nbc-attach-busy")).not.toBeNull();
    textarea(view).value = "still typing";
    press(textarea(view), "Enter");
    expect(model.sentOf("submit")).toEqual([]);
    expect(reason(view).textContent).toBe(PREPARING_REASON);
    expect(textarea(view).value).toBe("still typing");
    release!();
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
    press(textarea(view), "Enter");
    await vi.waitFor(() => expect(model.sentOf("submit")).toHaveLength(1));
  });

  it("a refused message gives back its text and its images", async () => {
    const { model, view } = setup();
    await attachOne(view);
    await send(view, model, "look");
    model.push({ kind: "error", id: null, message: "The image is damaged.", hint: "" });
    frames.flush();
    expect(textarea(view).value).toBe("look");
    expect(trayImages(view)).toHaveLength(1);
  });

  it("images that cannot be read at Send give back the text and images, saying why", async () => {
    const { model, view } = setup();
    await attachOne(view);
    vi.spyOn(Blob.prototype, "arrayBuffer").mockRejectedValue(new Error("NotReadableError"));
    textarea(view).value = "look";
    press(textarea(view), "Enter");
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
    expect(textarea(view).value).toBe("look");
    expect(reason(view).hidden).toBe(false);
    expect(reason(view).textContent).toMatch(/could not be read.*nothing was sent/);
    expect(model.sentOf("submit")).toEqual([]);
  });

  it("a refused text-only message after an accepted one with images brings no images back", async () => {
    const { model, view } = setup();
    await attachOne(view);
    await send(view, model, "look");
    // Accepted: no refusal. The same words again, without images, are refused.
    textarea(view).value = "look";
    press(textarea(view), "Enter");
    expect(model.sentOf("submit")).toHaveLength(2);
    model.push({ kind: "error", id: null, message: "One turn at a time.", hint: "" });
    frames.flush();
    expect(textarea(view).value).toBe("look");
    expect(trayImages(view)).toHaveLength(0);
  });

  it("a refused message's images go back after those attached meanwhile, up to the limit", async () => {
    const { model, view } = setup();
    const pngs = (n: number): File[] =>
      Array.from({ length: n }, (_, i) => file(png(), `${i}.png`, "image/png"));
    paste(textarea(view), pngs(3));
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(3));
    await send(view, model, "look");
    paste(textarea(view), pngs(MAX_ATTACHMENTS - 1));
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(MAX_ATTACHMENTS - 1));
    model.push({ kind: "error", id: null, message: "One turn at a time.", hint: "" });
    frames.flush();
    expect(textarea(view).value).toBe("look");
    expect(trayImages(view)).toHaveLength(MAX_ATTACHMENTS);
    expect(reason(view).hidden).toBe(false);
    expect(reason(view).textContent).toMatch(/^2 images .* could not be put back/);
  });

  it("a refused message of images only gives back its images", async () => {
    const { model, view } = setup();
    await attachOne(view);
    await send(view, model, "");
    expect(trayImages(view)).toHaveLength(0);
    model.push({ kind: "error", id: null, message: "One turn at a time.", hint: "" });
    frames.flush();
    expect(textarea(view).value).toBe("");
    expect(trayImages(view)).toHaveLength(1);
  });
});

/** The larger view's image, once it shows one (it has no image element before). */
function largeImage(dialog: Element): HTMLImageElement {
  const img = dialog.querySelector("img");
  if (img === null) throw new Error("the larger view shows no image yet");
  return img;
}

describe("images of sent messages", () => {
  const THUMB = "data:image/png;base64,iVBORw0KGgo=";
  const withImages = (thumbnails: (string | undefined)[]): FakeModel =>
    new FakeModel(
      traits({
        messages: [
          {
            ...user("u1", "what is it?"),
            parts: [
              { type: "text", text: "what is it?" },
              ...thumbnails.map((thumbnail, i) => ({
                type: "image" as const,
                id: `img${i}`,
                mime: "image/png",
                width: 1024,
                height: 768,
                ...(thumbnail === undefined ? {} : { thumbnail }),
              })),
            ],
          },
        ],
      }),
    );

  it("shows PNG/JPEG data: thumbnails and drops anything else", () => {
    const { view } = setup(
      withImages([
        THUMB,
        "data:image/svg+xml;base64,PHN2Zz4=",
        "https://example.com/tracker.png",
        undefined,
      ]),
    );
    frames.flush();
    const thumbs = [...view.root.querySelectorAll<HTMLButtonElement>(".nbc-msg-user .nbc-thumb")];
    expect(thumbs).toHaveLength(4);
    const imgs = [...view.root.querySelectorAll<HTMLImageElement>(".nbc-msg-user img")];
    expect(imgs.map((i) => i.getAttribute("src"))).toEqual([THUMB]);
    expect(imgs[0]!.alt).toBe("Image 1, 1024×768 PNG");
    // The others still name their image, in text.
    expect(thumbs[1]!.getAttribute("aria-label")).toBe("Image 2, 1024×768 PNG");
    expect(thumbs[1]!.textContent).toBe("1024×768 PNG");
  });

  it("a click opens the larger view from the kernel's full image; Escape closes it", async () => {
    const { model, view } = setup(withImages([THUMB]));
    frames.flush();
    const thumb = view.root.querySelector<HTMLButtonElement>(".nbc-thumb")!;
    thumb.focus();
    thumb.click();
    const dialog = view.root.querySelector<HTMLElement>(".nbc-lightbox")!;
    expect(dialog.hidden).toBe(false);
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(dialog.getAttribute("aria-label")).toBe("Image 1, 1024×768 PNG");
    const [asked] = model.sentOf("image");
    expect(asked).toEqual({ kind: "image", id: "img0", request: expect.any(Number) });
    const full = png(500);
    model.push({ kind: "image", request: asked!.request, id: "img0", mime: "image/png" }, [
      new DataView(full.buffer),
    ]);
    expect(dialog.querySelector("img")).toBeNull(); // no image element until there is one
    const big = await vi.waitFor(() => largeImage(dialog));
    const url = big.getAttribute("src")!;
    expect(urls.made.get(url)?.type).toBe("image/png");
    expect(document.activeElement?.getAttribute("aria-label")).toBe("Close image");
    press(document.activeElement as HTMLElement, "Escape");
    expect(dialog.hidden).toBe(true);
    expect(dialog.querySelector("img")).toBeNull();
    expect(urls.revoked.has(url)).toBe(true);
    expect(document.activeElement).toBe(thumb);
  });

  it("with two views of one chat, each shows the image it asked for, not the other's", async () => {
    const { model, view: first } = setup(withImages([THUMB, THUMB]));
    const second = renderView(model);
    cleanups.push(second.cleanup);
    frames.flush();
    first.root.querySelectorAll<HTMLButtonElement>(".nbc-thumb")[0]!.click();
    second.root.querySelectorAll<HTMLButtonElement>(".nbc-thumb")[1]!.click();
    const [askedFirst, askedSecond] = model.sentOf("image");
    expect([askedFirst!.id, askedSecond!.id]).toEqual(["img0", "img1"]);
    const image1 = png(300);
    const image0 = png(200);
    // Both views hear both answers; the second's comes first.
    model.push({ kind: "image", request: askedSecond!.request, id: "img1" }, [
      new DataView(image1.buffer),
    ]);
    model.push({ kind: "image", request: askedFirst!.request, id: "img0" }, [
      new DataView(image0.buffer),
    ]);
    const shown = async (view: Mounted): Promise<Uint8Array> => {
      const big = await vi.waitFor(() => largeImage(view.root.querySelector(".nbc-lightbox")!));
      return new Uint8Array(await urls.made.get(big.getAttribute("src")!)!.arrayBuffer());
    };
    expect(await shown(first)).toEqual(image0);
    expect(await shown(second)).toEqual(image1);
  });

  it("an answer for another image under the number asked is not taken", async () => {
    const { model, view } = setup(withImages([THUMB]));
    frames.flush();
    view.root.querySelector<HTMLButtonElement>(".nbc-thumb")!.click();
    const [asked] = model.sentOf("image");
    const other = png(300);
    model.push({ kind: "image", request: asked!.request, id: "elsewhere" }, [
      new DataView(other.buffer),
    ]);
    const mine = png(200);
    model.push({ kind: "image", request: asked!.request, id: "img0" }, [new DataView(mine.buffer)]);
    const big = await vi.waitFor(() => largeImage(view.root.querySelector(".nbc-lightbox")!));
    expect(new Uint8Array(await urls.made.get(big.getAttribute("src")!)!.arrayBuffer())).toEqual(
      mine,
    );
  });

  it("a kernel answer that is not a PNG or JPEG is never shown", async () => {
    const { model, view } = setup(withImages([THUMB]));
    frames.flush();
    view.root.querySelector<HTMLButtonElement>(".nbc-thumb")!.click();
    const svg = new TextEncoder().encode(SVG);
    const [asked] = model.sentOf("image");
    model.push({ kind: "image", request: asked!.request, id: "img0" }, [new DataView(svg.buffer)]);
    const status = view.root.querySelector<HTMLElement>(".nbc-lightbox-status")!;
    await vi.waitFor(() => expect(status.textContent).toContain("not available"));
    expect(view.root.querySelector(".nbc-lightbox img")).toBeNull();
  });

  it("the larger view of an image this browser sent uses its own copy, asking nothing", async () => {
    const { model, view } = setup();
    const data = png(80);
    paste(textarea(view), [file(data, "a.png", "image/png")]);
    await vi.waitFor(() => expect(trayImages(view)).toHaveLength(1));
    textarea(view).value = "see";
    press(textarea(view), "Enter");
    await vi.waitFor(() => expect(model.sentOf("submit")).toHaveLength(1));
    const at = model.sent.findIndex((m) => (m as { kind?: string }).kind === "submit");
    const sent = new Uint8Array(model.sentBuffers[at]![0] as ArrayBuffer);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", sent));
    const id = [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
    model.kernelShow([
      {
        ...user("u1", "see"),
        parts: [
          { type: "text", text: "see" },
          { type: "image", id, mime: "image/png", width: 2, height: 2, thumbnail: THUMB },
        ],
      },
    ]);
    frames.flush();
    view.root.querySelector<HTMLButtonElement>(".nbc-thumb")!.click();
    const big = await vi.waitFor(() => largeImage(view.root.querySelector(".nbc-lightbox")!));
    expect(model.sentOf("image")).toEqual([]);
    const shown = urls.made.get(big.getAttribute("src")!)!;
    expect(new Uint8Array(await shown.arrayBuffer())).toEqual(sent);
  });
});
