// Each Chat's own `_esm`: a loader of a few KB. The view's real code (js/widget.ts, built to
// static/widget.js, ~0.9 MB) and its CSS travel once per kernel in a shared runtime model
// (src/nbchat/widget/_runtime.py) that the chat names in its `runtime` trait; this imports
// that code once per page and version, puts the CSS where the view is drawn, and hands the
// chat's `initialize` and `render` to it. So a notebook saved with widget state holds the
// code once, and still draws every chat without a kernel.
//
// `initialize` waits for the code: the host delivers the chat's messages only once it has
// returned, and the code's `initialize` is what listens to them.

import type { AnyModel, Initialize, Render } from "@anywidget/types";

interface RuntimeTraits {
  code: string;
  css: string;
  version: string;
}

type RuntimeModel = AnyModel<RuntimeTraits>;

/** The view module: js/widget.ts's default export. */
interface ViewModule {
  initialize?: Initialize<Record<string, unknown>>;
  render?: Render<Record<string, unknown>>;
}

interface Manager {
  get_model(id: string): Promise<unknown>;
}

/** How long to look for the runtime model: models restored together may register in any
 * order, and marimo waits up to 10 s for one itself. */
const FIND_MS = 10_000;
const RETRY_MS = 50;
const CSS_ATTR = "data-nbchat-css";
/** Imported modules by version, for the whole page (every kernel, every loader copy). */
const MODULES = Symbol.for("nbchat.runtime.modules");

type Global = typeof globalThis & { [MODULES]?: Map<string, Promise<ViewModule>> };

/** The runtime model a chat names: "IPY_MODEL_<id>" (ipywidgets' references); managers
 * want the bare id (marimo accepts nothing else). */
async function runtimeOf(model: AnyModel): Promise<RuntimeModel> {
  const ref: unknown = model.get("runtime");
  const id = typeof ref === "string" ? ref.replace(/^IPY_MODEL_/, "") : "";
  if (id === "") throw new Error("the chat names no runtime model");
  const manager = (model as unknown as { widget_manager?: Manager }).widget_manager;
  if (manager === undefined) throw new Error("this host gives widgets no model manager");
  const deadline = Date.now() + FIND_MS;
  for (;;) {
    try {
      return (await manager.get_model(id)) as RuntimeModel;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

/** The view module for `runtime`'s version, imported once per page. */
function moduleOf(runtime: RuntimeModel): Promise<ViewModule> {
  const global = globalThis as Global;
  const modules = global[MODULES] ?? new Map<string, Promise<ViewModule>>();
  global[MODULES] = modules;
  const version = runtime.get("version") ?? "";
  let loaded = modules.get(version);
  if (loaded === undefined) {
    loaded = importCode(runtime.get("code") ?? "");
    modules.set(version, loaded);
    loaded.catch(() => modules.delete(version)); // a later chat may try again
  }
  return loaded;
}

async function importCode(code: string): Promise<ViewModule> {
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  try {
    const module = (await import(/* @vite-ignore */ url)) as { default?: ViewModule };
    if (module.default === undefined) throw new Error("the runtime's code exports no view");
    return module.default;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The CSS, once per version, where `el` is drawn: its shadow root (marimo) or the head. */
function addCss(el: HTMLElement, runtime: RuntimeModel): void {
  const root = el.getRootNode();
  const parent = root instanceof ShadowRoot ? root : el.ownerDocument.head;
  const version = runtime.get("version") ?? "";
  for (const style of parent.querySelectorAll(`style[${CSS_ATTR}]`)) {
    if (style.getAttribute(CSS_ATTR) === version) return;
  }
  const style = el.ownerDocument.createElement("style");
  style.setAttribute(CSS_ATTR, version);
  style.textContent = runtime.get("css") ?? "";
  parent.append(style);
}

function showFailure(el: HTMLElement, error: unknown): void {
  const note = el.ownerDocument.createElement("div");
  note.className = "nbc-load-failed";
  note.textContent =
    "nbchat: this chat's view could not be loaded " +
    `(${error instanceof Error ? error.message : String(error)}). ` +
    "Re-run the cell that shows it.";
  el.replaceChildren(note);
}

const initialize: Initialize<Record<string, unknown>> = async (props) => {
  try {
    const view = await moduleOf(await runtimeOf(props.model));
    return await view.initialize?.(props);
  } catch {
    return undefined; // render says what went wrong, where it can be seen
  }
};

const render: Render<Record<string, unknown>> = async (props) => {
  try {
    const runtime = await runtimeOf(props.model);
    addCss(props.el, runtime);
    const view = await moduleOf(runtime);
    return await view.render?.(props);
  } catch (error) {
    showFailure(props.el, error);
    return undefined;
  }
};

export default { initialize, render };
