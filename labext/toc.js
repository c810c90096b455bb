// nbchat's JupyterLab 4 / Notebook 7 extension, part 3: keep the static transcript out of the
// notebook's table of contents.
//
// JupyterLab's ToC lists the headings of code cells' outputs too. It finds them by parsing
// each output's `text/markdown` (or `text/html`) source, not the rendered DOM, again every
// time any output of the cell changes. A chat's cell holds its static transcript (the whole
// conversation as Markdown, src/nbchat/widget/_static.py), which changes after every turn:
// so every turn re-parsed the whole conversation's Markdown (0.6–0.85 s of CPU in one task
// at 1,000 turns) and added each reply's headings to the ToC panel (~15 elements a turn).
// The transcript is a copy for readers without the live chat, and a chat's replies are not
// the notebook's outline: its headings do not belong in the ToC.
//
// There is no API to exclude an output from the ToC (its registry takes the first factory
// that applies to a notebook, which is JupyterLab's own). So the code cell's heading lookup
// (`getHeadings`, JupyterLab >= 4.1) is wrapped: in a cell holding transcript outputs it runs
// with those outputs seen as empty (no data), in place, so the other outputs keep their
// headings and their output index. Cells without a transcript run the original untouched.
// The host's CodeCell class is passed in (labext/index.js imports it): this module needs no
// host package, so it can be tested on its own.

export const TRANSCRIPT_MIME = "application/vnd.nbchat.transcript+json";

/** What the ToC sees in place of a transcript output: an output with nothing to parse. */
const EMPTY_OUTPUT = Object.freeze({ data: Object.freeze({}), metadata: Object.freeze({}) });
/** Marks a prototype already wrapped (a second activation must not wrap twice). */
const WRAPPED = Symbol.for("nbchat.toc.wrapped");

/** Whether an output model (or its JSON) is a static transcript. */
export function isTranscript(output) {
  const data = output?.data;
  return data != null && typeof data === "object" && TRANSCRIPT_MIME in data;
}

/** `outputs` (an output area model: length and get(i)) as the ToC should see it, or null if
 * it holds no transcript (then the cell is left as it is). */
function withoutTranscripts(outputs) {
  const length = outputs?.length ?? 0;
  let any = false;
  for (let i = 0; i < length && !any; i++) any = isTranscript(outputs.get(i));
  if (!any) return null;
  return new Proxy(outputs, {
    get(target, key) {
      if (key === "get") {
        return (i) => {
          const output = target.get(i);
          return isTranscript(output) ? EMPTY_OUTPUT : output;
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Wrap `prototype.getHeadings` (a CodeCell's) so that transcript outputs are never parsed for
 * headings. Returns false where there is nothing to wrap (JupyterLab 4.0 has no getHeadings).
 */
export function keepTranscriptsOutOfToc(prototype) {
  const original = prototype?.getHeadings;
  if (typeof original !== "function") return false;
  if (original[WRAPPED]) return true;
  const wrapped = function getHeadings(...args) {
    const outputs = withoutTranscripts(this.model?.outputs);
    if (outputs === null) return original.apply(this, args);
    // The original reads `this.model.outputs`; everything else (its cache, its parser) is the
    // cell's own, reached and written through this view.
    const model = new Proxy(this.model, {
      get: (target, key) => (key === "outputs" ? outputs : Reflect.get(target, key)),
    });
    const cell = new Proxy(this, {
      get: (target, key) => (key === "model" ? model : Reflect.get(target, key)),
    });
    return original.apply(cell, args);
  };
  wrapped[WRAPPED] = true;
  prototype.getHeadings = wrapped;
  return true;
}

/** The plugin, for the host's CodeCell class. */
export function tocPlugin(CodeCell) {
  return {
    id: "jupyter-nbchat:toc",
    description: "Keeps chats' static transcripts out of the notebook's table of contents",
    autoStart: true,
    activate: () => {
      if (!keepTranscriptsOutOfToc(CodeCell?.prototype)) {
        console.warn("nbchat: this JupyterLab's code cells have no getHeadings to wrap");
      }
    },
  };
}
