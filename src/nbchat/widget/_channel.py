"""The kernel half of the delta channel: one chat's reply in flight, sent as coalesced deltas.

A reply can arrive at 10,000 tokens a second; the front end needs a few updates a second
and Jupyter Server drops comm messages past 1,000 a second. So the channel never sends a
message per token: text accumulates, and a delta carries everything new. When it goes out
depends on what is waiting (see :meth:`Channel._due`):

- at most once per :data:`MIN_INTERVAL` (20 a second), once :data:`MIN_UNITS` of text wait:
  a fast stream moves as smoothly as the view draws it;
- otherwise once :data:`MAX_HOLD` has passed since the last message: a slow stream sends
  fewer, fuller deltas (a delta's envelope is ~75 bytes, a token's text ~5), and no text
  waits longer than the eye would notice.

A timer sends what is pending when its time comes (the trailing flush), so nothing waits
for the next token.

A tool call's card is a ``part`` message: the text before it is flushed first, so the
part's ``at`` (its place in the text) is within what the front end holds. Parts are few
and each is news, so they are not coalesced; a snapshot carries the cards so far.

Each delta says where its text starts (``offset``, in UTF-16 units as JavaScript counts)
and numbers itself (``seq``), so a front end that missed one notices and asks for a
``snapshot``; a view that (re)connects says ``hello`` and gets one too. Bytes sent stay
proportional to the reply: each piece of text travels once, plus snapshots on request,
and a delta names only what it carries (see :class:`~nbchat._protocol.DeltaMsg`).

The channel knows nothing of widgets or threads: it calls ``send`` with a message and asks
a :class:`~._scheduler.Scheduler` for time and timers (:mod:`._scheduler`). On the kernel's
loop the scheduler is the asyncio loop itself; blocking callers use a
:class:`~._scheduler.PollingScheduler` and run due timers between events; tests drive a
:class:`~._scheduler.PollingScheduler` with a fake clock.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Callable

from ._protocol import (
    DeltaMsg,
    DoneMsg,
    ErrorMsg,
    PartEntry,
    PartMsg,
    ServerMessage,
    SnapshotMsg,
    StartMsg,
    utf16_len,
)
from ._scheduler import Scheduler, TimerHandle

__all__ = [
    "MAX_HOLD",
    "MIN_INTERVAL",
    "MIN_UNITS",
    "TOKENS_INTERVAL",
    "Channel",
    "idle_snapshot",
]

#: Least time between two messages of one reply: at most 20 a second. The view draws a
#: streaming reply at most 20 times a second (``LIVE_RENDER_MS`` in js/view/chat.ts), so
#: more deltas would not be seen apart, only paid for; and it leaves room under the
#: 30-a-second budget for the trait updates at a reply's start and end.
MIN_INTERVAL = 0.05
#: Most time pending text waits after the previous message: about what the eye notices.
MAX_HOLD = 0.1
#: Pending text (UTF-16 units) worth a delta of its own before :data:`MAX_HOLD` is up.
MIN_UNITS = 64
#: Least time between two exact token counts in deltas; the front end estimates between.
TOKENS_INTERVAL = 0.5

# A lone surrogate cannot be encoded as UTF-8, so it would break the comm's JSON.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _LiveReply:
    """What the front end has been sent of the reply in flight, and what is pending."""

    __slots__ = (
        "blocking",
        "id",
        "model",
        "parts",
        "pending_reasoning",
        "pending_text",
        "pending_units",
        "reasoning",
        "reasoning_len",
        "seq",
        "text",
        "text_len",
        "tokens",
        "tokens_sent",
        "tokens_sent_at",
    )

    def __init__(
        self, reply_id: str, model: str, text: str, reasoning: str, blocking: bool
    ) -> None:
        self.id = reply_id
        self.model = model
        self.blocking = blocking
        self.seq = 0
        self.tokens = 0
        self.tokens_sent = 0
        self.tokens_sent_at = -math.inf
        # Sent pieces are kept as lists and joined only for a snapshot, so a long reply
        # does not cost a copy of itself per delta.
        self.text: list[str] = [text] if text else []
        self.reasoning: list[str] = [reasoning] if reasoning else []
        self.text_len = utf16_len(text)
        self.reasoning_len = utf16_len(reasoning)
        self.pending_text: list[str] = []
        self.pending_reasoning: list[str] = []
        self.pending_units = 0
        self.parts: dict[str, PartEntry] = {}  # by "<type>:<call id>", in order

    def take_pending(self) -> tuple[str, str]:
        """The pending text and reasoning, now counted as sent."""
        text, reasoning = "".join(self.pending_text), "".join(self.pending_reasoning)
        self.pending_text.clear()
        self.pending_reasoning.clear()
        self.pending_units = 0
        if text:
            self.text.append(text)
            self.text_len += utf16_len(text)
        if reasoning:
            self.reasoning.append(reasoning)
            self.reasoning_len += utf16_len(reasoning)
        return text, reasoning


class Channel:
    """Sends one reply at a time: ``start``, coalesced ``delta``\\ s, then ``done`` or ``error``.

    Every message after ``start`` takes the next ``seq`` (deltas, snapshots, ``done``);
    ``error`` ends a reply instead of ``done``. Snapshots answer :meth:`request_snapshot`
    and are rate-limited like deltas, so a front end asking too often cannot make the
    traffic grow with the square of the reply.
    """

    def __init__(
        self,
        send: Callable[[ServerMessage], None],
        scheduler: Scheduler,
        *,
        interval: float = MIN_INTERVAL,
    ) -> None:
        self._send = send
        self._scheduler = scheduler
        self._interval = interval
        self._hold = max(MAX_HOLD, interval)
        self._reply: _LiveReply | None = None
        self._last_sent = -math.inf
        self._timer: TimerHandle | None = None
        self._timer_due = math.inf
        self._snapshot_wanted = False

    @property
    def reply_id(self) -> str | None:
        """Id of the reply in flight, or ``None``."""
        return None if self._reply is None else self._reply.id

    @property
    def scheduler(self) -> Scheduler:
        return self._scheduler

    def start(
        self,
        reply_id: str,
        *,
        model: str,
        text: str = "",
        reasoning: str = "",
        blocking: bool = False,
    ) -> None:
        """Open a reply; ``text``/``reasoning`` are what a continued reply already has;
        ``blocking``: the turn holds its cell, so the front end cannot stop it."""
        if self._reply is not None:
            raise RuntimeError(f"reply {self._reply.id} is still in flight")
        text, reasoning = _clean(text), _clean(reasoning)
        self._reply = _LiveReply(reply_id, model, text, reasoning, blocking)
        self._snapshot_wanted = False
        self._emit(
            StartMsg(
                kind="start",
                id=reply_id,
                text=text,
                reasoning=reasoning,
                model=model,
                blocking=blocking,
            )
        )

    def add_text(self, text: str) -> None:
        """Append a piece of the reply; it goes out with the next flush."""
        self._add(text, reasoning=False)

    def add_reasoning(self, text: str) -> None:
        """Append a piece of the model's reasoning."""
        self._add(text, reasoning=True)

    def add_part(self, at: int, part: dict[str, typing.Any]) -> None:
        """A tool call's card changed: send it now, after the text before it."""
        reply = self._reply
        if reply is None:
            raise RuntimeError("no reply in flight")
        self._cancel_timer()
        self._flush()
        entry = PartEntry(at=at, part=part)
        kind = part.get("type")
        call = part.get("id") if kind == "tool_call" else part.get("call_id")
        reply.parts[f"{kind}:{call}"] = entry
        reply.seq += 1
        self._emit(PartMsg(kind="part", id=reply.id, seq=reply.seq, at=at, part=part))

    def request_snapshot(self) -> None:
        """A view (re)connected or lost a delta: send the whole reply so far, soon."""
        if self._reply is None:
            self._emit(idle_snapshot())
            return
        self._snapshot_wanted = True
        self._arm()

    def flush(self) -> None:
        """Send what is pending now, whatever the rate (the reply is about to end)."""
        self._cancel_timer()
        self._flush()

    def done(self) -> None:
        """End the reply normally (finished or stopped): the tail, then ``done``."""
        reply = self._end()
        if reply is not None:
            reply.seq += 1
            self._emit(DoneMsg(kind="done", id=reply.id, seq=reply.seq))

    def fail(self, message: str, hint: str) -> None:
        """End the reply with an error: the tail, then ``error``."""
        reply = self._end()
        if reply is not None:
            self._emit(ErrorMsg(kind="error", id=reply.id, message=message, hint=hint))

    def close(self) -> None:
        """Forget the reply in flight without sending anything more."""
        self._cancel_timer()
        self._reply = None

    # -----------------------------------------------------------------------------------

    def _add(self, text: str, *, reasoning: bool) -> None:
        reply = self._reply
        if reply is None:
            raise RuntimeError("no reply in flight")
        reply.tokens += 1
        if not text:
            return  # a count only: it rides with the next text, or the committed message
        text = _clean(text)
        (reply.pending_reasoning if reasoning else reply.pending_text).append(text)
        reply.pending_units += utf16_len(text)
        self._arm()

    def _due(self, reply: _LiveReply) -> float:
        """When what is pending may go out: soon if it is worth a message, else later."""
        if self._snapshot_wanted or reply.pending_units >= MIN_UNITS:
            return self._last_sent + self._interval
        return self._last_sent + self._hold

    def _arm(self) -> None:
        """Flush now if what is pending is due, else have a timer do it when it is."""
        reply = self._reply
        if reply is None:
            return
        due = self._due(reply)
        now = self._scheduler.time()
        if due <= now:
            self._cancel_timer()
            self._flush()
        elif due < self._timer_due:  # no timer yet, or one set for a later time
            self._cancel_timer()
            self._timer = self._scheduler.call_later(due - now, self._on_timer)
            self._timer_due = due

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_due = math.inf
        self._flush()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_due = math.inf

    def _flush(self) -> None:
        reply = self._reply
        if reply is None:
            return
        if self._snapshot_wanted:
            self._snapshot_wanted = False
            self._send_snapshot(reply)
            return
        if not reply.pending_text and not reply.pending_reasoning:
            return
        offset, reasoning_offset = reply.text_len, reply.reasoning_len
        text, reasoning = reply.take_pending()
        reply.seq += 1
        msg = DeltaMsg(kind="delta", id=reply.id, seq=reply.seq)
        # Only what this delta carries: the envelope is most of a slow stream's bytes.
        if text:
            msg["offset"], msg["text"] = offset, text
        if reasoning:
            msg["reasoning_offset"], msg["reasoning"] = reasoning_offset, reasoning
        now = self._scheduler.time()
        if reply.tokens != reply.tokens_sent and now - reply.tokens_sent_at >= TOKENS_INTERVAL:
            msg["tokens"] = reply.tokens
            reply.tokens_sent, reply.tokens_sent_at = reply.tokens, now
        self._emit(msg)

    def _send_snapshot(self, reply: _LiveReply) -> None:
        # The snapshot carries the pending pieces too, so it also counts as a flush.
        reply.take_pending()
        full_text, full_reasoning = "".join(reply.text), "".join(reply.reasoning)
        reply.text, reply.reasoning = [full_text], [full_reasoning]
        reply.seq += 1
        reply.tokens_sent, reply.tokens_sent_at = reply.tokens, self._scheduler.time()
        snapshot = SnapshotMsg(
            kind="snapshot",
            id=reply.id,
            seq=reply.seq,
            text=full_text,
            reasoning=full_reasoning,
            model=reply.model,
            tokens=reply.tokens,
            blocking=reply.blocking,
        )
        if reply.parts:
            snapshot["parts"] = list(reply.parts.values())
        self._emit(snapshot)

    def _end(self) -> _LiveReply | None:
        self._cancel_timer()
        reply = self._reply
        if reply is not None and self._snapshot_wanted:
            self._snapshot_wanted = False  # the committed message will answer it
        self._flush()
        self._reply = None
        return reply

    def _emit(self, msg: ServerMessage) -> None:
        self._last_sent = self._scheduler.time()
        self._send(msg)


def idle_snapshot() -> SnapshotMsg:
    """The answer to a view's hello when no reply is in flight."""
    return SnapshotMsg(
        kind="snapshot", id=None, seq=0, text="", reasoning="", model="", tokens=0, blocking=False
    )


def _clean(text: str) -> str:
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text
