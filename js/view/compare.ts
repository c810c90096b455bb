// A comparison: one column per model, each the chat view of its own Chat model (so Markdown,
// code, math, reasoning, per-reply Regenerate/Continue and errors are the chat's own), with
// a head per column (model, status line, fastest marks, Stop, "Continue with this one") and
// one input that asks every model. "Continue with this one" turns the view, in place, into
// that column's full chat. Everything it registers is tied to `signal`.

import type { AnyModel } from "@anywidget/types";
import { streamingReply } from "../channel.js";
import type { ChatTraits, CompareCommand, CompareTraits } from "../protocol.js";
import { type ChatModel, createLiveStore, type LiveStore } from "../store.js";
import { mountChat } from "./chat.js";
import { button, h, setText, show } from "./dom.js";
import { columnFigures, type Figures, fastest, formatFigures } from "./figures.js";
import { isDemoModel, modelName } from "./format.js";
import { createInput } from "./input.js";
import { DEMO_TOOLTIP } from "./message.js";
import { applyTheme } from "./theme.js";

export type CompareModel = AnyModel<CompareTraits>;

const TICK_MS = 200;
const REF_PREFIX = "IPY_MODEL_";

interface Column {
  model: ChatModel;
  store: LiveStore;
}

/** The columns' Chat models, in order, each with a live store of this view's own. */
async function loadColumns(model: CompareModel): Promise<Column[]> {
  const refs = model.get("columns") ?? [];
  const models = await Promise.all(
    refs.map((ref) =>
      model.widget_manager.get_model<ChatTraits>(
        ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : ref,
      ),
    ),
  );
  return models.map((m) => {
    const store = createLiveStore(m);
    store.send({ kind: "hello" }); // a reply already in flight arrives as a snapshot
    return { model: m, store };
  });
}

export function mountCompare(el: HTMLElement, model: CompareModel, signal: AbortSignal): void {
  const root = h("div", "nbc-root nbc-compare", { "data-lm-suppress-shortcuts": "true" }, [
    h("div", "nbc-compare-loading", {}, ["Loading the models…"]),
  ]);
  for (const type of ["keydown", "keyup", "keypress"]) {
    root.addEventListener(type, (event) => event.stopPropagation(), { signal });
  }
  el.append(root);
  signal.addEventListener("abort", () => root.remove(), { once: true });
  const theme = applyTheme(root, () => model.get("theme"), signal);
  const onTheme = (): void => theme.refresh();
  model.on("change:theme", onTheme);
  signal.addEventListener("abort", () => model.off("change:theme", onTheme), { once: true });

  void loadColumns(model).then(
    (columns) => {
      const dispose = (): void => {
        for (const c of columns) c.store.dispose();
      };
      signal.addEventListener("abort", dispose, { once: true });
      if (signal.aborted) return;
      let layout = new AbortController();
      const draw = (): void => {
        layout.abort();
        layout = new AbortController();
        const inner = layout.signal;
        signal.addEventListener("abort", () => layout.abort(), { once: true, signal: inner });
        const chosen = model.get("chosen") ?? -1;
        const column = columns[chosen];
        root.replaceChildren();
        root.classList.toggle("is-chosen", column !== undefined);
        if (column !== undefined) {
          // Continued with one model: its full chat, with its own input, in place.
          mountChat(root, column.model, column.store, inner);
        } else {
          drawComparison(root, model, columns, inner);
        }
      };
      draw();
      model.on("change:chosen", draw);
      signal.addEventListener("abort", () => model.off("change:chosen", draw), { once: true });
    },
    (error: unknown) => {
      root.replaceChildren(h("div", "nbc-error", {}, [`Could not load the columns: ${error}`]));
    },
  );
}

