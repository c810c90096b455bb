// ‹ 2/3 ›: the versions of one message — regenerated replies, edited questions — read from
// its parent's `c:` key (js/history.ts versionsOf). A step asks the kernel to show the other
// branch; the kernel refuses while a reply streams and says why in a notice, so the buttons
// stay enabled then (a click gets a visible reason rather than nothing).

import type { Role } from "../protocol.js";
import { button, h, setText, show } from "./dom.js";

/** A message's siblings, in order, and which one is shown. */
export interface Versions {
  ids: readonly string[];
  index: number;
}

export function sameVersions(a: Versions | null, b: Versions | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.index === b.index && a.ids.length === b.ids.length && a.ids.every((id, i) => id === b.ids[i])
  );
}

export interface VersionSwitcher {
  readonly el: HTMLElement;
  draw(versions: Versions | null, idle: boolean): void;
}

export function createVersionSwitcher(
  role: Role,
  switchTo: (id: string) => void,
  signal: AbortSignal,
): VersionSwitcher {
  let current: Versions | null = null;
  const step = (by: number): void => {
    const target = current?.ids[current.index + by];
    if (target !== undefined) switchTo(target);
  };
  const previous = button(
    "nbc-act nbc-version-prev",
    "Previous version",
    "‹",
    () => step(-1),
    signal,
  );
  const next = button("nbc-act nbc-version-next", "Next version", "›", () => step(1), signal);
  const label = h("span", "nbc-version-label");
  const el = h("span", "nbc-versions", { role: "group" }, [previous, label, next]);
  show(el, false);
  const what = role === "user" ? "question" : "reply";
  return {
    el,
    draw(versions, idle) {
      current = versions;
      show(el, versions !== null);
      if (versions === null) return;
      const { index, ids } = versions;
      setText(label, `${index + 1}/${ids.length}`);
      el.setAttribute("aria-label", `Version ${index + 1} of ${ids.length} of this ${what}`);
      previous.disabled = index === 0;
      next.disabled = index === ids.length - 1;
      el.classList.toggle("is-busy", !idle);
    },
  };
}
