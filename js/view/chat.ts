// One view of a chat: assembles its parts — toolbar (toolbar.ts), notice (notice.ts), the
// messages (list.ts), input — wires them to the store and the model's traits, and draws
// them at most once per animation frame. Everything it registers is tied to `signal`, so
// aborting it (the view's cleanup) leaves nothing behind.

import { blocksItsCell, streamingReply } from "../channel.js";
import { versionsOf } from "../history.js";
import { ensureKatexFonts } from "../markdown/index.js";
import { awaitsApproval } from "../parts.js";
import type { ApproveMsg, ChatTraits, ClientMessage, ImagePart } from "../protocol.js";
import type { ChatModel, LiveStore } from "../store.js";
import { createAnnouncer, replyBoundaries } from "./announce.js";
import { createBlockingNote } from "./blocking.js";
import { copyText } from "./clipboard.js";
import { button, flash, h, later, show } from "./dom.js";
import { createExportMenu } from "./export.js";
import { createFind } from "./find.js";
import { createImageSource } from "./fullimage.js";
import { cellFor, insertCell, interruptKernel, NO_HOST, probeHost } from "./host.js";
import { createInput, imageFiles } from "./input.js";
import { createLightbox } from "./lightbox.js";
import { MessageList } from "./list.js";
import type { Row, RowPlace } from "./message.js";
import { createNotice } from "./notice.js";
import { displayRows } from "./rows.js";
import type { Prepared } from "./scale.js";
import { isAwayFromBottom, stickToBottom } from "./scroll.js";
import { applyTheme } from "./theme.js";
import { createToolbar } from "./toolbar.js";

const TICK_MS = 200;
/** The streaming reply is re-rendered at most this often: each render re-parses its unsettled
 * tail, and 20 a second reads as smooth while costing far less than one per frame. The
 * final text is drawn at once. */
const LIVE_RENDER_MS = 50;

export interface MountOptions {
  /** A column of a comparison (view/compare.ts): messages only, as `compact` shows them;
   * the comparison draws the model, status line and the one input. */
  embedded?: boolean;
}