function drawComparison(
  root: HTMLElement,
  model: CompareModel,
  columns: Column[],
  signal: AbortSignal,
): void {
  const send = (command: CompareCommand): void => model.send(command);
  const labels = model.get("labels") ?? [];
  const streaming = (c: Column): boolean =>
    c.model.get("status") === "streaming" || streamingReply(c.store.state) !== null;
  const busy = (): boolean => columns.some(streaming);

  const heads = columns.map((column, index) => {
    const label = labels[index] ?? column.model.get("model");
    const name = h("span", "nbc-col-model", { title: label }, [modelName(label) || label]);
    const demo = h("span", "nbc-badge nbc-badge-demo", { title: DEMO_TOOLTIP }, ["demo"]);
    show(demo, isDemoModel(column.model.get("model") ?? ""));
    const stats = h("span", "nbc-col-stats", { "aria-live": "off" });
    const marks = h("span", "nbc-col-marks");
    const stop = button(
      "nbc-btn nbc-btn-quiet nbc-col-stop",
      `Stop ${label}`,
      "Stop",
      () => column.store.send({ kind: "stop" }),
      signal,
    );
    const choose = button(
      "nbc-btn nbc-btn-quiet nbc-col-choose",
      `Continue with ${label} alone`,
      "Continue with this one",
      () => send({ kind: "choose", column: index }),
      signal,
    );
    const head = h("div", "nbc-col-head", {}, [
      h("div", "nbc-col-title", {}, [name, demo, h("span", "nbc-spacer"), stop, choose]),
      h("div", "nbc-col-status", {}, [stats, marks]),
    ]);
    const body = h("div", "nbc-col-body");
    const el = h("section", "nbc-col", { "aria-label": label, "data-column": String(index) }, [
      head,
      body,
    ]);
    return { column, el, body, stats, marks, stop, choose };
  });

  const grid = h("div", "nbc-compare-grid", { "data-n": String(columns.length) });
  for (const head of heads) grid.append(head.el);
  const input = createInput(
    {
      submit: (text) => send({ kind: "submit", text }),
      stop: () => send({ kind: "stop" }),
      isBusy: busy,
    },
    signal,
  );
  root.append(grid, input.el);
  for (const { body, column } of heads) {
    mountChat(body, column.model, column.store, signal, { embedded: true });
  }

  // Refused by the kernel (a reply still streaming somewhere): say why under the input.
  const onCustom = (content: unknown): void => {
    if (typeof content !== "object" || content === null) return;
    const msg = content as { kind?: unknown; text?: unknown; message?: unknown };
    const text = msg.kind === "notice" ? msg.text : msg.kind === "error" ? msg.message : null;
    if (typeof text === "string") input.explain(text);
  };
  model.on("msg:custom", onCustom);

  let frame = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const schedule = (): void => {
    if (frame === 0 && !signal.aborted) frame = requestAnimationFrame(drawHeads);
  };
  function drawHeads(): void {
    frame = 0;
    const now = performance.now();
    const figures: (Figures | null)[] = heads.map(({ column }) => {
      const messages = column.store.messages();
      return columnFigures(streamingReply(column.store.state), messages[messages.length - 1], now);
    });
    const best = fastest(figures);
    heads.forEach((head, i) => {
      const f = figures[i] ?? null;
      setText(head.stats, f === null ? "" : formatFigures(f));
      const marks: string[] = [];
      if (best.firstToken === i) marks.push("fastest first token");
      if (best.finish === i) marks.push("fastest finish");
      const key = marks.join("|");
      if (head.marks.dataset.key !== key) {
        head.marks.dataset.key = key;
        head.marks.replaceChildren(...marks.map((m) => h("span", "nbc-tag nbc-mark", {}, [m])));
      }
      const on = streaming(head.column);
      head.el.dataset.state = f?.state ?? "idle";
      show(head.stop, on);
    });
    const anyBusy = busy();
    input.setBusy(anyBusy);
    input.setPlaceholder(model.get("placeholder") ?? "");
    if (anyBusy && ticker === undefined) ticker = setInterval(schedule, TICK_MS);
    if (!anyBusy && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  const unsubscribes = heads.map(({ column }) => column.store.subscribe(schedule));
  for (const { column } of heads) column.model.on("change:status", schedule);
  signal.addEventListener(
    "abort",
    () => {
      cancelAnimationFrame(frame);
      clearInterval(ticker);
      for (const unsubscribe of unsubscribes) unsubscribe();
      for (const { column } of heads) column.model.off("change:status", schedule);
      model.off("msg:custom", onCustom);
    },
    { once: true },
  );
  drawHeads();
}
