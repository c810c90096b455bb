"""Several chats' turns at once, from code: one request per chat, all started together.

``Chat.ask`` streams one turn on nbchat's worker loop and sends its deltas from the calling
thread (see :mod:`._turns`). :func:`run_together` does the same for N turns: the worker
loop runs them side by side and hands back one stream of ``(column, event)`` pairs; one
:class:`~._scheduler.PollingScheduler` drives the N delta channels, so every comm message
still goes out from the calling thread, as ipykernel wants. No thread of its own.

A turn that fails ends its own column only: its error is returned, the others stream on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import typing
from collections.abc import AsyncIterator, Callable

from .. import _worker
from ..errors import NbchatError
from ..session import Turn, TurnEvent
from ._channel import Channel
from ._scheduler import PollingScheduler
from ._turns import feed, unexpected

if typing.TYPE_CHECKING:
    from . import Chat

__all__ = ["Job", "run_together"]


@dataclasses.dataclass
class Job:
    """One column's turn: the chat that shows it, the claimed turn and its prompt."""

    chat: Chat
    turn: Turn
    prompt: str | None


# (column, event) while a turn streams; (column, None, error or None) once it has ended.
_Item = tuple[int, TurnEvent | None, NbchatError | None]


async def _merged(turns: list[Turn]) -> AsyncIterator[_Item]:
    """Stream ``turns`` concurrently on this loop, as one sequence of tagged items."""
    items: asyncio.Queue[_Item] = asyncio.Queue()

    async def pump(column: int, turn: Turn) -> None:
        error: NbchatError | None = None
        try:
            async for event in turn:
                items.put_nowait((column, event, None))
        except NbchatError as exc:
            error = exc
        except Exception as exc:
            error = unexpected(exc)
        items.put_nowait((column, None, error))

    tasks = [asyncio.ensure_future(pump(i, turn)) for i, turn in enumerate(turns)]
    try:
        left = len(turns)
        while left:
            item = await items.get()
            if item[1] is None:
                left -= 1
            yield item
    finally:
        for turn in turns:
            turn.stop()  # a no-op for a turn that has ended
        await asyncio.gather(*tasks, return_exceptions=True)


def run_together(
    jobs: list[Job], on_end: Callable[[int], None] | None = None
) -> list[NbchatError | None]:
    """Stream every job's turn into its chat at once; each one's error (``None``: ended
    well or stopped). ``on_end(i)`` runs as column ``i`` ends. A kernel interrupt stops
    them all (each keeps its partial text, marked stopped) and propagates."""
    scheduler = PollingScheduler()
    channels: list[Channel] = []
    try:
        for job in jobs:
            channels.append(job.chat._turns.open(job.turn, scheduler, job.prompt, blocking=True))
    except BaseException:
        for i, job in enumerate(jobs):
            job.turn.stop()
            if i < len(channels):
                job.chat._turns.finish(channels[i], None)
            elif job.chat._turns.current is job.turn:
                job.chat._turns.current = None
        raise
    turns = [job.turn for job in jobs]
    errors: list[NbchatError | None] = [None] * len(jobs)
    running = set(range(len(jobs)))

    def stop_all() -> None:
        for turn in turns:
            turn.stop()

    try:
        for column, event, error in _worker.iterate(
            lambda: _merged(turns), cancel=stop_all, timers=scheduler
        ):
            if event is not None:
                feed(channels[column], event)
                continue
            errors[column] = error
            running.discard(column)
            jobs[column].chat._turns.finish(channels[column], error)
            if on_end is not None:
                on_end(column)
    except BaseException:
        # The bridge has stopped every turn and waited for each to be recorded; show that.
        for column in sorted(running):
            jobs[column].chat._turns.finish(channels[column], None)
        raise
    return errors
