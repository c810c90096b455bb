// What the notebook around the widget can do for it, asked through DOM events that nbchat's
// JupyterLab 4 / Notebook 7 extension (labext/) answers. No kernel round trip: the kernel may
// be busy, and it does not know which cell holds the chat. Elsewhere (VS Code, Colab, marimo,
// a static HTML export) nobody answers, and the view offers neither Insert nor Interrupt.
//
// Every event is dispatched from the widget's own node (bubbling, composed: it leaves a
// shadow root), synchronously, and cancelled by the extension when it acted on it, so
// `dispatchEvent` returning false means "done".

export const PROBE_EVENT = "nbchat:probe";
export const INSERT_EVENT = "nbchat:insert-cell";
export const INTERRUPT_EVENT = "nbchat:interrupt";

export interface HostAbilities {
  /** A new cell can go under the chat's cell. */
  readonly insert: boolean;
  /** The kernel running the chat's cell can be interrupted. */
  readonly interrupt: boolean;
  /** The kernel's language ("python"), when the host says; decides what a code block
   * becomes (see cellFor). */
  readonly kernelLanguage: string;
}

export const NO_HOST: HostAbilities = { insert: false, interrupt: false, kernelLanguage: "" };

/** The probe's detail, filled in by the extension. */
interface ProbeDetail {
  insert?: unknown;
  interrupt?: unknown;
  kernelLanguage?: unknown;
}

function fire(el: Element, type: string, detail: object): boolean {
  const event = new CustomEvent(type, { bubbles: true, composed: true, cancelable: true, detail });
  return !el.dispatchEvent(event);
}

/** Ask the host what it offers the chat drawn in `el` (which must be in the page). */
export function probeHost(el: Element): HostAbilities {
  if (!el.isConnected) return NO_HOST;
  const detail: ProbeDetail = {};
  if (!fire(el, PROBE_EVENT, detail)) return NO_HOST;
  return {
    // An extension that cancels the probe but names nothing is the first version: insert only.
    insert: detail.insert !== false,
    interrupt: detail.interrupt === true,
    kernelLanguage: typeof detail.kernelLanguage === "string" ? detail.kernelLanguage : "",
  };
}

export interface NewCell {
  readonly cellType: "code" | "markdown";
  readonly code: string;
}

/** Insert `cell` under the cell holding `el`; false if nobody did. */
export function insertCell(el: Element, cell: NewCell): boolean {
  return fire(el, INSERT_EVENT, { code: cell.code, cellType: cell.cellType });
}

/** Interrupt the kernel running the cell that holds `el` (the toolbar's ■); false if
 * nobody did. */
export function interruptKernel(el: Element): boolean {
  return fire(el, INTERRUPT_EVENT, {});
}

// ---- what a code block becomes ---------------------------------------------------------

const PYTHON = new Set(["python", "py", "python3", "py3", "ipython", "ipython3", "pycon"]);
const MARKDOWN = new Set(["markdown", "md"]);
/** Shell blocks run through IPython's own cell magics (no extension needed). */
const SHELL_MAGIC: Record<string, string> = {
  bash: "%%bash",
  shell: "%%bash",
  sh: "%%sh",
  zsh: "%%script zsh",
};

/**
 * The cell a code block's text becomes, in a notebook whose kernel speaks `kernelLanguage`:
 * - a block in the kernel's language, or with no language, is a code cell as it is;
 * - Markdown is a Markdown cell;
 * - in a Python kernel, shell is a code cell under `%%bash` / `%%sh` (IPython's cell magics)
 *   and SQL one under `%%sql` (JupySQL's; without it the cell says the magic is missing,
 *   which is clearer than a SyntaxError);
 * - anything else (JSON, YAML, another language, program output) cannot run in this kernel:
 *   a Markdown cell holding the fenced block, so "Run All" never trips on it.
 */
export function cellFor(block: string, language: string, kernelLanguage: string): NewCell {
  const code = block.replace(/\n$/, ""); // a code block's text ends its last line; a cell not
  const lang = language.toLowerCase();
  const kernel = kernelLanguage.toLowerCase();
  const python = kernel === "" || PYTHON.has(kernel);
  if (MARKDOWN.has(lang)) return { cellType: "markdown", code };
  if (lang === "" || lang === kernel || (python && PYTHON.has(lang))) {
    return { cellType: "code", code };
  }
  if (python) {
    const magic = lang === "sql" ? "%%sql" : SHELL_MAGIC[lang];
    if (magic !== undefined) return { cellType: "code", code: `${magic}\n${code}` };
  }
  return { cellType: "markdown", code: fenced(code, lang) };
}

/** `code` in a fence longer than any backtick run inside it. */
function fenced(code: string, language: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${language}\n${code}\n${fence}`;
}
