"""Running a chat's turns: one at a time, shown as they start, stream and end.

Two ways a turn runs:

- **From the UI** (``submit``, ``regenerate``, …): as an asyncio task on the kernel's loop,
  so the cell is free and a ``stop`` message reaches us while the reply streams.
- **From code** (``chat.ask``): the calling thread waits for events and sends them on
  itself (ipykernel 7 does not like widget updates from other threads); the provider runs
  on nbchat's worker loop, through the one bridge in :mod:`nbchat._worker`, and the delta
  channel's timers run on the calling thread between events. Such a turn holds its cell,
  and the kernel delivers no widget message until the cell ends, so its ``start`` says
  ``blocking``: the view offers no Stop then, only how to interrupt the kernel.

Tool calls show as cards (``part`` messages). Who approves them: the cards for a UI turn
and for ``ask_async`` once a front end has said hello (:mod:`._approvals`); the cell's
stdin for a blocking ``ask`` (the kernel delivers no widget messages while its cell runs).

Either way a turn starts the same way (the history as the turn sees it and ``streaming``
in one update, then ``start``) and ends the same way: the tail of the text, then the
committed messages and ``status`` in one update, then ``done`` (or ``error``). Each update
carries only the messages that changed (:mod:`._history`), so a turn costs the same bytes
however long the conversation is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing
from collections.abc import Callable

from .. import _worker
from ..errors import ConversationBusy, NbchatError
from ..messages import Message
from ..providers.base import ReasoningDelta, TextDelta
from ..session import Conversation, ToolUpdate, Turn, TurnEvent
from ..tools import Decision
from ._approvals import CardAsker
from ._channel import MIN_INTERVAL, Channel
from ._scheduler import PollingScheduler, Scheduler

if typing.TYPE_CHECKING:
    from . import Chat

__all__ = ["BUG_HINT", "Turns", "feed", "tree_during", "unexpected"]

_log = logging.getLogger(__name__)  # nbchat.widget holds its NullHandler

BUG_HINT = "This is a bug in nbchat; the conversation so far is kept."


class Turns:
    """The turns of one :class:`~nbchat.widget.Chat`: at most one in flight."""

    def __init__(self, chat: Chat) -> None:
        self._chat = chat
        self.current: Turn | None = None  # the turn in flight
        self.channel: Channel | None = None  # its reply's delta channel, once shown
        self._task: asyncio.Task[NbchatError | None] | None = None  # a UI turn's task
        # Least time between two deltas of this chat's replies; a comparison of N models
        # raises it N-fold, so its N chats together send no more than one chat does.
        self.interval = MIN_INTERVAL

        self.cards = CardAsker()  # answers from the tool cards
        self.front_end = False  # a view has said hello: someone can answer a card

    def claim(self, make_turn: Callable[[], Turn]) -> Turn:
        """Create the turn (the conversation validates input here), one at a time."""
        if self.current is not None:
            raise ConversationBusy("A reply is still streaming in this chat.")
        turn = make_turn()
        self.current = turn
        return turn

    def stop(self) -> None:
        """Stop the turn in flight, if any."""
        if self.current is not None:
            self.current.stop()

    def approve(self, call_id: str, decision: Decision) -> bool:
        """A card's answer; ``False`` if no call waits for it."""
        return self.cards.answer(call_id, decision)

    # -- the two ways a turn runs ------------------------------------------------------

    def start_from_ui(self, make_turn: Callable[[], Turn], prompt: str | None = None) -> None:
        """Start a turn for a front-end command, as a task on the kernel's loop."""
        turn = self.claim(make_turn)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:  # no event loop (not a kernel): run it here, to the end
            self.run_blocking(turn, prompt=prompt)
            return
        turn.asker = self.cards
        turn.capture = True  # no cell to print into
        # Shown as started at once; the stream itself runs in a task on the kernel's loop.
        channel = self.open(turn, loop, prompt)
        self._task = loop.create_task(self._run_async(turn, channel))
        self._task.add_done_callback(_log_task_failure)

    async def run_here(self, turn: Turn, prompt: str | None) -> NbchatError | None:
        """Stream ``turn`` on the running loop (``ask_async``); its error, if it failed."""
        if self.front_end:  # the kernel delivers card answers while a cell awaits
            turn.asker = self.cards
        channel = self.open(turn, asyncio.get_running_loop(), prompt)
        return await self._run_async(turn, channel)

    def run_blocking(self, turn: Turn, prompt: str | None) -> NbchatError | None:
        """Stream ``turn`` from this thread (``ask``); its error, if it failed."""
        scheduler = PollingScheduler()
        channel = self.open(turn, scheduler, prompt, blocking=True)
        error: NbchatError | None = None
        try:
            for event in _worker.iterate(turn.__aiter__, cancel=turn.stop, timers=scheduler):
                feed(channel, event)
        except NbchatError as exc:
            error = exc
        except Exception as exc:
            error = unexpected(exc)
        except BaseException:
            # A kernel interrupt, wherever it lands once the turn is shown: the bridge has
            # stopped the reply and waited for it to be recorded as stopped; show that.
            self.finish(channel, None)
            raise
        self.finish(channel, error)
        return error

    async def _run_async(self, turn: Turn, channel: Channel) -> NbchatError | None:
        error: NbchatError | None = None
        try:
            async for event in turn:
                feed(channel, event)
        except NbchatError as exc:
            error = exc
        except asyncio.CancelledError:
            turn.stop()
            self.finish(channel, None)
            raise
        except Exception as exc:
            error = unexpected(exc)
        self.finish(channel, error)
        return error

    # -- start and end -------------------------------------------------------------------

    def open(
        self, turn: Turn, scheduler: Scheduler, prompt: str | None, *, blocking: bool = False
    ) -> Channel:
        chat = self._chat
        try:
            tree, leaf = tree_during(chat.conversation, turn)
            chat._publish(tree, leaf, status="streaming")
            channel = Channel(chat._send_custom, scheduler, interval=self.interval)
            channel.start(
                turn.id,
                model=turn.model,
                text=turn.text,
                reasoning=turn.reasoning,
                blocking=blocking,
            )
        except BaseException:
            # Never started (an interrupt, a closed comm): do not leave the chat busy.
            self.current = None
            turn.stop()
            with contextlib.suppress(Exception):
                chat._publish_committed(status="idle")
            raise
        self.channel = channel
        return channel

    def finish(self, channel: Channel, error: NbchatError | None) -> None:
        chat = self._chat
        channel.flush()
        self.channel = None
        self.current = None
        chat._publish_committed(status="idle" if error is None else "error")
        if error is None:
            channel.done()
        else:
            channel.fail(*chat._redacted(error))
        chat._refresh_static()
        chat._send_notices()  # e.g. the file could not be saved


