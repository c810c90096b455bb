// One view of a chat: toolbar, message list, input. Everything it registers is tied to
// `signal`, so aborting it (the view's cleanup) leaves nothing behind.

import { blocksItsCell, streamingReply } from "../channel.js";
import { versionsOf } from "../history.js";
import { ensureKatexFonts } from "../markdown/index.js";
import { awaitsApproval } from "../parts.js";
import type { ApproveMsg, ChatTraits, ClientMessage, ImagePart } from "../protocol.js";
import type { ChatModel, LiveStore } from "../store.js";
import { createAnnouncer, replyBoundaries } from "./announce.js";
import { createBlockingNote } from "./blocking.js";
import { copyText } from "./clipboard.js";
import { button, h, later, setText, show } from "./dom.js";
import { createExportMenu } from "./export.js";
import { createFind } from "./find.js";
import { isDemoModel, modelName, providerOf } from "./format.js";
import { createImageSource } from "./fullimage.js";
import { cellFor, insertCell, interruptKernel, NO_HOST, probeHost } from "./host.js";
import { createInput, imageFiles } from "./input.js";
import { createLightbox } from "./lightbox.js";
import { DEMO_TOOLTIP, flash, MessageView, type Row, type RowPlace } from "./message.js";
import { displayRows } from "./rows.js";
import { DEFAULT_MAX_SIDE, type Prepared } from "./scale.js";
import { isAwayFromBottom, stickToBottom } from "./scroll.js";
import { applyTheme } from "./theme.js";
import { VirtualList } from "./virtual.js";

const TICK_MS = 200;
/** The streaming reply is re-rendered at most this often: each render re-parses its unsettled
 * tail, and 20 a second reads as smooth while costing far less than one per frame. The
 * final text is drawn at once. */
