"""Time and timers for a delta channel, on whichever thread runs it.

A :class:`~._channel.Channel` asks a :class:`Scheduler` for the time and for timers (its
trailing flush). An :class:`asyncio.AbstractEventLoop` is one: a turn run from the UI uses
the kernel's loop. A blocking caller has no loop running on its thread, so it uses a
:class:`PollingScheduler`: it waits for its next event at most :meth:`~PollingScheduler.timeout`
seconds and then runs the timers due. Tests drive one with a fake clock.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Callable

__all__ = ["PollingScheduler", "Scheduler", "TimerHandle"]


class TimerHandle(typing.Protocol):
    def cancel(self) -> None: ...


class Scheduler(typing.Protocol):
    """Time and timers; an :class:`asyncio.AbstractEventLoop` is one."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle: ...


class _Timer:
    __slots__ = ("callback", "cancelled", "deadline")

    def __init__(self, deadline: float, callback: Callable[[], object]) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class PollingScheduler:
    """Timers that run when the owner asks: for loops that block between events.

    The owner waits for its next event at most :meth:`timeout` seconds, then calls
    :meth:`run_due`. Everything happens on the owner's thread.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._timers: list[_Timer] = []

    def time(self) -> float:
        return self._clock()

    def call_later(self, delay: float, callback: Callable[[], object]) -> _Timer:
        timer = _Timer(self._clock() + max(delay, 0.0), callback)
        self._timers.append(timer)
        return timer

    def timeout(self) -> float | None:
        """Seconds until the next timer is due (0 if one is), or ``None`` if none is set."""
        self._timers = [t for t in self._timers if not t.cancelled]
        if not self._timers:
            return None
        return max(min(t.deadline for t in self._timers) - self._clock(), 0.0)

    def run_due(self) -> None:
        """Run every timer whose deadline has passed, earliest first."""
        now = self._clock()
        due = sorted(
            (t for t in self._timers if not t.cancelled and t.deadline <= now),
            key=lambda t: t.deadline,
        )
        self._timers = [t for t in self._timers if not t.cancelled and t.deadline > now]
        for timer in due:
            if not timer.cancelled:
                timer.callback()
