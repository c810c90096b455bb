// One check every control in the chat must pass, whoever adds it (approval, image, insert
// buttons included): a keyboard can reach it and it has a name a screen reader can say.
// jsdom has no layout, so "shown" means no `hidden` ancestor and no display:none inline;
// the e2e tests (tests/e2e/a11y.py) check the same in a real browser, Tab by Tab.

const CONTROLS = [
  "button",
  "a[href]",
  "input:not([type=hidden])",
  "textarea",
  "select",
  "summary",
  "[role=button]",
  "[role=link]",
  "[role=checkbox]",
  "[role=switch]",
  "[role=tab]",
  "[role=menuitem]",
  "[tabindex]",
].join(",");

/** Roles a live region has unless aria-live says otherwise. */
const LIVE_ROLES: Record<string, string> = { log: "polite", status: "polite", alert: "assertive" };

export interface ControlProblem {
  control: string;
  problem: string;
}

function shown(el: Element, root: Element): boolean {
  for (let node: Element | null = el; node !== null && node !== root.parentElement; ) {
    if (node instanceof HTMLElement && (node.hidden || node.style.display === "none")) {
      return false;
    }
    node = node.parentElement;
  }
  return true;
}

function describe(el: Element): string {
  const label = el.getAttribute("aria-label") ?? el.textContent?.trim().slice(0, 30) ?? "";
  return `<${el.tagName.toLowerCase()} class="${el.getAttribute("class") ?? ""}"> ${label}`;
}

/** The accessible name, as far as the DOM says (enough for our controls). */
export function accessibleName(el: Element): string {
  const labelled = el.getAttribute("aria-labelledby");
  if (labelled) {
    const doc = el.ownerDocument;
    return labelled
      .split(/\s+/)
      .map((id) => doc.getElementById(id)?.textContent?.trim() ?? "")
      .join(" ")
      .trim();
  }
  const label = el.getAttribute("aria-label")?.trim();
  if (label) return label;
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
    const forLabel = el.labels?.[0]?.textContent?.trim();
    return forLabel || el.title.trim();
  }
  return el.textContent?.trim() || (el as HTMLElement).title?.trim() || "";
}

/** Every shown control under `root` that a keyboard cannot reach or that has no name. */
export function controlProblems(root: Element): ControlProblem[] {
  const problems: ControlProblem[] = [];
  for (const el of root.querySelectorAll<HTMLElement>(CONTROLS)) {
    if (!shown(el, root)) continue;
    const native = el.matches("button, a[href], input, textarea, select, summary");
    const tabindex = el.getAttribute("tabindex");
    const disabled = (el as HTMLButtonElement).disabled === true;
    if (!native && el.getAttribute("role") === null && !el.matches(".nbc-scroller")) {
      problems.push({ control: describe(el), problem: "focusable but has no role" });
    }
    if (!disabled && tabindex !== null && Number(tabindex) < 0) {
      problems.push({ control: describe(el), problem: "taken out of the Tab order" });
    }
    if (native && !el.matches("summary") && el.matches("[role=presentation], [role=none]")) {
      problems.push({ control: describe(el), problem: "its role is removed" });
    }
    if (accessibleName(el) === "") problems.push({ control: describe(el), problem: "no name" });
  }
  return problems;
}

/** Elements under `root` a screen reader would read out on every change. */
export function liveRegions(root: Element): Element[] {
  return [...root.querySelectorAll("[aria-live], [role]")].filter((el) => {
    const explicit = el.getAttribute("aria-live");
    const live = explicit ?? LIVE_ROLES[el.getAttribute("role") ?? ""] ?? "off";
    return live !== "off";
  });
}
