// nbchat's JupyterLab 4 / Notebook 7 extension, part 2: the renderer of the static transcript.
//
// Beside its live view a chat publishes its conversation as a second output, rewritten after
// every turn, for readers without widget JavaScript (GitHub, nbviewer, nbconvert). That output
// carries `text/markdown` and `application/vnd.nbchat.transcript+json` (a tiny payload);
// JupyterLab picks this renderer for it. Next to a live chat it renders nothing, so no hidden
// copy of the conversation is re-rendered per turn; without one (no kernel, no saved widget
// state) it renders the output's own `text/markdown` with JupyterLab's Markdown renderer.
import { RenderedMarkdown } from "@jupyterlab/rendermime";
import { PanelLayout, Widget } from "@lumino/widgets";

const MIME = "application/vnd.nbchat.transcript+json";
const MARKDOWN = "text/markdown";

class TranscriptRenderer extends Widget {
  constructor(options) {
    super();
    this._options = options;
    this._model = null;
    this._markdown = null;
    this._observer = null;
    this._drawn = false;
    this.layout = new PanelLayout();
    // The widget's stylesheet hides an output holding .nbchat-static next to a live chat.
    this.addClass("nbchat-static");
  }

  /** A live chat is drawn in the same output area (its view's root element). */
  _nextToLiveChat() {
    return this.node.closest(".jp-OutputArea")?.querySelector(".nbc-root") != null;
  }

  renderModel(model) {
    this._model = model;
    this._drawn = false;
    return this._update();
  }

  /** Render the Markdown if no live chat is beside us, else drop it. Either way keep watching
   * the output area while attached: the chat's view may appear after us (its code loads
   * asynchronously) or go away (closed, its output cleared). Detached, we cannot tell yet:
   * onAfterAttach calls this again. */
  async _update() {
    if (this._model === null || !this.node.isConnected) return;
    this._watch(true);
    if (this._nextToLiveChat()) {
      this._markdown?.dispose();
      this._markdown = null;
      this._drawn = false;
      return;
    }
    // Our own drawing mutates the area too: draw once per model, not per mutation.
    if (this._drawn) return;
    this._drawn = true;
    if (this._markdown === null) {
      this._markdown = new RenderedMarkdown({ ...this._options, mimeType: MARKDOWN });
      this.layout.addWidget(this._markdown);
    }
    await this._markdown.renderModel(this._model);
  }

  _watch(on) {
    const area = on ? this.node.closest(".jp-OutputArea") : null;
    if (area === null) {
      this._observer?.disconnect();
      this._observer = null;
    } else if (this._observer === null) {
      this._observer = new MutationObserver(() => void this._update());
      this._observer.observe(area, { childList: true, subtree: true });
    }
  }

  onAfterAttach(msg) {
    super.onAfterAttach(msg);
    void this._update();
  }

  onBeforeDetach(msg) {
    this._watch(false);
    super.onBeforeDetach(msg);
  }

  dispose() {
    this._watch(false);
    super.dispose();
  }
}

const extension = {
  id: "jupyter-nbchat:transcript",
  description: "Shows a chat's static transcript only where its live view is not",
  rendererFactory: {
    safe: true,
    mimeTypes: [MIME],
    createRenderer: (options) => new TranscriptRenderer(options),
  },
  // Before JupyterLab's Markdown renderer (rank 60), which would otherwise take the output.
  rank: 50,
  dataType: "json",
};

export default extension;
