// nbchat's JupyterLab 4 / Notebook 7 extension, part 1: what the chat widget cannot do from
// the kernel (busy while a cell runs, and blind to which cell holds the chat), it asks the
// page for with DOM events dispatched from its own node (js/view/host.ts):
//
// - `nbchat:probe`: which of the following this notebook offers the chat in that node;
// - `nbchat:insert-cell` {code, cellType}: a new cell right under the chat's cell;
// - `nbchat:interrupt`: interrupt the kernel running that notebook (the toolbar's ■).
//
// Each is cancelled (preventDefault) when done, which the widget reads from dispatchEvent.
// Plain ES module: @jupyterlab/* come from the host at run time (module federation, shared
// singletons declared in package.json); nothing of them is bundled. The second plugin keeps
// chats' static transcripts out of the table of contents (labext/toc.js).
import { CodeCell } from "@jupyterlab/cells";
import { INotebookTracker } from "@jupyterlab/notebook";
import { tocPlugin } from "./toc.js";

const PROBE_EVENT = "nbchat:probe";
const INSERT_EVENT = "nbchat:insert-cell";
const INTERRUPT_EVENT = "nbchat:interrupt";
/** On document.body while the extension runs: the app's name (for people and tests). */
const BODY_FLAG = "data-nbchat-extension";

/** The notebook panel and the index of the cell whose node holds `el`, or null. */
function findCell(tracker, el) {
  let found = null;
  tracker.forEach((panel) => {
    if (found !== null || !panel.node.contains(el)) return;
    const notebook = panel.content;
    const index = notebook.widgets.findIndex((cell) => cell.node.contains(el));
    if (index >= 0) found = { panel, notebook, index };
  });
  return found;
}

/** The event's real origin: composedPath()[0] is right even from inside a shadow root. */
function origin(event) {
  return event.composedPath()[0] ?? event.target;
}

function kernelLanguage(panel) {
  const model = panel.content.model;
  const info = model?.getMetadata?.("language_info");
  const spec = model?.getMetadata?.("kernelspec");
  return String(info?.name ?? spec?.language ?? "");
}

const plugin = {
  id: "jupyter-nbchat:notebook",
  description: "Lets nbchat's chat insert code as a new cell and interrupt its kernel",
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app, tracker) => {
    document.addEventListener(PROBE_EVENT, (event) => {
      const hit = findCell(tracker, origin(event));
      if (hit === null) return; // not in a notebook we know: nothing on offer
      const detail = event.detail ?? {};
      detail.insert = hit.notebook.model !== null && !hit.notebook.model.readOnly;
      detail.interrupt = Boolean(hit.panel.sessionContext.session?.kernel);
      detail.kernelLanguage = kernelLanguage(hit.panel);
      event.preventDefault();
    });

    document.addEventListener(INSERT_EVENT, (event) => {
      const hit = findCell(tracker, origin(event));
      const model = hit?.notebook.model;
      if (hit === null || model === null || model.readOnly) return;
      const detail = event.detail ?? {};
      const at = hit.index + 1;
      // Straight into the shared model, as NotebookActions.insertBelow does, but under the
      // chat's cell rather than the active one, with type and source in one step.
      model.sharedModel.insertCell(at, {
        cell_type: detail.cellType === "markdown" ? "markdown" : "code",
        source: String(detail.code ?? ""),
        metadata: {},
      });
      hit.notebook.activeCellIndex = at;
      void hit.notebook.scrollToItem?.(at);
      event.preventDefault();
      event.stopPropagation();
    });

    document.addEventListener(INTERRUPT_EVENT, (event) => {
      const hit = findCell(tracker, origin(event));
      const kernel = hit?.panel.sessionContext.session?.kernel;
      if (!kernel) return;
      void kernel.interrupt();
      event.preventDefault();
      event.stopPropagation();
    });

    document.body.setAttribute(BODY_FLAG, app.name ?? "jupyter");
  },
};

export default [plugin, tocPlugin(CodeCell)];
