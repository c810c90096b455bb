"""The one timeout helper: a reply's deadlines, enforced with asyncio rather than httpx.

A reply has two deadlines. Until its first body byte, the whole wait (sending, then
reading) is bounded by ``first_token`` seconds from the start, if set (model loads take
long, so by default it is not). After that, each wait for the next chunk is bounded by
``idle`` seconds. :meth:`Deadline.within` runs one wait under whichever applies and
raises :class:`FirstByteLate` or :class:`IdleTooLong` when it passes; the caller
(:mod:`._http`'s error table) turns those into :class:`~nbchat.errors.IdleTimeout`.

Waits are many and short (one per network read), so they do not each schedule a timer:
one timer per reply wakes at the earliest moment the current wait could be overdue, and
moves itself forward while waits keep completing. When it finds a wait overdue it
cancels the waiting task, as ``asyncio.timeout`` does (which Python 3.10 lacks), and the
wait turns that cancellation into the timeout; a cancellation that did not come from
the timer passes through untouched.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Awaitable, Callable

__all__ = ["Deadline", "DeadlinePassed", "FirstByteLate", "IdleTooLong"]

T = typing.TypeVar("T")

# Python 3.11+ counts a task's pending cancellations; 3.10 has no count to compare.
_cancelling: Callable[[asyncio.Task[typing.Any]], int] | None = getattr(
    asyncio.Task, "cancelling", None
)
_uncancel: Callable[[asyncio.Task[typing.Any]], int] | None = getattr(
    asyncio.Task, "uncancel", None
)


class DeadlinePassed(Exception):
    """A wait took longer than its deadline allowed; ``seconds`` is that allowance."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"{seconds:g} s")
        self.seconds = seconds


class FirstByteLate(DeadlinePassed):
    """No byte of the reply within ``first_token`` seconds of the start."""


class IdleTooLong(DeadlinePassed):
    """Nothing for ``idle`` seconds after the reply had started."""


class Deadline:
    """The deadlines of one reply (see the module docstring). Made on the running loop."""

    __slots__ = (
        "_cancelling",
        "_fired",
        "_loop",
        "_stopped",
        "_task",
        "_timer",
        "_timer_due",
        "_waiting_since",
        "first_token",
        "got_bytes",
        "idle",
        "started",
    )

    def __init__(self, *, first_token: float | None, idle: float | None) -> None:
        self.first_token = first_token
        self.idle = idle
        self.got_bytes = False  # set by the reader once the body has given a byte
        self._loop = asyncio.get_running_loop()
        self.started = self._loop.time()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        self._task: asyncio.Task[typing.Any] | None = None  # the task now waiting
        self._waiting_since: float | None = None  # loop time, while a wait is on
        self._cancelling = 0
        self._fired = False
        self._stopped = False

    def _due(self, since: float) -> float | None:
        """The loop time by which a wait begun at ``since`` must end (``None``: never)."""
        if self.got_bytes:
            return None if self.idle is None else since + self.idle
        return None if self.first_token is None else self.started + self.first_token

    async def within(self, aw: Awaitable[T]) -> T:
        """Await ``aw`` under the deadline that applies now."""
        now = self._loop.time()
        due = self._due(now)
        if due is None:
            return await aw
        task = self._task = asyncio.current_task()
        assert task is not None
        self._cancelling = _cancelling(task) if _cancelling is not None else 0
        self._waiting_since = now
        if self._timer is None or self._timer_due > due:
            self._arm(due)
        try:
            return await aw
        except asyncio.CancelledError:
            if self._fired and (_uncancel(task) if _uncancel else 0) <= self._cancelling:
                raise self._passed() from None
            raise
        finally:
            self._waiting_since = None

    def _arm(self, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_due = due
        self._timer = self._loop.call_at(due, self._check)

    def _check(self) -> None:
        self._timer = None
        since = self._waiting_since
        if since is None or self._stopped:
            return  # no wait is on: the next one arms the timer again
        due = self._due(since)
        if due is None:
            return
        if self._loop.time() < due:
            self._arm(due)
        elif self._task is not None:
            self._fired = True
            self._task.cancel()

    def _passed(self) -> DeadlinePassed:
        if self.got_bytes:
            return IdleTooLong(typing.cast(float, self.idle))
        return FirstByteLate(typing.cast(float, self.first_token))

    def stop(self) -> None:
        """No more waits: drop the timer."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
