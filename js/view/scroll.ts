// Follow the bottom of the message list while it grows, unless the user has scrolled away.
// The idea follows use-stick-to-bottom: a small threshold counts as "at the bottom"; an upward
// wheel, the user scrolling up (keys, scrollbar, touch) or a text selection in progress
// escapes; scrolling back near the bottom (or "Jump to latest") sticks again.
// A scroll nobody asked for while the content changes size (the browser clamping scrollTop
// when content briefly shrinks) is put back at the bottom; any other scroll the user did not
// make with wheel, keys or pointer (find in page, a link) is respected and unsticks.

/** Within this many pixels of the bottom counts as "at the bottom". */
export const STICK_THRESHOLD_PX = 70;
/** How long after a wheel, key or touch a scroll still counts as the user's. */
const INTENT_MS = 800;
/** How long after the content changed size a scroll counts as caused by that change. */
const RESIZE_MS = 250;
const SCROLL_KEYS = new Set(["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "]);

export interface StickToBottom {
  /** True while we follow the bottom. */
  readonly stuck: boolean;
  /** Content changed (call after each render): scroll down if stuck. Where ResizeObserver
   * exists this does nothing: its callback runs after layout, so following the bottom there
   * never forces a synchronous layout from our render. */
  contentChanged(): void;
  /** Scroll to the bottom and follow it again. */
  jumpToBottom(): void;
  /** Stop following the bottom: the chat scrolls somewhere on purpose (find). */
  release(): void;
}

export function stickToBottom(
  scroller: HTMLElement,
  content: HTMLElement,
  onChange: (stuck: boolean) => void,
  signal: AbortSignal,
): StickToBottom {
  let stuck = true;
  let lastTop = scroller.scrollTop;
  let pointerHeld = false; // scrollbar drag, text selection
  let intentUntil = 0;
  let resizedAt = Number.NEGATIVE_INFINITY;

  const distance = (): number => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  const userIsScrolling = (): boolean => pointerHeld || performance.now() < intentUntil;
  const intent = (): void => {
    intentUntil = performance.now() + INTENT_MS;
  };

  const setStuck = (value: boolean): void => {
    if (stuck === value) return;
    stuck = value;
    onChange(value);
  };

  const toBottom = (): void => {
    const top = scroller.scrollHeight - scroller.clientHeight;
    if (top > scroller.scrollTop) scroller.scrollTop = top;
    lastTop = scroller.scrollTop;
  };

  const onScroll = (): void => {
    const top = scroller.scrollTop;
    const movedUp = top < lastTop;
    lastTop = top;
    if (distance() <= STICK_THRESHOLD_PX) {
      if (!pointerHeld || !hasSelection()) setStuck(true);
    } else if (!stuck) {
      onChange(false); // still away: keep "Jump to latest" in step
    } else if (userIsScrolling()) {
      if (movedUp) setStuck(false);
    } else if (performance.now() - resizedAt < RESIZE_MS) {
      toBottom(); // moved by a change of size, not by anyone
    } else {
      setStuck(false); // find in page, a followed link: stay where it went
    }
  };

  const onWheel = (event: WheelEvent): void => {
    intent();
    if (event.deltaY < 0 && scroller.scrollHeight > scroller.clientHeight) setStuck(false);
  };
  const onKey = (event: KeyboardEvent): void => {
    if (SCROLL_KEYS.has(event.key)) intent();
  };
  const onPointerDown = (event: PointerEvent): void => {
    if (event.button === 0) pointerHeld = true;
  };
  const onPointerUp = (): void => {
    pointerHeld = false;
  };

  // Selecting text while the reply grows must not yank the page away from the selection.
  const hasSelection = (): boolean => {
    const selection = scroller.ownerDocument.getSelection();
    return (
      selection !== null &&
      !selection.isCollapsed &&
      selection.anchorNode !== null &&
      scroller.contains(selection.anchorNode)
    );
  };
  const onSelection = (): void => {
    if (pointerHeld && hasSelection()) setStuck(false);
  };

  const options = { passive: true, signal };
  scroller.addEventListener("scroll", onScroll, options);
  scroller.addEventListener("wheel", onWheel, options);
  scroller.addEventListener("touchmove", intent, options);
  scroller.addEventListener("keydown", onKey, { signal });
  scroller.addEventListener("pointerdown", onPointerDown, { signal });
  const doc = scroller.ownerDocument;
  doc.addEventListener("pointerup", onPointerUp, { signal });
  doc.addEventListener("pointercancel", onPointerUp, { signal });
  doc.addEventListener("selectionchange", onSelection, { signal });

  // Any growth (our renders, fonts, a <details> opening) resizes the content.
  const observed = typeof ResizeObserver !== "undefined";
  if (observed) {
    const observer = new ResizeObserver(() => {
      resizedAt = performance.now();
      if (stuck) toBottom();
      else onChange(false);
    });
    observer.observe(content);
    signal.addEventListener("abort", () => observer.disconnect(), { once: true });
  }

  return {
    get stuck() {
      return stuck;
    },
    contentChanged() {
      if (observed) return;
      resizedAt = performance.now();
      if (stuck) toBottom();
    },
    jumpToBottom() {
      pointerHeld = false;
      setStuck(true);
      toBottom();
    },
    release() {
      setStuck(false);
    },
  };
}

/** Whether the list is scrolled away from its bottom (drives "Jump to latest"). */
export function isAwayFromBottom(scroller: HTMLElement): boolean {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight > STICK_THRESHOLD_PX;
}