const LIVE_RENDER_MS = 50;
const NOTICE_MS = 8000;

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
  const modelLabel = h("span", "nbc-model");
  const demoBadge = h("span", "nbc-badge nbc-badge-demo", { title: DEMO_TOOLTIP, tabindex: "0" }, [
    "demo",
  ]);
  // Not live: the announcer says when a reply starts and ends (announce.ts).
  const statusPill = h("span", "nbc-status");
  // Clearing cannot be undone: the first click arms the button for a few seconds.
  let disarm: AbortController | null = null;
  const labelClear = (armed: boolean): void => {
    setText(clearButton, armed ? "Confirm clear" : "Clear");
    const label = armed ? "Click again to clear the conversation" : "Clear the conversation";
    clearButton.setAttribute("aria-label", label);
    clearButton.title = label;
  };
  const clearButton = button(
    "nbc-btn nbc-btn-quiet",
    "Clear the conversation",
    "Clear",
    () => {
      if (disarm === null) {
        disarm = new AbortController();
        const armed = disarm;
        signal.addEventListener("abort", () => armed.abort(), { once: true, signal: armed.signal });
        labelClear(true);
        later(
          () => {
            disarm = null;
            armed.abort();
            labelClear(false);
          },
          4000,
          armed.signal,
        );
        return;
      }
      disarm.abort();
      disarm = null;
      labelClear(false);
      send({ kind: "clear" });
    },
    signal,
  );
  // The chat's own find (find.ts): the browser's cannot see messages scrolled out of the DOM.
  const find = createFind(
    {
      reveal: (key) => {
        scroll.release();
        if (!virtual.scrollTo(key)) liveViews.get(key)?.el.scrollIntoView({ block: "nearest" });
        schedule();
      },
      elementOf: (key) => (virtual.viewOf(key) ?? liveViews.get(key))?.el,
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
  const toolbar = h("div", "nbc-toolbar", {}, [
    h("span", "nbc-brand", { "aria-hidden": "true" }, ["◆"]),
    modelLabel,
    demoBadge,
    statusPill,
    h("span", "nbc-spacer"),
    clearButton,
    find.toggle,
    exportMenu.el,
  ]);

  // ---- notice --------------------------------------------------------------------------
  const noticeText = h("span", "nbc-notice-text");
  const noticeHint = h("span", "nbc-notice-hint");
  const notice = h("div", "nbc-notice", { role: "status", "aria-live": "polite" }, [
    noticeText,
    noticeHint,
    button("nbc-notice-close", "Dismiss", "×", () => show(notice, false), signal),
  ]);
  show(notice, false);
  let noticeSeq = store.state.notice?.seq ?? 0;
  let refusedSeq = store.state.refused?.seq ?? 0;
  let noticeTimer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener("abort", () => clearTimeout(noticeTimer), { once: true });

  // ---- list ----------------------------------------------------------------------------
  const empty = h("div", "nbc-empty", {}, ["No messages yet — ask something below."]);
  // The reply in flight and a prompt not yet committed: in normal flow below the settled
  // messages (virtualized), so their growth never shifts what is above.
  const liveRegion = h("div", "nbc-live");
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
  // The last message sent with images: a refusal gives its text back, and its images too.
  let lastSent: { text: string; images: Prepared[] } | null = null;
  const submitWithImages = async (text: string, images: Prepared[]): Promise<void> => {
    const buffers = await Promise.all(images.map((image) => image.blob.arrayBuffer()));
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
        if (images.length === 0) send({ kind: "submit", text });
        else void submitWithImages(text, images);
        scroll.jumpToBottom();
      },
      stop: () => send({ kind: "stop" }),
      isBusy: busy,
      images: { maxSide: () => trait("max_image_side") ?? DEFAULT_MAX_SIDE },
    },
    signal,
  );

  // ---- a reply that holds its cell: how to stop it (there is no Stop) -------------------
  const blockingNote = createBlockingNote(() => interruptKernel(el), signal);

  // ---- root ----------------------------------------------------------------------------
  const root = h("div", "nbc-root", { "data-lm-suppress-shortcuts": "true" }, [
    toolbar,
    notice,
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
      send({ kind: "edit", text, id });
      scroll.jumpToBottom();
    },
    approve: (answer: ApproveMsg) => send(answer),
    // The kernel refuses a switch while a reply streams, with a notice saying why.
    switchTo: (id: string) => send({ kind: "switch", id }),
    openImage: (image: ImagePart, label: string, opener: HTMLElement) =>
      lightbox.open(() => fullImages.get(image.id), label, opener),
  };
  // Where each row sits (which actions it offers) and the time, for this frame's updates.
  let placeOf: (row: Row) => RowPlace = () => ({
    lastAssistant: false,
    lastUser: false,
    busy: false,
    hold: false,
    versions: null,
  });
  let frameTime = 0;
  const virtual = new VirtualList(
    scroller,
    {
      create: (row) => new MessageView(row, actions),
      update: (view, row) => view.update(row, placeOf(row), frameTime),
      changed: () => schedule(),
    },
    signal,
  );
  list.append(virtual.el, liveRegion);
  const liveViews = new Map<string, MessageView>();
  // The list's padding and gap, which the virtualizer lays messages out with.
  let layout: { margin: number; gap: number } | null = null;
  const readLayout = (): { margin: number; gap: number } => {
    const style = getComputedStyle(list);
    return { margin: parseFloat(style.paddingTop) || 0, gap: parseFloat(style.rowGap) || 0 };
  };

  const reconcile = (rows: Row[]): void => {
    // Settled: everything before the first live or pending row.
    let split = rows.findIndex((r) => r.live !== null || r.pending);
    if (split < 0) split = rows.length;
    const settled = rows.slice(0, split);
    const live = rows.slice(split);
    layout ??= readLayout();
    virtual.setRows(settled, layout);
    const keep = new Set(live.map((r) => r.key));
    for (const [key, view] of liveViews) {
      if (keep.has(key)) continue;
      liveViews.delete(key);
      // A reply just committed keeps its view (and height) in the settled list.
      if (virtual.viewOf(key) === undefined && settled.some((r) => r.key === key)) {
        virtual.adopt(view);
      } else view.destroy();
    }
    let cursor: Element | null = liveRegion.firstElementChild;
    for (const row of live) {
      let view = liveViews.get(row.key);
      if (view === undefined) {
        view = new MessageView(row, actions);
        view.el.dataset.key = row.key;
        liveViews.set(row.key, view);
      }
      if (view.el !== cursor) liveRegion.insertBefore(view.el, cursor);
      else cursor = cursor.nextElementSibling;
    }
    show(liveRegion, live.length > 0);
    show(virtual.el, settled.length > 0); // no empty flex item (and gap) above the live ones
  };

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
      for (const view of liveViews.values()) view.destroy();
      liveViews.clear();
    },
    { once: true },
  );

  function draw(): void {
    frame = 0;
    if (signal.aborted) return;
    const state = store.state;
    const rows = displayRows(store.messages(), state);
    reconcile(rows);
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
    placeOf = (row) => ({
      lastAssistant: row.key === lastAssistant,
      lastUser: row.key === lastUser,
      busy: isBusy,
      hold,
      versions: row.message === null ? null : versionsOf(model, row.message),
    });
    frameTime = t;
    for (const row of rows) liveViews.get(row.key)?.update(row, placeOf(row), t);
    virtual.draw();
    find.sync(rows);
    show(empty, rows.length === 0);

    // Tick the live status line (elapsed time) while a reply streams.
    if (streaming && ticker === undefined) ticker = setInterval(schedule, TICK_MS);
    if (!streaming && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }

    drawChrome(isBusy);
    drawNotice();
    scroll.contentChanged();
  }

  function drawChrome(isBusy: boolean): void {
    const modelId = trait("model") ?? "";
    setText(modelLabel, modelName(modelId) || "no model");
    const modelTitle = modelId === "" ? "" : `${providerOf(modelId)} · ${modelName(modelId)}`;
    if (modelLabel.title !== modelTitle) modelLabel.title = modelTitle;
    show(demoBadge, isDemoModel(modelId));
    const status = trait("status");
    const live = streamingReply(store.state);
    const waiting = live !== null && awaitsApproval(live.parts);
    setText(
      statusPill,
      waiting
        ? "waiting for approval"
        : status === "streaming"
          ? "streaming"
          : status === "error"
            ? "error"
            : "",
    );
    if (statusPill.dataset.status !== status) statusPill.dataset.status = status;
    show(statusPill, status === "streaming" || status === "error");
    if (clearButton.disabled !== isBusy) clearButton.disabled = isBusy;
    const blocking = isBusy && blocksItsCell(store.state);
    input.setBusy(isBusy, blocking);
    blockingNote.update(blocking, host.interrupt);
    // Defaults for these traits are Python's alone (they always arrive with the model): a
    // second default here would drift from it. Missing means nothing special.
    input.setPlaceholder(trait("placeholder") ?? "");
    const compact = options.embedded === true || trait("compact") === true;
    if (root.classList.contains("is-compact") !== compact) layout = null; // other padding
    root.classList.toggle("is-compact", compact);
    show(toolbar, !compact);
    show(input.el, !compact);
    const height = trait("height") ?? "";
    if (scroller.style.maxHeight !== height) scroller.style.maxHeight = height;
  }

  function drawNotice(): void {
    const state = store.state;
    if (state.notice !== null && state.notice.seq !== noticeSeq) {
      noticeSeq = state.notice.seq;
      setText(noticeText, state.notice.text);
      setText(noticeHint, state.notice.hint);
      show(noticeHint, state.notice.hint !== "");
      show(notice, true);
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => show(notice, false), NOTICE_MS);
    }
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
