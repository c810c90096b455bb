// One message: role, body (Markdown via the renderer for replies, plain text for prompts),
// reasoning in a <details>, typing indicator, error + hint, status line and actions.
// A reply that called tools draws its body as text segments and tool cards (segments.ts).

import type { LiveReply } from "../channel.js";
import { createPacedRenderer, type StreamingRenderer } from "../markdown/index.js";
import { awaitsApproval, cardsOf, NO_CARDS, type ToolCard } from "../parts.js";
import { type ImagePart, imagesOf, type Message, type Role } from "../protocol.js";
import { copyText } from "./clipboard.js";
import { button, h, later, setText, show } from "./dom.js";
import { formatStats, isDemoModel, type ReplyStats } from "./format.js";
import { SegmentedBody } from "./segments.js";
import { drawThumbnails, type OpenImage } from "./thumbnails.js";
import type { CardActions } from "./tools.js";
import {
  createVersionSwitcher,
  sameVersions,
  type VersionSwitcher,
  type Versions,
} from "./versions.js";

export const DEMO_TOOLTIP = "offline demo provider — no model server configured";

/** What one row of the list shows: a committed message, a live reply, or both (same id). */
export interface Row {
  key: string;
  role: Role;
  message: Message | null;
  live: LiveReply | null;
  /** Shown ahead of the history: a prompt we sent or an edit, not committed yet. */
  pending: boolean;
  /** …and the kernel has not started a reply for it yet. */
  unconfirmed: boolean;
  /** Text to show instead of the committed content (a pending edit). */
  text: string;
}

/** Where the row sits, which decides the actions it offers. */
export interface RowPlace {
  lastAssistant: boolean;
  lastUser: boolean;
  busy: boolean;
  /** Keep the streaming text as drawn this frame (the live render rate is capped). */
  hold: boolean;
  /** The versions of this message (it and its siblings, in order), when there are several. */
  versions: Versions | null;
}

export interface MessageActions extends CardActions {
  /** Answer the question before reply `id` again; the reply stays as a sibling. */
  regenerate(id: string): void;
  resume(): void;
  /** Ask question `id` again with `text`; the question stays as a sibling. */
  edit(text: string, id: string): void;
  /** Show the branch through message `id` (another version of one on screen). */
  switchTo(id: string): void;
  /** Show a message's image larger (view/lightbox.ts). */
  openImage: OpenImage;
}

export class MessageView {
  readonly el: HTMLElement;
  private readonly controller = new AbortController();
  private readonly head: HTMLElement;
  private readonly demoBadge: HTMLElement;
  private readonly reasoning: HTMLDetailsElement;
  private readonly reasoningSummary: HTMLElement;
  private readonly reasoningBody: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly body: HTMLElement;
  private readonly images: HTMLElement;
  private shownImages: unknown = undefined; // the parts list the thumbnails were drawn from
  private readonly error: HTMLElement;
  private readonly errorText: HTMLElement;
  private readonly errorHint: HTMLElement;
  private readonly foot: HTMLElement;
  private readonly stats: HTMLElement;
  private readonly tags: HTMLElement;
  private readonly copyButton: HTMLButtonElement;
  private readonly regenerateButton: HTMLButtonElement;
  private readonly resumeButton: HTMLButtonElement;
  private readonly editButton: HTMLButtonElement;
  private readonly versions: VersionSwitcher;
  private renderer: StreamingRenderer | null = null;
  private segmented: SegmentedBody | null = null; // once the reply has tool cards
  private shownCards: readonly ToolCard[] = NO_CARDS;
  private reasoningRenderer: StreamingRenderer | null = null;
  private shown = { text: "", final: false, reasoning: "", reasoningFinal: false };
  private plain = false; // body holds plain text until `upgrade()` renders it
  private reasoningAuto: "none" | "opened" | "closed" = "none";
  private editor: HTMLElement | null = null;
  private row: Row;
  private lastPlace: RowPlace | null = null;
  private lastKey = "";

