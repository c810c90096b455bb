"""Scripted replies for tests above the provider layer: exact text, failures, stalls.

:func:`script` returns a :class:`Script` whose ``model`` string makes a conversation (or a
``Chat``, or the magics) replay exact replies through the offline demo provider::

    from nbchat import testing

    s = testing.script("Hello world")                       # text, then Usage and Finish("stop")
    s = testing.script(["Hel", "lo", ServerError("boom")])  # two deltas, then the error
    s = testing.script(["Hi", testing.STALL])               # waits until the turn is stopped
    pause = testing.Pause()
    s = testing.script(["a", pause, "b"])                   # waits at pause until pause.release()
    conversation = Conversation(s.model)
    ...
    s.requests[-1].messages                                 # what the "server" was asked
    s.stalled.wait(5)                                       # a STALL or Pause was reached

A list is streamed item by item: a ``str`` is a text delta, an event is sent as is, an
exception is raised there (its ``partial`` set to the text so far), :data:`STALL` waits
until cancelled, a :class:`Pause` waits until released. A ``Finish("stop")`` is added at
the end unless the list has a ``Finish`` or raises. Request ``n`` gets reply ``n``; the last
reply repeats once the script runs out. Scripts play at full speed unless given
``tokens_per_second``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Sequence

from .providers.base import ChatRequest, Finish, StreamEvent, TextDelta, Usage

__all__ = ["STALL", "Pause", "Reply", "ReplyItem", "Script", "items", "script", "scripted"]


class _Stall:
    def __repr__(self) -> str:
        return "STALL"


#: In a scripted reply: wait here until the turn is stopped (cancelled).
STALL = _Stall()


class Pause:
    """A point in a scripted reply where the stream waits until :meth:`release` (or a stop).

    ``reached`` is set (thread-safely) when the stream arrives here.
    """

    def __init__(self) -> None:
        self.reached = threading.Event()
        self._released = False
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def release(self) -> None:
        """Let the stream go on; callable from any thread."""
        with self._lock:
            self._released = True
            waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is gone: nobody waits
                loop.call_soon_threadsafe(event.set)

    async def _wait(self) -> None:
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self._released:
                return
            self._waiters.append(waiter)
        self.reached.set()
        try:
            await waiter[1].wait()
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._waiters.remove(waiter)


ReplyItem = str | StreamEvent | BaseException | Pause | _Stall
Reply = str | BaseException | Sequence[ReplyItem]

# Kept for the process: a test may drop its Script and still use the model string.
_scripts: dict[str, Script] = {}
_script_ids = itertools.count(1)


class Script:
    """Replies a demo model gives, one per request, and the requests it received."""

    def __init__(self, replies: Sequence[Reply], *, tokens_per_second: float | None = 0) -> None:
        if not replies:
            raise ValueError("a script needs at least one reply")
        self.replies = list(replies)
        self.tokens_per_second = tokens_per_second
        self.requests: list[ChatRequest] = []
        #: Set when the stream reaches a STALL or a Pause.
        self.stalled = threading.Event()
        self.name = f"script-{next(_script_ids)}"
        _scripts[self.name] = self

    @property
    def model(self) -> str:
        """The model string to use: ``"demo:script-N"``."""
        return f"demo:{self.name}"

    def _next_reply(self, request: ChatRequest) -> Reply:
        index = min(len(self.requests), len(self.replies) - 1)
        self.requests.append(request)
        return self.replies[index]

    def __repr__(self) -> str:
        return f"<Script {self.model}: {len(self.replies)} replies, {len(self.requests)} asked>"


def script(*replies: Reply, tokens_per_second: float | None = 0) -> Script:
    """A scripted demo model for tests; see the module docstring."""
    return Script(replies, tokens_per_second=tokens_per_second)


def scripted(name: str) -> Script | None:
    """The script a demo model name (``"script-3"``) stands for, if any."""
    return _scripts.get(name)


def items(reply: Reply) -> list[ReplyItem]:
    """The items one scripted reply streams (text split in tokens, a Finish at the end)."""
    if isinstance(reply, str):
        from .providers.demo import tokenize  # the demo's own word-sized pieces

        tokens: list[ReplyItem] = [TextDelta(t) for t in tokenize(reply)]
        return [*tokens, Usage(completion_tokens=len(tokens)), Finish("stop")]
    if isinstance(reply, BaseException):
        return [reply]
    listed = list(reply)
    ends = any(isinstance(i, (Finish, BaseException)) for i in listed)
    return listed if ends else [*listed, Finish("stop")]
