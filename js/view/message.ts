// One message: role, body (Markdown via the renderer for replies, plain text for prompts),
// reasoning in a <details>, typing indicator, error + hint; its foot — status line and
// actions — is message-foot.ts. A reply that called tools draws its body as text segments and
// tool cards (segments.ts).

import type { LiveReply } from "../channel.js";
import { imagesOf } from "../guards.js";
import { createPacedRenderer, type StreamingRenderer } from "../markdown/index.js";
import { cardsOf, NO_CARDS, type ToolCard } from "../parts.js";
import type { ImagePart, Message, Role } from "../protocol.js";
import { h, setText, show } from "./dom.js";
import { isDemoModel } from "./format.js";
import { type FootActions, MessageFoot } from "./message-foot.js";
import { SegmentedBody } from "./segments.js";
import { drawThumbnails, type OpenImage } from "./thumbnails.js";
import type { CardActions } from "./tools.js";
import { sameVersions, type Versions } from "./versions.js";

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

export interface MessageActions extends CardActions, FootActions {
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
  private readonly foot: MessageFoot;
  private renderer: StreamingRenderer | null = null;
  private segmented: SegmentedBody | null = null; // once the reply has tool cards
  private shownCards: readonly ToolCard[] = NO_CARDS;
  private reasoningRenderer: StreamingRenderer | null = null;
  private shown = { text: "", final: false, reasoning: "", reasoningFinal: false };
  private reasoningAuto: "none" | "opened" | "closed" = "none";
  private row: Row;
  private lastPlace: RowPlace | null = null;

  constructor(
    row: Row,
    private readonly actions: MessageActions,
  ) {
    this.row = row;
    const signal = this.controller.signal;
    const assistant = row.role === "assistant";
    this.demoBadge = h("span", "nbc-badge nbc-badge-demo", { title: DEMO_TOOLTIP }, ["demo"]);
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
    this.foot = new MessageFoot(row.role, () => this.row, this.body, this.actions, signal);
    // A question's head is for screen readers only: its switcher goes in its foot.
    if (assistant) this.head.append(this.foot.versions.el);
    else this.foot.el.prepend(this.foot.versions.el);
    this.el = h("article", `nbc-msg nbc-msg-${row.role}`, { "aria-label": ariaLabel(row.role) }, [
      this.head,
      this.reasoning,
      this.typing,
      this.images,
      this.body,
      this.error,
      this.foot.el,
    ]);
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
    if (!this.foot.editing && !hold) this.drawBody(text, !streaming, cards);
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

    this.foot.draw(row, place, now, text, cards);
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
        this.segmented = new SegmentedBody(this.body, this.actions, this.controller.signal);
      }
      this.segmented.update(text, cards, final);
      return;
    }
    if (this.row.role !== "assistant") {
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
}

export function roleLabel(role: Role): string {
  return role === "user" ? "You" : role === "assistant" ? "Assistant" : "System";
}

function ariaLabel(role: Role): string {
  return role === "user" ? "Your message" : role === "assistant" ? "Reply" : "System message";
}