  constructor(
    row: Row,
    private readonly actions: MessageActions,
    options: { deferRender?: boolean } = {},
  ) {
    this.row = row;
    const signal = this.controller.signal;
    const assistant = row.role === "assistant";
    this.demoBadge = h("span", "nbc-badge nbc-badge-demo", { title: DEMO_TOOLTIP }, ["demo"]);
    this.versions = createVersionSwitcher(row.role, (id) => this.actions.switchTo(id), signal);
    this.head = h("div", "nbc-msg-head", {}, [
      h("span", "nbc-role", {}, [roleLabel(row.role)]),
      this.demoBadge,
    ]);

    this.reasoningSummary = h("summary", "nbc-reasoning-summary", {}, ["Reasoning"]);
    this.reasoningBody = h("div", "nbc-reasoning-body nbc-md");
    this.reasoning = h("details", "nbc-reasoning", {}, [this.reasoningSummary, this.reasoningBody]);
    // Decoration: the announcer says "Generating reply…" (announce.ts).
    this.typing = h("div", "nbc-typing", { "aria-hidden": "true" }, [
      h("span"),
      h("span"),
      h("span"),
    ]);
    this.body = h("div", assistant ? "nbc-body nbc-md" : "nbc-body nbc-plain");
    this.images = h("div", "nbc-msg-images", { role: "group", "aria-label": "Images" });
    this.images.hidden = true;
    this.errorText = h("span", "nbc-error-text");
    this.errorHint = h("span", "nbc-error-hint");
    // Not an alert: the announcer reads the failure out once (announce.ts).
    this.error = h("div", "nbc-error", {}, [this.errorText, this.errorHint]);
    this.stats = h("span", "nbc-stats");
    this.tags = h("span", "nbc-tags");
    this.copyButton = button(
      "nbc-act nbc-act-copy",
      "Copy message",
      "Copy",
      () => {
        void this.copy();
      },
      signal,
    );
    this.regenerateButton = button(
      "nbc-act",
      "Regenerate this reply",
      "Regenerate",
      () => this.actions.regenerate(this.row.key),
      signal,
    );
    this.resumeButton = button(
      "nbc-act",
      "Continue this reply",
      "Continue",
      () => this.actions.resume(),
      signal,
    );
    this.editButton = button("nbc-act", "Edit and resend", "Edit", () => this.openEditor(), signal);
    this.foot = h("div", "nbc-msg-foot", {}, [
      this.stats,
      this.tags,
      h("span", "nbc-actions", {}, [
        this.copyButton,
        this.editButton,
        this.regenerateButton,
        this.resumeButton,
      ]),
    ]);
    // A question's head is for screen readers only: its switcher goes in its foot.
    if (assistant) this.head.append(this.versions.el);
    else this.foot.prepend(this.versions.el);
    this.el = h("article", `nbc-msg nbc-msg-${row.role}`, { "aria-label": ariaLabel(row.role) }, [
      this.head,
      this.reasoning,
      this.typing,
      this.images,
      this.body,
      this.error,
      this.foot,
    ]);
    this.plain = assistant && options.deferRender === true;
  }

  /** Redraw from `row`; cheap when nothing changed. `now` drives the live status line. */
  update(row: Row, place: RowPlace, now: number): void {
    // A settled message with the same inputs has nothing to redraw (the common case for a
    // long history while another reply streams).
    const prev = this.row;
    const last = this.lastPlace;
    if (
      last !== null &&
      row.live === null &&
      prev.live === null &&
      row.message === prev.message &&
      row.text === prev.text &&
      row.pending === prev.pending &&
      row.unconfirmed === prev.unconfirmed &&
      place.busy === last.busy &&
      place.lastAssistant === last.lastAssistant &&
      place.lastUser === last.lastUser &&
      sameVersions(place.versions, last.versions)
    ) {
      return;
    }
    this.lastPlace = place;
    this.row = row;
    const live = row.live;
    const msg = row.message;
    const streaming = live !== null && live.phase === "streaming";
    const text = live !== null ? live.text : row.text;
    const reasoning = live !== null ? live.reasoning : (msg?.reasoning ?? "");
    const model = live?.model || msg?.meta?.model || "";

    this.el.classList.toggle("is-streaming", streaming);
    // The last exchange keeps its actions visible (set here: a positional selector would
    // restyle the whole list whenever a message is appended).
    this.el.classList.toggle("is-last", place.lastAssistant || place.lastUser);
    this.el.classList.toggle("is-pending", row.pending);
    // Finished messages may skip layout while off screen; the live one never does, so it
    // cannot shift the scroll position while it grows.
    this.el.classList.toggle("is-settled", live === null && !row.pending);
    if (streaming !== this.el.hasAttribute("aria-busy")) {
      if (streaming) this.el.setAttribute("aria-busy", "true");
      else this.el.removeAttribute("aria-busy");
    }
    show(this.demoBadge, row.role === "assistant" && isDemoModel(model));

    const hold = streaming && place.hold;
    if (!hold) this.drawReasoning(reasoning, streaming, text);
    show(this.typing, streaming && text === "" && reasoning === "");
    const cards = live !== null ? live.parts : cardsOf(msg);
    if (this.editor === null && !hold) this.drawBody(text, !streaming, cards);
    this.drawImages(msg);

    const meta = msg?.meta;
    const committedError = meta?.error ? { message: meta.error, hint: meta.hint ?? "" } : null;
    const error = live?.error ?? committedError;
    show(this.error, error !== null);
    if (error !== null) {
      setText(this.errorText, error.message);
      setText(this.errorHint, error.hint);
      show(this.errorHint, error.hint !== "");
    }

    this.drawFoot(row, place, now, text, cards);
  }

