// What a screen reader hears: the boundaries of a reply, never its tokens.
//
// The transcript is a `log` with aria-live="off" (a live log would be read out at every
// streamed update); this one polite live region says instead when a reply starts, ends,
// stops or fails. `replyBoundaries` turns what the list shows (its rows, each frame) into
// those sentences; the view passes them to `say`.

import type { LiveReply } from "../channel.js";
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

/** What `replyBoundaries` returns: call it with each frame's rows; it returns what to
 * announce now (or null). Call `saw` with the live replies at every store change, between
 * frames: a reply can start and settle before any frame shows it (a fast failure on a busy
 * page, when the kernel's start, deltas, error and commit arrive together). */
export interface Boundaries {
  (rows: readonly Row[]): string | null;
  saw(replies: readonly LiveReply[]): void;
}

/** A reply is announced when it starts streaming, and once more when it has settled: failed
 * (as soon as the error is known), or committed, which is when a stop or a cut-off shows. */
export function replyBoundaries(): Boundaries {
  let watching: string | null = null; // the reply announced as generating
  const ended = new Set<string>(); // replies whose outcome was said
  // Replies seen live between frames and not yet judged: kept until their row says how they
  // ended, so one that settled before a frame showed it is still announced, once.
  const unjudged = new Set<string>();
  const judge = (rows: readonly Row[]): string | null => {
    const streaming = rows.find((r) => r.live?.phase === "streaming");
    if (streaming !== undefined && streaming.key !== watching) {
      watching = streaming.key;
      return GENERATING;
    }
    if (watching === null) {
      // A reply that started and ended between two frames was never seen streaming: its
      // outcome is still said, once.
      const quick = rows.find((r) => (r.live !== null || unjudged.has(r.key)) && !ended.has(r.key));
      if (quick === undefined) {
        unjudged.clear(); // gone (cleared, another branch): nothing to report
        return null;
      }
      watching = quick.key;
    }
    if (streaming?.key === watching) return null;
    const row = rows.find((r) => r.key === watching);
    if (row === undefined) {
      unjudged.delete(watching);
      watching = null; // gone (cleared): nothing to report
      return null;
    }
    const error = row.live?.error ?? null;
    if (error !== null) return settled(row.key, failed(error.message, error.hint));
    if (row.live !== null) return null; // finished, not yet committed: wait for the outcome
    const meta = row.message?.meta;
    if (meta?.error) return settled(row.key, failed(meta.error, meta.hint ?? ""));
    if (meta?.stopped) return settled(row.key, STOPPED);
    if (meta?.finish_reason === "length") return settled(row.key, CUT_OFF);
    return settled(row.key, COMPLETE);
  };
  const settled = (key: string, said: string): string => {
    ended.add(key);
    unjudged.delete(key);
    watching = null;
    return said;
  };
  return Object.assign(judge, {
    saw(replies: readonly LiveReply[]) {
      for (const reply of replies) if (!ended.has(reply.id)) unjudged.add(reply.id);
    },
  });
}

function failed(message: string, hint: string): string {
  return `Reply failed: ${message}${hint ? ` ${hint}` : ""}`;
}