export function mountChat(
  el: HTMLElement,
  model: ChatModel,
  store: LiveStore,
  signal: AbortSignal,
  options: MountOptions = {},
): void {
  const doc = el.ownerDocument;
  ensureKatexFonts(doc);

  const send = (message: ClientMessage): void => store.send(message);
  const trait = <K extends keyof ChatTraits>(key: K): ChatTraits[K] => model.get(key);

  // ---- toolbar -------------------------------------------------------------------------
  // The chat's own find (find.ts): the browser's cannot see messages scrolled out of the DOM.
  const find = createFind(
    {
      reveal: (key) => {
        scroll.release();
        messages.reveal(key);
        schedule();
      },
      elementOf: (key) => messages.elementOf(key),
      fallbackFocus: () => scroller,
    },
    signal,
  );
  const exportMenu = createExportMenu(
    model,
    send,
    () => store.messages(),
    (text) => announcer.say(text),
    signal,
  );
  const toolbar = createToolbar(send, [find.toggle, exportMenu.el], signal);

  // ---- notice --------------------------------------------------------------------------
  const notice = createNotice(store.state.notice, signal);
  let refusedSeq = store.state.refused?.seq ?? 0;

  // ---- list ----------------------------------------------------------------------------
  const empty = h("div", "nbc-empty", {}, ["No messages yet — ask something below."]);
  // A log a reader can browse, but not a live one: it would be read out at every token.
  const list = h("div", "nbc-list", { role: "log", "aria-live": "off", "aria-label": "Chat" }, [
    empty,
  ]);
  const announcer = createAnnouncer(signal);
  const boundaries = replyBoundaries();
  const scroller = h("div", "nbc-scroller", { tabindex: "0", "aria-label": "Messages" }, [list]);
  const jump = button(
    "nbc-jump",
    "Jump to the latest message",
    "↓ Jump to latest",
    () => {
      scroll.jumpToBottom();
      show(jump, false);
    },
    signal,
  );
  show(jump, false);
  const stage = h("div", "nbc-stage", {}, [scroller, jump]);

  // ---- images: the larger view, and where its full image comes from --------------------
  const lightbox = createLightbox(signal);
  const fullImages = createImageSource(model, send);
  signal.addEventListener("abort", () => fullImages.dispose(), { once: true });
  // The last message sent, when it had images: a refusal gives its text back, and its images
  // too. Any other submit or edit clears it, so a later refusal brings back no old images.
  let lastSent: { text: string; images: Prepared[] } | null = null;
  const submitWithImages = async (text: string, images: Prepared[]): Promise<void> => {
    let buffers: ArrayBuffer[];
    try {
      buffers = await Promise.all(images.map((image) => image.blob.arrayBuffer()));
    } catch {
      // The box was cleared and the tray taken when Send was pressed: nothing is lost.
      if (signal.aborted) return;
      input.restore(text);
      input.tray.restore(images);
      input.explain("The images could not be read, so nothing was sent — try Send again.");
      return;
    }
    if (signal.aborted) return;
    for (const bytes of buffers) void fullImages.keep(bytes);
    lastSent = { text, images };
    const described = images.map(({ mime, width, height }) => ({ mime, width, height }));
    store.send({ kind: "submit", text, images: described }, buffers);
  };

  // ---- input ---------------------------------------------------------------------------
  const busy = (): boolean =>
    trait("status") === "streaming" || streamingReply(store.state) !== null;
  const input = createInput(
    {
      submit: (text, images) => {
        if (images.length === 0) {
          lastSent = null; // a refusal of this one has no images to give back
          send({ kind: "submit", text });
        } else void submitWithImages(text, images);
        scroll.jumpToBottom();
      },
      stop: () => send({ kind: "stop" }),
      isBusy: busy,
      // The trait always arrives with the model, its default Python's alone; were it missing,
      // 0: the view sets no limit of its own (a second default here would drift from it).
      images: { maxSide: () => trait("max_image_side") ?? 0 },
    },
    signal,
  );

  // ---- a reply that holds its cell: how to stop it (there is no Stop) -------------------
  const blockingNote = createBlockingNote(() => interruptKernel(el), signal);

  // ---- root ----------------------------------------------------------------------------
  const root = h("div", "nbc-root", { "data-lm-suppress-shortcuts": "true" }, [
    toolbar.el,
    notice.el,
    find.el,
    stage,
    blockingNote.el,
    input.el,
    announcer.el,
    lightbox.el,
  ]);
  // Images dropped anywhere on the chat go with the next message.
  const carriesFiles = (event: DragEvent): boolean =>
    event.dataTransfer?.types.includes("Files") === true && !root.classList.contains("is-compact");
  root.addEventListener(
    "dragover",
    (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault(); // this is what allows the drop
      root.classList.add("is-dropping");
    },
    { signal },
  );
  root.addEventListener("dragleave", () => root.classList.remove("is-dropping"), { signal });
  root.addEventListener(
    "drop",
    (event) => {
      root.classList.remove("is-dropping");
      if (!carriesFiles(event)) return;
      event.preventDefault(); // never let the browser open the file as a page
      input.attach(imageFiles(event.dataTransfer));
    },
    { signal },
  );
  // Keys pressed inside the chat belong to the chat, never to notebook shortcuts.
  for (const type of ["keydown", "keyup", "keypress"]) {
    root.addEventListener(type, (event) => event.stopPropagation(), { signal });
  }
  find.listen(root);
  el.append(root);
  signal.addEventListener("abort", () => root.remove(), { once: true });
  const theme = applyTheme(root, () => trait("theme"), signal);

  // What the notebook around us offers (view/host.ts): asked once the view is in the page,
  // and again whenever the pointer or focus comes in (the output may have moved).
  let host = NO_HOST;
  const probe = (): void => {
    const next = probeHost(el);
    root.classList.toggle("can-insert", next.insert);
    if (next.interrupt !== host.interrupt) schedule();
    host = next;
  };
  const probeWhenAttached = (tries = 100): void => {
    if (el.isConnected) probe();
    else if (tries > 0) later(() => probeWhenAttached(tries - 1), 100, signal);
  };
  for (const type of ["pointerenter", "focusin"]) root.addEventListener(type, probe, { signal });

  // Code blocks come from the renderer with .nbc-insert and .nbc-copy buttons: one delegated
  // listener.
  root.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const insert = target?.closest<HTMLButtonElement>(".nbc-insert");
      if (insert && root.contains(insert)) {
        probe();
        const code = insert.closest(".nbc-code")?.querySelector("pre code, pre");
        const cell = cellFor(code?.textContent ?? "", insert.value, host.kernelLanguage);
        flash(insert, host.insert && insertCell(el, cell) ? "Inserted" : "Insert failed", signal);
        return;
      }
      const copy = target?.closest<HTMLButtonElement>(".nbc-copy");
      if (!copy || !root.contains(copy)) return;
      const code = copy.closest(".nbc-code")?.querySelector("pre code, pre");
      void copyText(code?.textContent ?? "", doc).then((ok) => {
        flash(copy, ok ? "Copied" : "Copy failed", signal);
      });
    },
    { signal },
  );

  // Called from scroll and resize callbacks, where layout is already up to date.
  const scroll = stickToBottom(
    scroller,
    list,
    (stuck) => show(jump, !stuck && isAwayFromBottom(scroller)),
    signal,
  );

  // ---- messages ------------------------------------------------------------------------
  const actions = {
    regenerate: (id: string) => {
      send({ kind: "regenerate", id });
      scroll.jumpToBottom();
    },
    resume: () => {
      send({ kind: "continue" });
      scroll.jumpToBottom();
    },
    edit: (text: string, id: string) => {
      lastSent = null; // an edit carries no new images: its refusal gives back text only
      send({ kind: "edit", text, id });
      scroll.jumpToBottom();
    },
    approve: (answer: ApproveMsg) => send(answer),
    // The kernel refuses a switch while a reply streams, with a notice saying why.
    switchTo: (id: string) => send({ kind: "switch", id }),
    openImage: (image: ImagePart, label: string, opener: HTMLElement) =>
      lightbox.open(() => fullImages.get(image.id), label, opener),
  };
  const messages = new MessageList(list, scroller, actions, () => schedule(), signal);

  // ---- drawing: at most once per animation frame ----------------------------------------
  let frame = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let liveRenderedAt = Number.NEGATIVE_INFINITY;
  let liveTimer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (): void => {
    if (frame === 0 && !signal.aborted) frame = requestAnimationFrame(draw);
  };
  signal.addEventListener(
    "abort",
    () => {
      cancelAnimationFrame(frame);
      clearInterval(ticker);
      clearTimeout(liveTimer);
    },
    { once: true },
  );

  function draw(): void {
    frame = 0;
    if (signal.aborted) return;
    const state = store.state;
    const rows = displayRows(store.messages(), state);
    messages.reconcile(rows);
    const said = boundaries(rows);
    if (said !== null) announcer.say(said);
    const isBusy = busy();
    // Regenerate/Continue act on the reply that ends the chat; Edit on the last prompt.
    const last = rows[rows.length - 1];
    const lastAssistant = last?.role === "assistant" ? last.key : "";
    let lastUser = "";
    for (const row of rows) if (row.role === "user") lastUser = row.key;
    const t = performance.now();
    const streaming = streamingReply(state) !== null;
    const wait = liveRenderedAt + LIVE_RENDER_MS - t;
    const hold = streaming && wait > 0;
    if (streaming && !hold) liveRenderedAt = t;
    if (hold && liveTimer === undefined) {
      liveTimer = setTimeout(() => {
        liveTimer = undefined;
        schedule();
      }, wait);
    }
    const placeOf = (row: Row): RowPlace => ({
      lastAssistant: row.key === lastAssistant,
      lastUser: row.key === lastUser,
      busy: isBusy,
      hold,
      versions: row.message === null ? null : versionsOf(model, row.message),
    });
    messages.draw(rows, placeOf, t);
    find.sync(rows);
    show(empty, rows.length === 0);

    // Tick the live status line (elapsed time) while a reply streams.
    if (streaming && ticker === undefined) ticker = setInterval(schedule, TICK_MS);
    if (!streaming && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }

    drawChrome(isBusy);
    notice.draw(store.state.notice);
    drawRefused();
    scroll.contentChanged();
  }

  function drawChrome(isBusy: boolean): void {
    const live = streamingReply(store.state);
    toolbar.draw({
      model: trait("model") ?? "",
      status: trait("status"),
      waiting: live !== null && awaitsApproval(live.parts),
      busy: isBusy,
    });
    const blocking = isBusy && blocksItsCell(store.state);
    input.setBusy(isBusy, blocking);
    blockingNote.update(blocking, host.interrupt);
    // Defaults for these traits are Python's alone (they always arrive with the model): a
    // second default here would drift from it. Missing means nothing special.
    input.setPlaceholder(trait("placeholder") ?? "");
    const compact = options.embedded === true || trait("compact") === true;
    if (root.classList.contains("is-compact") !== compact) messages.relayout(); // other padding
    root.classList.toggle("is-compact", compact);
    show(toolbar.el, !compact);
    show(input.el, !compact);
    const height = trait("height") ?? "";
    if (scroller.style.maxHeight !== height) scroller.style.maxHeight = height;
  }

  // A refused prompt goes back to the input box, with the images it was sent with.
  function drawRefused(): void {
    const state = store.state;
    if (state.refused !== null && state.refused.seq !== refusedSeq) {
      refusedSeq = state.refused.seq;
      input.restore(state.refused.text);
      if (lastSent !== null && lastSent.text === state.refused.text) {
        input.tray.restore(lastSent.images);
      }
      lastSent = null;
    }
  }

  // ---- wiring --------------------------------------------------------------------------
  const unsubscribe = store.subscribe(() => {
    boundaries.saw(store.state.replies);
    schedule();
  });
  signal.addEventListener("abort", unsubscribe, { once: true });
  const traits = ["status", "model", "height", "compact", "placeholder"] as const;
  const onTheme = (): void => theme.refresh();
  for (const key of traits) model.on(`change:${key}`, schedule);
  model.on("change:theme", onTheme);
  signal.addEventListener(
    "abort",
    () => {
      for (const key of traits) model.off(`change:${key}`, schedule);
      model.off("change:theme", onTheme);
    },
    { once: true },
  );

  // First paint synchronously: the view is complete when render() returns.
  draw();
  scroll.jumpToBottom();
  probeWhenAttached();
}