  /** Render a deferred body now (it came near the viewport). */
  upgrade(): void {
    if (!this.plain) return;
    this.plain = false;
    this.el.classList.remove("is-plain");
    this.body.textContent = "";
    const { text, final } = this.shown;
    this.shown.text = "";
    this.drawBody(text, final);
  }

  destroy(): void {
    this.controller.abort();
    this.renderer?.destroy();
    this.segmented?.destroy();
    this.reasoningRenderer?.destroy();
    this.renderer = null;
    this.reasoningRenderer = null;
    this.el.remove();
  }

  private drawBody(text: string, final: boolean, cards: readonly ToolCard[] = NO_CARDS): void {
    if (text === this.shown.text && final === this.shown.final && cards === this.shownCards) {
      return;
    }
    this.shown.text = text;
    this.shown.final = final;
    this.shownCards = cards;
    if (this.row.role === "assistant" && (cards.length > 0 || this.segmented !== null)) {
      if (this.segmented === null) {
        this.renderer?.destroy();
        this.renderer = null;
        this.plain = false;
        this.el.classList.remove("is-plain");
        this.segmented = new SegmentedBody(this.body, this.actions, this.controller.signal);
      }
      this.segmented.update(text, cards, final);
      return;
    }
    if (this.row.role !== "assistant") {
      setText(this.body, text);
      return;
    }
    if (this.plain) {
      this.el.classList.add("is-plain");
      setText(this.body, text);
      return;
    }
    this.renderer ??= createPacedRenderer(this.body);
    this.renderer.update(text, final);
  }

  private drawImages(msg: Message | null): void {
    const parts = msg?.parts;
    if (parts === this.shownImages) return;
    this.shownImages = parts;
    const images: ImagePart[] = imagesOf(msg);
    drawThumbnails(this.images, images, this.actions.openImage, this.controller.signal);
  }

  private drawReasoning(reasoning: string, streaming: boolean, text: string): void {
    show(this.reasoning, reasoning !== "");
    if (reasoning === "") return;
    const thinking = streaming && text === "";
    setText(this.reasoningSummary, thinking ? "Thinking…" : "Reasoning");
    // Open while only reasoning streams; close once the answer starts. Each happens once,
    // so a reader who reopens it keeps it open.
    if (thinking && this.reasoningAuto === "none") {
      this.reasoning.open = true;
      this.reasoningAuto = "opened";
    } else if (text !== "" && this.reasoningAuto === "opened") {
      this.reasoning.open = false;
      this.reasoningAuto = "closed";
    }
    const final = !streaming || text !== "";
    if (reasoning === this.shown.reasoning && final === this.shown.reasoningFinal) return;
    this.shown.reasoning = reasoning;
    this.shown.reasoningFinal = final;
    this.reasoningRenderer ??= createPacedRenderer(this.reasoningBody);
    this.reasoningRenderer.update(reasoning, final);
  }

