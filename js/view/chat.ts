// One view of a chat: toolbar, message list, input. Everything it registers is tied to
// `signal`, so aborting it (the view's cleanup) leaves nothing behind.

import { streamingReply } from "../channel.js";
import { ensureKatexFonts } from "../markdown/index.js";
import { awaitsApproval } from "../parts.js";
import type { ApproveMsg, ChatTraits, ClientMessage } from "../protocol.js";
import type { ChatModel, LiveStore } from "../store.js";
import { copyText } from "./clipboard.js";
import { button, h, later, setText, show } from "./dom.js";
import { isDemoModel, modelName, providerOf } from "./format.js";
import { createInput } from "./input.js";
import { DEMO_TOOLTIP, flash, MessageView, type Row, type RowPlace } from "./message.js";
import { displayRows } from "./rows.js";
import { isAwayFromBottom, stickToBottom } from "./scroll.js";
import { applyTheme } from "./theme.js";

/** Messages at the end of the history rendered at once; older ones render near the viewport. */
const EAGER_TAIL = 24;
const TICK_MS = 200;
/** The streaming reply is re-rendered at most this often: each render re-parses its unsettled
 * tail, and 20 a second reads as smooth while costing far less than one per frame. The
 * final text is drawn at once. */
const LIVE_RENDER_MS = 50;
const NOTICE_MS = 8000;

export function mountChat(
  el: HTMLElement,
  model: ChatModel,
  store: LiveStore,
  signal: AbortSignal,
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
  const statusPill = h("span", "nbc-status", { role: "status", "aria-live": "polite" });
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
  const toolbar = h("div", "nbc-toolbar", {}, [
    h("span", "nbc-brand", { "aria-hidden": "true" }, ["◆"]),
    modelLabel,
    demoBadge,
    statusPill,
    h("span", "nbc-spacer"),
    clearButton,
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
  const list = h("div", "nbc-list", { role: "log", "aria-live": "polite", "aria-label": "Chat" }, [
    empty,
  ]);
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

  // ---- input ---------------------------------------------------------------------------
  const busy = (): boolean =>
    trait("status") === "streaming" || streamingReply(store.state) !== null;
  const input = createInput(
    {
      submit: (text) => {
        send({ kind: "submit", text });
        scroll.jumpToBottom();
      },
      stop: () => send({ kind: "stop" }),
      isBusy: busy,
    },
    signal,
  );

  // ---- root ----------------------------------------------------------------------------
  const root = h("div", "nbc-root", { "data-lm-suppress-shortcuts": "true" }, [
    toolbar,
    notice,
    stage,
    input.el,
  ]);
  // Keys pressed inside the chat belong to the chat, never to notebook shortcuts.
  for (const type of ["keydown", "keyup", "keypress"]) {
    root.addEventListener(type, (event) => event.stopPropagation(), { signal });
  }
  el.append(root);
  signal.addEventListener("abort", () => root.remove(), { once: true });
  const theme = applyTheme(root, () => trait("theme"), signal);

  // Code blocks come from the renderer with a .nbc-copy button: one delegated listener.
  root.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
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
  const views = new Map<string, MessageView>();
  const actions = {
    regenerate: () => {
      send({ kind: "regenerate" });
      scroll.jumpToBottom();
    },
    resume: () => {
      send({ kind: "continue" });
      scroll.jumpToBottom();
    },
    edit: (text: string) => {
      send({ kind: "edit", text });
      scroll.jumpToBottom();
    },
    approve: (answer: ApproveMsg) => send(answer),
  };
  // Older messages render as plain text first and as Markdown once near the viewport, so a
  // long history opens fast (and stays searchable meanwhile).
  const lazy =
    typeof IntersectionObserver === "undefined"
      ? null
      : new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (!entry.isIntersecting) continue;
              lazy?.unobserve(entry.target);
              byElement.get(entry.target)?.upgrade();
            }
          },
          { root: scroller, rootMargin: "1200px 0px" },
        );
  const byElement = new WeakMap<Element, MessageView>();
  signal.addEventListener("abort", () => lazy?.disconnect(), { once: true });

  const reconcile = (rows: Row[]): void => {
    const keep = new Set(rows.map((r) => r.key));
    for (const [key, view] of views) {
      if (keep.has(key)) continue;
      lazy?.unobserve(view.el);
      view.destroy();
      views.delete(key);
    }
    let cursor: Element | null = empty.nextElementSibling;
    rows.forEach((row, index) => {
      let view = views.get(row.key);
      if (view === undefined) {
        const deferRender = lazy !== null && row.live === null && index < rows.length - EAGER_TAIL;
        view = new MessageView(row, actions, { deferRender });
        views.set(row.key, view);
        byElement.set(view.el, view);
        if (deferRender) lazy?.observe(view.el);
      }
      if (view.el !== cursor) list.insertBefore(view.el, cursor);
      else cursor = cursor.nextElementSibling;
    });
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
      for (const view of views.values()) view.destroy();
      views.clear();
    },
    { once: true },
  );

  function draw(): void {
    frame = 0;
    if (signal.aborted) return;
    const state = store.state;
    const rows = displayRows(store.messages(), state);
    reconcile(rows);
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
    for (const row of rows) {
      const place: RowPlace = {
        lastAssistant: row.key === lastAssistant,
        lastUser: row.key === lastUser,
        busy: isBusy,
        hold,
      };
      views.get(row.key)?.update(row, place, t);
    }
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
    input.setBusy(isBusy);
    // Defaults for these traits are Python's alone (they always arrive with the model): a
    // second default here would drift from it. Missing means nothing special.
    input.setPlaceholder(trait("placeholder") ?? "");
    const compact = trait("compact") === true;
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
    }
  }

  // ---- wiring --------------------------------------------------------------------------
  const unsubscribe = store.subscribe(schedule);
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
}
