"""Approval from the widget: a waiting tool call's card answers it.

The turn asks :class:`CardAsker` about the calls of one step and waits; each card's
**Allow**, **Deny** or **Always allow** comes back as an ``approve`` message, which
:meth:`CardAsker.answer` hands to the waiting turn. This works while the kernel delivers
widget messages: for a turn started from the widget (a task on the kernel's loop) and
during ``await chat.ask_async(…)`` (ipykernel delivers comm messages while a cell awaits).
A blocking ``chat.ask`` asks on stdin instead (:class:`~nbchat.tools.StdinAsker`).

A Stop while waiting cancels the wait: the calls are then declined, not run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from ..tools import Decision, PendingCall

__all__ = ["CardAsker"]


class CardAsker:
    """Waits for each card's answer, on the loop the turn runs on."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[Decision]] = {}

    @property
    def waiting(self) -> list[str]:
        """Ids of the calls waiting for an answer."""
        return [k for k, f in self._waiting.items() if not f.done()]

    async def ask(self, calls: Sequence[PendingCall]) -> list[Decision]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in calls]
        for call, future in zip(calls, futures, strict=True):
            self._waiting[call.id] = future
        try:
            # All of them before any runs: the user may answer in any order.
            return list(await asyncio.gather(*futures))
        finally:
            for call, future in zip(calls, futures, strict=True):
                future.cancel()
                self._waiting.pop(call.id, None)

    def answer(self, call_id: str, decision: Decision) -> bool:
        """The user's answer for ``call_id``; ``False`` if nothing waits for it (a card
        answered twice, or after the reply ended)."""
        future = self._waiting.get(call_id)
        if future is None or future.done():
            return False
        loop = future.get_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            future.set_result(decision)
        else:  # a message handled on another thread than the turn's loop
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, decision)
        return True


def _settle(future: asyncio.Future[Decision], decision: Decision) -> None:
    if not future.done():
        future.set_result(decision)