  private drawFoot(
    row: Row,
    place: RowPlace,
    now: number,
    text: string,
    cards: readonly ToolCard[],
  ): void {
    const live = row.live;
    const meta = row.message?.meta;
    const assistant = row.role === "assistant";
    const streaming = live !== null && live.phase === "streaming";

    let stats = "";
    if (assistant && live !== null) {
      stats = formatStats(liveStats(live, now));
      if (streaming && awaitsApproval(cards)) stats = `waiting for your approval · ${stats}`;
    } else if (assistant && meta !== undefined) {
      stats = formatStats({
        model: meta.model ?? "",
        tokens: meta.tokens ?? null,
        tokensPerSecond: meta.tokens_per_s ?? null,
        elapsedSeconds: meta.elapsed_s ?? null,
      });
    }
    setText(this.stats, stats);
    const title = meta?.model ?? live?.model ?? "";
    if (this.stats.title !== title) this.stats.title = title;

    const tags: [string, string][] = [];
    if (row.unconfirmed) tags.push(["pending", "sending…"]);
    if (live === null && meta?.stopped) tags.push(["stopped", "stopped"]);
    if (live === null && meta?.finish_reason === "length") {
      tags.push(["length", "cut off at the length limit"]);
    }
    const tagKey = tags.map(([name]) => name).join(" ");
    if (tagKey !== this.lastKey) {
      this.lastKey = tagKey;
      this.tags.replaceChildren(
        ...tags.map(([name, label]) => h("span", `nbc-tag nbc-tag-${name}`, {}, [label])),
      );
    }

    const idle = !place.busy && live === null && !row.pending;
    show(this.copyButton, text !== "" && !streaming);
    // Any committed reply can be answered again and any question edited: the earlier
    // version stays, as a sibling (‹ 1/2 ›). Continue extends the reply that ends the chat.
    const committed = idle && row.message !== null;
    show(this.regenerateButton, assistant && committed);
    show(this.resumeButton, assistant && place.lastAssistant && idle && canResume(row.message));
    show(this.editButton, row.role === "user" && committed && this.editor === null);
    this.versions.draw(place.versions, idle);
    const switcher = !this.versions.el.hidden;
    show(this.foot, stats !== "" || tags.length > 0 || !this.copyButton.hidden || switcher);
  }

  private async copy(): Promise<void> {
    const text = this.row.live?.text ?? this.row.text;
    const ok = await copyText(text, this.el.ownerDocument);
    flash(this.copyButton, ok ? "Copied" : "Copy failed", this.controller.signal);
  }

  private openEditor(): void {
    if (this.editor !== null) return;
    const signal = this.controller.signal;
    const area = h("textarea", "nbc-edit-input", { "aria-label": "Edit message", rows: "3" });
    area.value = this.row.text;
    const close = (): void => {
      this.editor?.remove();
      this.editor = null;
      show(this.body, true);
      this.editButton.hidden = false;
      this.editButton.focus();
    };
    const save = (): void => {
      const text = area.value;
      if (text.trim() === "") return;
      close();
      this.actions.edit(text, this.row.key);
    };
    area.addEventListener(
      "keydown",
      (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          save();
        } else if (event.key === "Escape") {
          event.preventDefault();
          close();
        }
      },
      { signal },
    );
    this.editor = h("div", "nbc-edit", {}, [
      area,
      h("div", "nbc-edit-actions", {}, [
        button("nbc-btn nbc-btn-primary", "Save and resend", "Save & resend", save, signal),
        button("nbc-btn", "Cancel editing", "Cancel", close, signal),
      ]),
    ]);
    show(this.body, false);
    this.editButton.hidden = true;
    this.body.after(this.editor);
    area.focus();
  }
}

/** Continue makes sense after a stop, a length cut-off, or an error that left partial text. */
export function canResume(message: Message | null): boolean {
  const meta = message?.meta;
  if (message === null || message.role !== "assistant" || meta === undefined) return false;
  if (meta.stopped === true || meta.finish_reason === "length") return true;
  return meta.error !== undefined && meta.error !== "" && message.content !== "";
}

function liveStats(live: LiveReply, now: number): ReplyStats {
  const end = live.finishedAt ?? now;
  const elapsed = (end - live.startedAt) / 1000;
  const since = live.firstTokenAt === null ? 0 : (end - live.firstTokenAt) / 1000;
  return {
    model: live.model,
    tokens: live.tokens,
    // Too early a rate is noise (one token over a few ms).
    tokensPerSecond: since >= 0.25 && live.tokens > 1 ? live.tokens / since : null,
    elapsedSeconds: elapsed,
  };
}

function roleLabel(role: Role): string {
  return role === "user" ? "You" : role === "assistant" ? "Assistant" : "System";
}

function ariaLabel(role: Role): string {
  return role === "user" ? "Your message" : role === "assistant" ? "Reply" : "System message";
}

/** Show `text` on a button for a moment, then its own label again. */
export function flash(el: HTMLButtonElement, text: string, signal: AbortSignal): void {
  const original = el.dataset.label ?? el.textContent ?? "";
  el.dataset.label = original;
  el.textContent = text;
  later(
    () => {
      el.textContent = original;
    },
    1500,
    signal,
  );
}
