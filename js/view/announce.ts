// What a screen reader hears: the boundaries of a reply, never its tokens.
//
// The transcript is a `log` with aria-live="off" (a live log would be read out at every
// streamed update); this one polite live region says instead when a reply starts, ends,
// stops or fails. `replyBoundaries` turns what the list shows (its rows, each frame) into
// those sentences; the view passes them to `say`.

import { h } from "./dom.js";
import type { Row } from "./message.js";

export const GENERATING = "Generating reply…";
export const COMPLETE = "Reply complete.";
export const STOPPED = "Stopped. The partial reply is kept.";
export const CUT_OFF = "Reply cut off at the length limit.";

export interface Announcer {
  /** The live region: visually hidden, inside the chat's root. */
  readonly el: HTMLElement;
  say(text: string): void;
}

/** One polite live region. Saying the same sentence twice is heard twice. */
export function createAnnouncer(signal: AbortSignal): Announcer {
  const el = h("div", "nbc-sr-only nbc-announcer", {
    role: "status",
    "aria-live": "polite",
    "aria-atomic": "true",
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  return {
    el,
    say(text) {
      clearTimeout(timer);
      if (el.textContent !== text) {
        el.textContent = text;
        return;
      }
      // A repeat: screen readers announce a change, so empty the region first.
      el.textContent = "";
      timer = setTimeout(() => {
        el.textContent = text;
      }, 50);
    },
  };
}

/** Call with each frame's rows; returns what to announce now (or null). A reply is
 * announced when it starts streaming, and once more when it has settled: failed (as soon
 * as the error is known), or committed, which is when a stop or a cut-off shows. */
export function replyBoundaries(): (rows: readonly Row[]) => string | null {
  let watching: string | null = null; // the reply announced as generating
  const ended = new Set<string>(); // replies whose outcome was said
  return (rows) => {
    const streaming = rows.find((r) => r.live?.phase === "streaming");
    if (streaming !== undefined && streaming.key !== watching) {
      watching = streaming.key;
      return GENERATING;
    }
    if (watching === null) {
      // A reply that started and ended between two frames (a fast failure, a busy page) was
      // never seen streaming: its outcome is still said, once.
      const quick = rows.find((r) => r.live !== null && !ended.has(r.key));
      if (quick === undefined) return null;
      watching = quick.key;
    }
    if (streaming?.key === watching) return null;
    const row = rows.find((r) => r.key === watching);
    if (row === undefined) {
      watching = null; // gone (cleared): nothing to report
      return null;
    }
    const error = row.live?.error ?? null;
    if (error !== null) {
      ended.add(row.key);
      watching = null;
      return failed(error.message, error.hint);
    }
    if (row.live !== null) return null; // finished, not yet committed: wait for the outcome
    ended.add(row.key);
    watching = null;
    const meta = row.message?.meta;
    if (meta?.error) return failed(meta.error, meta.hint ?? "");
    if (meta?.stopped) return STOPPED;
    if (meta?.finish_reason === "length") return CUT_OFF;
    return COMPLETE;
  };
}

function failed(message: string, hint: string): string {
  return `Reply failed: ${message}${hint ? ` ${hint}` : ""}`;
}
