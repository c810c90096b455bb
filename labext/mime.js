// The renderer of nbchat's static transcript outputs (application/vnd.nbchat.transcript+json;
// the Markdown itself is the same output's text/markdown, which is what nbconvert and GitHub
// show). Next to a live chat the transcript is hidden, and the kernel rewrites it as the
// conversation grows: rendering each new copy with JupyterLab's Markdown and math would cost
// the page a whole transcript per turn for nothing. So this renderer draws nothing until its
// output is shown and no live chat is in the same output area; then it renders the Markdown
// once with JupyterLab's own renderer, as a text/markdown output would look.
//
// A minimal version (issue 14); the full extension (inserting cells, probing) is issue 15's.
import { renderMarkdown } from "@jupyterlab/rendermime";
import { Widget } from "@lumino/widgets";

const MIME = "application/vnd.nbchat.transcript+json";
/** The live chat's root element (js/view/chat.ts). */
const LIVE_CHAT = ".nbc-root";
/** How long a shown transcript waits for the live chat of its cell to appear. */
const WAIT_FOR_CHAT_MS = 1500;

class TranscriptRenderer extends Widget {
  constructor(options) {
    super();
    this.options = options;
    // The class the chat's CSS hides next to a live chat (js/styles.css).
    this.addClass("nbchat-static");
    this.stopWatching = () => {};
  }

  renderModel(model) {
    this.stopWatching();
    this.node.textContent = "";
    const source = String(model.data["text/markdown"] ?? "");
    const render = () => {
      this.stopWatching();
      const o = this.options;
      return renderMarkdown({
        host: this.node,
        source,
        trusted: model.trusted,
        sanitizer: o.sanitizer,
        resolver: o.resolver,
        linkHandler: o.linkHandler,
        shouldTypeset: this.isAttached,
        latexTypesetter: o.latexTypesetter,
        markdownParser: o.markdownParser,
        translator: o.translator,
      });
    };
    this.watch(render);
    return Promise.resolve();
  }

  /** Call `render` once this output is shown with no live chat beside it. */
  watch(render) {
    let timer = 0;
    let mutations = null;
    const area = () => this.node.closest(".jp-OutputArea") ?? this.node.parentElement;
    const chatShown = () => area()?.querySelector(LIVE_CHAT) != null;
    const visible = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting) || timer !== 0 || mutations !== null) return;
        if (chatShown()) return; // hidden by the chat's CSS from the next style pass on
        // The chat's view may still be loading: give it a moment before drawing a copy.
        mutations = new MutationObserver(() => {
          if (chatShown()) this.stopWatching();
        });
        const root = area();
        if (root) mutations.observe(root, { childList: true, subtree: true });
        timer = window.setTimeout(() => void render(), WAIT_FOR_CHAT_MS);
      },
      { rootMargin: "1000px 0px" },
    );
    visible.observe(this.node);
    this.stopWatching = () => {
      visible.disconnect();
      mutations?.disconnect();
      window.clearTimeout(timer);
      this.stopWatching = () => {};
    };
  }

  dispose() {
    this.stopWatching();
    super.dispose();
  }
}

/** @type {import('@jupyterlab/rendermime-interfaces').IRenderMime.IExtension} */
const extension = {
  id: "jupyter-nbchat:transcript-renderer",
  rendererFactory: {
    safe: true,
    mimeTypes: [MIME],
    createRenderer: (options) => new TranscriptRenderer(options),
  },
  // Before text/markdown (60), after the widget view (0), which shares no output with it.
  rank: 55,
  dataType: "json",
};

export default extension;
