// Light or dark: follow the host unless the `theme` trait says otherwise.
// The result goes on our root as `data-theme` (CSS keys everything off it, which also works
// inside a shadow root) and `data-theme-source` ("host" lets the --jp-* variables through;
// "forced" uses only our palette, since the host's variables belong to the other theme).

import type { ThemePreference } from "../protocol.js";

export type Theme = "light" | "dark";

/** Best guess at the host's theme, most specific signal first. */
export function detectHostTheme(doc: Document = document, start?: Element): Theme {
  const body = doc.body;
  const html = doc.documentElement;
  // JupyterLab / Notebook 7.
  const jpLight = body?.dataset.jpThemeLight;
  if (jpLight === "true") return "light";
  if (jpLight === "false") return "dark";
  // VS Code notebooks.
  const vscodeKind = body?.dataset.vscodeThemeKind;
  if (vscodeKind !== undefined && vscodeKind !== "") {
    return vscodeKind === "vscode-dark" || vscodeKind === "vscode-high-contrast" ? "dark" : "light";
  }
  if (body?.classList.contains("vscode-dark")) return "dark";
  if (body?.classList.contains("vscode-high-contrast")) {
    return body.classList.contains("vscode-high-contrast-light") ? "light" : "dark";
  }
  if (body?.classList.contains("vscode-light")) return "light";
  // Colab.
  const colab = html.getAttribute("theme");
  if (colab === "dark" || colab === "light") return colab;
  // marimo.
  if (body?.classList.contains("dark") || body?.classList.contains("dark-theme")) return "dark";
  const marimo = body?.dataset.theme;
  if (marimo === "dark" || marimo === "light") return marimo;
  // The OS preference.
  const view = doc.defaultView;
  if (typeof view?.matchMedia === "function") {
    if (view.matchMedia("(prefers-color-scheme: dark)").matches) return "dark";
    if (view.matchMedia("(prefers-color-scheme: light)").matches) return "light";
  }
  return luminanceTheme(start ?? body) ?? "light";
}

/** Dark when the first opaque background behind `el` is dark. The walk leaves a shadow root
 * through its host (marimo draws each widget in one). */
function luminanceTheme(el: Element | null | undefined): Theme | null {
  const view = el?.ownerDocument.defaultView;
  for (let node: Element | null | undefined = el; node; node = parentAcrossShadow(node)) {
    const rgb = parseColor(view?.getComputedStyle(node).backgroundColor ?? "");
    if (rgb === null) continue;
    const [r, g, b] = rgb;
    return (r * 299 + g * 587 + b * 114) / 1000 < 128 ? "dark" : "light";
  }
  return null;
}

function parentAcrossShadow(node: Element): Element | null {
  if (node.parentElement !== null) return node.parentElement;
  const root = node.getRootNode();
  return root instanceof ShadowRoot ? root.host : null;
}

const RGB = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/;

/** `rgb(…)`/`rgba(…)` -> [r, g, b], or null for transparent and anything unparsed. */
function parseColor(value: string): [number, number, number] | null {
  const m = RGB.exec(value);
  if (m === null) return null;
  const alpha = m[4] === undefined ? 1 : Number.parseFloat(m[4]) / (m[4].endsWith("%") ? 100 : 1);
  if (alpha < 0.5) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Keep `root`'s data-theme current: the preference, else the host (watched for changes). */
export function applyTheme(
  root: HTMLElement,
  preference: () => ThemePreference,
  signal: AbortSignal,
): { refresh(): void } {
  const doc = root.ownerDocument;
  const refresh = (): void => {
    const pref = preference();
    const forced = pref === "light" || pref === "dark";
    const theme = forced ? pref : detectHostTheme(doc, root.parentElement ?? undefined);
    if (root.dataset.theme !== theme) root.dataset.theme = theme;
    const source = forced ? "forced" : "host";
    if (root.dataset.themeSource !== source) root.dataset.themeSource = source;
  };
  refresh();

  // Hosts switch themes by flipping attributes on <body>/<html>.
  const observer = new MutationObserver(refresh);
  const watched = ["class", "data-jp-theme-light", "data-vscode-theme-kind", "data-theme", "theme"];
  observer.observe(doc.documentElement, { attributes: true, attributeFilter: watched });
  if (doc.body) observer.observe(doc.body, { attributes: true, attributeFilter: watched });
  signal.addEventListener("abort", () => observer.disconnect(), { once: true });

  const media = doc.defaultView?.matchMedia?.("(prefers-color-scheme: dark)");
  media?.addEventListener?.("change", refresh, { signal });
  return { refresh };
}
