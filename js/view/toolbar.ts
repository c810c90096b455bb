// The chat's toolbar: which model answers (and the demo badge), the status pill, Clear (armed
// by a first click, since it cannot be undone), then the controls the chat hands in (find,
// export). Apart from chat.ts so that the view's assembly reads as parts, not as the
// toolbar's buttons.

import type { ClientMessage, Status } from "../protocol.js";
import { button, h, later, setText, show } from "./dom.js";
import { isDemoModel, modelName, providerOf } from "./format.js";
import { DEMO_TOOLTIP } from "./message.js";

export interface ToolbarState {
  model: string; // "provider:name", "" when none
  status: Status;
  /** The reply streaming now waits for a tool call's approval. */
  waiting: boolean;
  busy: boolean;
}

export interface Toolbar {
  readonly el: HTMLElement;
  draw(state: ToolbarState): void;
}

export function createToolbar(
  send: (message: ClientMessage) => void,
  controls: HTMLElement[],
  signal: AbortSignal,
): Toolbar {
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
  const el = h("div", "nbc-toolbar", {}, [
    h("span", "nbc-brand", { "aria-hidden": "true" }, ["◆"]),
    modelLabel,
    demoBadge,
    statusPill,
    h("span", "nbc-spacer"),
    clearButton,
    ...controls,
  ]);

  const draw = ({ model: modelId, status, waiting, busy: isBusy }: ToolbarState): void => {
    setText(modelLabel, modelName(modelId) || "no model");
    const modelTitle = modelId === "" ? "" : `${providerOf(modelId)} · ${modelName(modelId)}`;
    if (modelLabel.title !== modelTitle) modelLabel.title = modelTitle;
    show(demoBadge, isDemoModel(modelId));
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
  };

  return { el, draw };
}
