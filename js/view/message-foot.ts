// A message's foot: its status line (model · tokens · tokens/s · time), its tags (sending…,
// stopped, cut off), the version switcher, and the actions on it — Copy, Edit (with the
// editor it opens in place of the body), Regenerate and Continue. Apart from the bubble
// (message.ts) because which actions a message offers is decided by where it sits in the chat
// (RowPlace), not by what it holds.

import { awaitsApproval, type ToolCard } from "../parts.js";
import type { Message, Role } from "../protocol.js";
import { copyText } from "./clipboard.js";
import { button, flash, h, setText, show } from "./dom.js";
import { formatStats, liveStats } from "./format.js";
import type { Row, RowPlace } from "./message.js";
import { createVersionSwitcher, type VersionSwitcher } from "./versions.js";

/** What the foot's actions ask of the chat. */
export interface FootActions {
  /** Answer the question before reply `id` again; the reply stays as a sibling. */
  regenerate(id: string): void;
  resume(): void;
  /** Ask question `id` again with `text`; the question stays as a sibling. */
  edit(text: string, id: string): void;
  /** Show the branch through message `id` (another version of one on screen). */
  switchTo(id: string): void;
}

export class MessageFoot {
  readonly el: HTMLElement;
  /** Placed by the bubble: a reply's in its head, a question's at the start of this foot. */
  readonly versions: VersionSwitcher;
  private readonly stats: HTMLElement;
  private readonly tags: HTMLElement;
  private readonly copyButton: HTMLButtonElement;
  private readonly regenerateButton: HTMLButtonElement;
  private readonly resumeButton: HTMLButtonElement;
  private readonly editButton: HTMLButtonElement;
  private editor: HTMLElement | null = null;
  private lastKey = "";

  /** `row` gives the row the message shows now; `body` is what the editor takes the place of. */
  constructor(
    role: Role,
    private readonly row: () => Row,
    private readonly body: HTMLElement,
    private readonly actions: FootActions,
    private readonly signal: AbortSignal,
  ) {
    this.versions = createVersionSwitcher(role, (id) => this.actions.switchTo(id), signal);
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
      () => this.actions.regenerate(this.row().key),
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
    this.el = h("div", "nbc-msg-foot", {}, [
      this.stats,
      this.tags,
      h("span", "nbc-actions", {}, [
        this.copyButton,
        this.editButton,
        this.regenerateButton,
        this.resumeButton,
      ]),
    ]);
  }

  /** The editor is open: the body is hidden and must not be redrawn under it. */
  get editing(): boolean {
    return this.editor !== null;
  }

  draw(row: Row, place: RowPlace, now: number, text: string, cards: readonly ToolCard[]): void {
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
    show(this.el, stats !== "" || tags.length > 0 || !this.copyButton.hidden || switcher);
  }

  private async copy(): Promise<void> {
    const row = this.row();
    const text = row.live?.text ?? row.text;
    const ok = await copyText(text, this.el.ownerDocument);
    flash(this.copyButton, ok ? "Copied" : "Copy failed", this.signal);
  }

  private openEditor(): void {
    if (this.editor !== null) return;
    const signal = this.signal;
    const area = h("textarea", "nbc-edit-input", { "aria-label": "Edit message", rows: "3" });
    area.value = this.row().text;
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
      this.actions.edit(text, this.row().key);
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
