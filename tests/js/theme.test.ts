// Host theme detection for the hosts the e2e tests cannot run here (VS Code, Colab), and the
// marimo signals the marimo e2e test also checks in a real browser: each host's own markers,
// live switches, and a view inside a shadow root (where marimo draws every widget).

import { afterEach, describe, expect, it, vi } from "vitest";
import { applyTheme, detectHostTheme } from "../../js/view/theme.js";

const controllers: AbortController[] = [];

afterEach(() => {
  for (const c of controllers.splice(0)) c.abort();
  document.body.innerHTML = "";
  for (const name of ["data-jp-theme-light", "data-vscode-theme-kind", "class", "data-theme"]) {
    document.body.removeAttribute(name);
  }
  document.documentElement.removeAttribute("theme");
});

/** A root mounted in `parent` with applyTheme on it, following the host. */
function follow(parent: HTMLElement | ShadowRoot = document.body): HTMLElement {
  const root = document.createElement("div");
  parent.append(root);
  const controller = new AbortController();
  controllers.push(controller);
  applyTheme(root, () => "auto", controller.signal);
  return root;
}

describe("VS Code (no e2e here: its markers as VS Code's notebook webview sets them)", () => {
  it.each([
    ["vscode-light", "light"],
    ["vscode-dark", "dark"],
    ["vscode-high-contrast", "dark"],
    ["vscode-high-contrast-light", "light"],
  ])("data-vscode-theme-kind=%s is %s", (kind, expected) => {
    document.body.dataset.vscodeThemeKind = kind;
    document.body.classList.add(kind);
    expect(detectHostTheme()).toBe(expected);
  });

  it("follows a switch of the VS Code theme", async () => {
    document.body.dataset.vscodeThemeKind = "vscode-light";
    const root = follow();
    expect(root.dataset.theme).toBe("light");
    document.body.dataset.vscodeThemeKind = "vscode-dark";
    await vi.waitFor(() => expect(root.dataset.theme).toBe("dark"));
  });

  it("its marker wins over the OS preference", () => {
    vi.stubGlobal("matchMedia", (query: string) => ({ matches: query.includes("dark") }));
    document.body.dataset.vscodeThemeKind = "vscode-light";
    expect(detectHostTheme()).toBe("light");
  });
});

describe("Colab (no e2e here: <html theme=…>)", () => {
  it.each([["dark"], ["light"]])("theme=%s", (theme) => {
    document.documentElement.setAttribute("theme", theme);
    expect(detectHostTheme()).toBe(theme);
  });

  it("follows a switch of the Colab theme", async () => {
    document.documentElement.setAttribute("theme", "light");
    const root = follow();
    document.documentElement.setAttribute("theme", "dark");
    await vi.waitFor(() => expect(root.dataset.theme).toBe("dark"));
  });
});

describe("marimo (body classes and data-theme; the view in a shadow root)", () => {
  const marimo = (theme: "light" | "dark"): void => {
    // What marimo's ThemeProvider does (research: /tmp/research/marimo.md §4).
    document.body.classList.remove("light", "light-theme", "dark", "dark-theme");
    document.body.classList.add(theme, `${theme}-theme`);
    document.body.dataset.theme = theme;
  };

  it("light beats a dark OS preference", () => {
    vi.stubGlobal("matchMedia", (query: string) => ({ matches: query.includes("dark") }));
    marimo("light");
    expect(detectHostTheme()).toBe("light");
  });

  it("a view inside a shadow root follows a live switch", async () => {
    marimo("light");
    const host = document.createElement("marimo-anywidget");
    document.body.append(host);
    const root = follow(host.attachShadow({ mode: "open" }));
    expect(root.dataset.theme).toBe("light");
    marimo("dark");
    await vi.waitFor(() => expect(root.dataset.theme).toBe("dark"));
    marimo("light");
    await vi.waitFor(() => expect(root.dataset.theme).toBe("light"));
  });

  it("with no marker at all, the background behind a shadow root decides", () => {
    const host = document.createElement("div");
    host.style.backgroundColor = "rgb(20, 20, 20)";
    document.body.append(host);
    const inner = document.createElement("div");
    host.attachShadow({ mode: "open" }).append(inner);
    expect(detectHostTheme(document, inner)).toBe("dark");
  });
});
