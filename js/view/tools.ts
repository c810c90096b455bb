// A tool call's card inside a reply: the tool's name, its arguments (pretty JSON), a status
// (waiting for you / running / done in 0.3 s / declined / failed), and its result, collapsed,
// in a box of bounded height. A waiting card has Allow, Deny (with an optional reason) and
// "Always allow <name>". Everything the model or the tool wrote is shown as text
// (textContent), never as Markdown or HTML: a hostile argument renders, runs and fetches
// nothing.

import type { ToolCard } from "../parts.js";
import type { ApproveMsg, ToolStatus } from "../protocol.js";
import { button, h, setText, show } from "./dom.js";

export interface CardActions {
  approve(answer: ApproveMsg): void;
}

const STATUS_TEXT: Record<ToolStatus, string> = {
  waiting: "waiting for you",
  running: "running…",
  done: "done",
  failed: "failed",
  declined: "declined",
  stopped: "stopped",
  invalid: "invalid call",
  skipped: "not run (step limit)",
};

/** Only a kernel-drawn PNG may become an image; anything else stays out. */
const FIGURE = /^data:image\/png;base64,[A-Za-z0-9+/=]+$/;

export function statusText(card: ToolCard): string {
  const base = STATUS_TEXT[card.status] ?? card.status;
  const elapsed = card.result?.elapsed_s;
  if ((card.status === "done" || card.status === "failed") && typeof elapsed === "number") {
    return `${base} in ${elapsed < 10 ? elapsed.toFixed(1) : Math.round(elapsed)} s`;
  }
  return base;
}

/** The arguments as indented JSON when they parse, else exactly as written. */
export function prettyArguments(text: string): string {
  if (text.trim() === "") return "{}";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export class ToolCardView {
  readonly el: HTMLElement;
  private readonly name: HTMLElement;
  private readonly status: HTMLElement;
  private readonly args: HTMLElement;
  private readonly ask: HTMLElement;
  private readonly allowButton: HTMLButtonElement;
  private readonly alwaysButton: HTMLButtonElement;
  private readonly denyButton: HTMLButtonElement;
  private readonly reason: HTMLInputElement;
  private readonly result: HTMLDetailsElement;
  private readonly resultSummary: HTMLElement;
  private readonly resultBody: HTMLElement;
  private card: ToolCard | null = null;
  private answered = false; // sent an answer; the kernel's next part settles it

  constructor(
    card: ToolCard,
    private readonly actions: CardActions,
    signal: AbortSignal,
  ) {
    this.name = h("code", "nbc-tool-name");
    this.status = h("span", "nbc-tool-status");
    this.args = h("pre", "nbc-tool-args");
    this.allowButton = button(
      "nbc-btn nbc-btn-primary",
      "",
      "Allow",
      () => this.send(true),
      signal,
    );
    this.alwaysButton = button("nbc-btn", "", "", () => this.send(true, true), signal);
    this.reason = h("input", "nbc-tool-reason", {
      type: "text",
      placeholder: "Reason (optional)",
      maxlength: "500",
    });
    this.denyButton = button("nbc-btn", "", "Deny", () => this.send(false), signal);
    this.reason.addEventListener(
      "keydown",
      (event) => {
        if (event.key === "Enter" && !event.isComposing) {
          event.preventDefault();
          this.send(false);
        }
      },
      { signal },
    );
    this.ask = h("div", "nbc-tool-ask", {}, [
      this.allowButton,
      this.alwaysButton,
      this.reason,
      this.denyButton,
    ]);
    this.resultSummary = h("summary", "nbc-tool-summary");
    this.resultBody = h("div", "nbc-tool-result-body");
    this.result = h("details", "nbc-tool-result", {}, [this.resultSummary, this.resultBody]);
    this.el = h("section", "nbc-tool", { role: "group" }, [
      h("div", "nbc-tool-head", {}, [
        h("span", "nbc-tool-icon", { "aria-hidden": "true" }, ["🔧"]),
        this.name,
        this.status,
      ]),
      this.args,
      this.ask,
      this.result,
    ]);
    this.update(card);
  }

  update(card: ToolCard): void {
    const prior = this.card;
    if (prior === card) return;
    this.card = card;
    if (prior === null || prior.name !== card.name) {
      setText(this.name, card.name);
      const name = card.name;
      for (const [el, label] of [
        [this.allowButton, `Allow ${name}`],
        [this.denyButton, `Deny ${name}`],
        [this.alwaysButton, `Always allow ${name} in this chat`],
      ] as const) {
        el.setAttribute("aria-label", label);
        el.title = label;
      }
      setText(this.alwaysButton, `Always allow ${name}`);
      this.reason.setAttribute("aria-label", `Why not run ${name} (optional)`);
    }
    if (prior === null || prior.arguments !== card.arguments) {
      setText(this.args, prettyArguments(card.arguments));
    }
    const status = statusText(card);
    setText(this.status, status);
    this.el.dataset.status = card.status;
    this.el.setAttribute("aria-label", `Tool call ${card.name}: ${status}`);
    const waiting = card.status === "waiting";
    if (!waiting) this.answered = false;
    show(this.ask, waiting);
    show(this.alwaysButton, waiting && !card.alwaysAsk);
    for (const el of [this.allowButton, this.alwaysButton, this.denyButton, this.reason]) {
      el.disabled = this.answered;
    }
    if (prior?.result !== card.result) this.drawResult(card);
  }

  private send(allow: boolean, always = false): void {
    const card = this.card;
    if (card === null || card.status !== "waiting" || this.answered) return;
    const answer: ApproveMsg = { kind: "approve", call_id: card.id, allow };
    if (always) answer.always = true;
    const reason = this.reason.value.trim();
    if (!allow && reason !== "") answer.reason = reason;
    this.answered = true;
    for (const el of [this.allowButton, this.alwaysButton, this.denyButton, this.reason]) {
      el.disabled = true;
    }
    setText(this.status, allow ? "allowed — starting…" : "declining…");
    this.actions.approve(answer);
  }

  private drawResult(card: ToolCard): void {
    const result = card.result;
    show(this.result, result !== null);
    if (result === null) return;
    const size = `${result.content.length.toLocaleString("en")} characters`;
    const label = result.truncated === true ? `Result (${size}, truncated)` : `Result (${size})`;
    setText(this.resultSummary, label);
    const blocks: HTMLElement[] = [h("pre", "nbc-tool-text", {}, [result.content])];
    if (result.output) {
      blocks.push(h("div", "nbc-tool-label", {}, ["Printed"]));
      blocks.push(h("pre", "nbc-tool-text", {}, [result.output]));
    }
    for (const figure of result.figures ?? []) {
      if (FIGURE.test(figure)) {
        blocks.push(
          h("img", "nbc-tool-figure", { src: figure, alt: `Figure drawn by ${card.name}` }),
        );
      }
    }
    if (result.detail) {
      blocks.push(h("div", "nbc-tool-label", {}, ["Traceback"]));
      blocks.push(h("pre", "nbc-tool-text nbc-tool-traceback", {}, [result.detail]));
    }
    this.resultBody.replaceChildren(...blocks);
    // A failure is worth seeing at once; a result stays collapsed until asked for.
    if (card.status === "failed" && !this.result.open) this.result.open = true;
  }
}
