// The notice under the toolbar: a one-line message from the kernel (a refused command, a
// failure with no reply to show it on) and its hint, shown for a few seconds or until
// dismissed. Each notice carries a sequence number, so the same text twice shows twice and a
// redraw never shows one again.

import type { Notice } from "../channel.js";
import { button, h, setText, show } from "./dom.js";

const NOTICE_MS = 8000;

export interface NoticeBar {
  readonly el: HTMLElement;
  /** Show `notice` if it is one not shown yet. */
  draw(notice: Notice | null): void;
}

/** `seen` is the notice already there when the view opens: it was shown by another view. */
export function createNotice(seen: Notice | null, signal: AbortSignal): NoticeBar {
  const noticeText = h("span", "nbc-notice-text");
  const noticeHint = h("span", "nbc-notice-hint");
  const notice = h("div", "nbc-notice", { role: "status", "aria-live": "polite" }, [
    noticeText,
    noticeHint,
    button("nbc-notice-close", "Dismiss", "×", () => show(notice, false), signal),
  ]);
  show(notice, false);
  let noticeSeq = seen?.seq ?? 0;
  let noticeTimer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener("abort", () => clearTimeout(noticeTimer), { once: true });

  const draw = (next: Notice | null): void => {
    if (next !== null && next.seq !== noticeSeq) {
      noticeSeq = next.seq;
      setText(noticeText, next.text);
      setText(noticeHint, next.hint);
      show(noticeHint, next.hint !== "");
      show(notice, true);
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => show(notice, false), NOTICE_MS);
    }
  };

  return { el: notice, draw };
}
