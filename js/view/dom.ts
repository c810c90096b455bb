// Tiny DOM helpers: the view is plain DOM, so keep element creation short and explicit.

type Attrs = Record<string, string | boolean | undefined>;

/** Create `<tag>` with a class name, attributes (false/undefined skipped) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  attrs: Attrs = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className !== "") el.className = className;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children);
  return el;
}

/** A `<button type="button">` with an accessible label (and tooltip) and a click handler. */
export function button(
  className: string,
  label: string,
  text: string,
  onClick: (event: MouseEvent) => void,
  signal: AbortSignal,
): HTMLButtonElement {
  const el = h("button", className, { type: "button", "aria-label": label, title: label }, [text]);
  el.addEventListener("click", onClick, { signal });
  return el;
}

/** Show or hide an element without removing it (keeps focus order stable). */
export function show(el: HTMLElement, visible: boolean): void {
  if (el.hidden === visible) el.hidden = !visible;
}

/** Set text only when it changed: avoids needless DOM mutations every frame. */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** setTimeout that is cancelled when `signal` aborts (and leaves no listener behind). */
export function later(fn: () => void, ms: number, signal: AbortSignal): void {
  if (signal.aborted) return;
  const cancel = (): void => clearTimeout(timer);
  const timer = setTimeout(() => {
    signal.removeEventListener("abort", cancel);
    fn();
  }, ms);
  signal.addEventListener("abort", cancel, { once: true });
}

/** Show `text` on a button for a moment, then its own label again. */
export function flash(el: HTMLButtonElement, text: string, signal: AbortSignal): void {
  const original = el.dataset.label ?? el.textContent ?? "";
  el.dataset.label = original;
  el.textContent = text;
  later(
    () => {
      el.textContent = original;
    },
    1500,
    signal,
  );
}