def feed(channel: Channel, event: TurnEvent) -> None:
    """Pass one stream event on to the reply's delta channel."""
    if isinstance(event, TextDelta):
        channel.add_text(event.text)
    elif isinstance(event, ReasoningDelta):
        channel.add_reasoning(event.text)
    elif isinstance(event, ToolUpdate):
        call = {**event.call, "status": event.status, "always_ask": event.always_ask}
        channel.add_part(event.at, call)
        if event.result is not None:
            channel.add_part(event.at, dict(event.result))


def unexpected(exc: Exception) -> NbchatError:
    _log.error("nbchat: the reply failed unexpectedly", exc_info=exc)
    return NbchatError(f"The reply failed: {type(exc).__name__}.", hint=BUG_HINT)


def _log_task_failure(task: asyncio.Task[NbchatError | None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.error("nbchat: a turn task failed", exc_info=task.exception())


def tree_during(conversation: Conversation, turn: Turn) -> tuple[list[Message], str]:
    """The messages the widget holds while ``turn`` streams, and the leaf of the branch on
    screen: every committed message (the whole tree), plus the turn's new prompt, and the
    branch ending where the turn's reply will go — after its prompt (a new question, or an
    edited one beside the question it replaces), or after the question a regenerated or
    continued reply answers. The reply itself is drawn live until it ends."""
    tree = list(conversation.tree)
    user = turn.user_message
    if user is not None:
        tree.append(user)
        return tree, user["id"]
    return tree, turn.message.get("parent") or ""
