"""Turn: one reply being produced — streamed, stopped, recorded. See :mod:`nbchat.session`."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import threading
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Iterator

from .. import _worker
from ..errors import InvalidRequest, NbchatError, redact_error
from ..messages import Message, MessageMeta, new_id
from ..providers.base import (
    ChatRequest,
    Finish,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    WireMessage,
)
from ..tools import Asker
from ._body import ReplyBody
from ._loop import ToolLoop, ToolUpdate
from ._tally import Tally

if typing.TYPE_CHECKING:
    from .conversation import Conversation

__all__ = ["Turn", "TurnAction", "TurnEvent", "TurnStatus"]

TurnStatus = typing.Literal["pending", "streaming", "done", "stopped", "error"]
TurnAction = typing.Literal["prompt", "regenerate", "resume", "edit"]
#: What a turn streams: the provider's events, and a tool call's card changing.
TurnEvent = StreamEvent | ToolUpdate


class _State(enum.Enum):
    """Where a turn is in its life; :data:`_MOVES` says where it can go from each."""

    PENDING = enum.auto()  # made, not iterated: nothing sent
    HALTED = enum.auto()  # stopped before it started: sends nothing; iterated, ends at once
    CLAIMED = enum.auto()  # being iterated; the stream has not started
    STREAMING = enum.auto()  # the stream runs (``_task`` on ``_loop``)
    STOPPING = enum.auto()  # a stop is on its way: the stream is cancelled, or never starts
    CLOSING = enum.auto()  # the stream is cleaning up (closing the response): no more cancels
    DONE = enum.auto()  # recorded, complete
    STOPPED = enum.auto()  # recorded, stopped
    FAILED = enum.auto()  # recorded, with its error


#: Every legal move. The three recorded states are final: a move out of one is ignored
#: (two endings can race: a stream finishing as an interrupted caller gives up waiting).
_MOVES: dict[_State, frozenset[_State]] = {
    _State.PENDING: frozenset({_State.HALTED, _State.CLAIMED}),
    _State.HALTED: frozenset({_State.STOPPING}),  # iterated after all
    _State.CLAIMED: frozenset({_State.STREAMING, _State.STOPPING, _State.STOPPED}),
    _State.STREAMING: frozenset({_State.STOPPING, _State.CLOSING, _State.STOPPED}),
    _State.STOPPING: frozenset({_State.CLOSING, _State.STOPPED}),
    _State.CLOSING: frozenset({_State.DONE, _State.STOPPED, _State.FAILED}),
    _State.DONE: frozenset(),
    _State.STOPPED: frozenset(),
    _State.FAILED: frozenset(),
}
_FINAL = frozenset({_State.DONE, _State.STOPPED, _State.FAILED})
#: What callers see of each state.
_STATUS: dict[_State, TurnStatus] = {
    _State.PENDING: "pending",
    _State.HALTED: "stopped",
    _State.CLAIMED: "streaming",
    _State.STREAMING: "streaming",
    _State.STOPPING: "streaming",
    _State.CLOSING: "streaming",
    _State.DONE: "done",
    _State.STOPPED: "stopped",
    _State.FAILED: "error",
}
_OUTCOME: dict[TurnStatus, _State] = {
    "done": _State.DONE,
    "stopped": _State.STOPPED,
    "error": _State.FAILED,
}


class Turn:
    """One reply being produced; iterate it to stream, ``result()`` to wait for it."""

    id: str  # the id the assistant message has in ``Conversation.messages``
    action: TurnAction
    model: str  # "provider:name"
    finish_reason: str | None
    error: NbchatError | None
    tool_calls: list[ToolCall]  # as the model asked for them (run only with tools registered)
    #: Who answers "may this tool run?" when the policy asks the user (the widget sets
    #: its cards); ``None``: the cell's stdin where there is one, else nobody (a no).
    asker: Asker | None
    #: Keep what tools print and draw for their cards (a turn started from the widget
    #: has no cell for it to go to).
    capture: bool

    def __init__(
        self,
        conversation: Conversation,
        *,
        action: TurnAction,
        wire: list[WireMessage],
        options: dict[str, object],
        user_message: Message | None,
        parent: str | None,
        base: Message | None = None,
    ) -> None:
        if base is not None:
            self.id = base["id"]
        else:
            taken = set(conversation._tree.ids())
            if user_message is not None:
                taken.add(user_message["id"])
            self.id = new_id(taken)
        self.action = action
        self.model = conversation.model
        self.finish_reason = None
        self.error = None
        self.tool_calls = []
        self.asker = None
        self.capture = False
        self._conversation = conversation
        self._provider = conversation.provider
        self._label = conversation.resolution.label
        self._wire = wire  # the history before this reply, as the model reads it
        self._body = ReplyBody(base)  # a continued reply goes on from what it said
        self._request = ChatRequest(
            model=conversation.resolution.model,
            messages=[*wire, *self._body.wire()],
            options=options,
            tools=conversation.tools.specs(),
        )
        self._user_message = user_message
        self._parent = parent  # the id of the message the reply follows
        self._tally = Tally(
            copy.deepcopy(base.get("meta", MessageMeta())) if base else MessageMeta()
        )
        self._version = conversation._version
        self._events: list[TurnEvent] = []
        self._lock = threading.Lock()  # guards _state and the moves out of it
        self._state = _State.PENDING
        self._owner: object | None = None  # the iteration that claimed the turn
        self._task: asyncio.Task[typing.Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- state --------------------------------------------------------------------------

    @property
    def status(self) -> TurnStatus:
        """``pending``, ``streaming``, then ``done``, ``stopped`` or ``error``."""
        return _STATUS[self._state]

    @property
    def _finished(self) -> bool:
        return self._state in _FINAL

    def _move(self, to: _State) -> bool:
        """Go to ``to`` (the caller holds the lock); ``False`` if the turn was recorded
        already. Any other move not in :data:`_MOVES` is a bug in this module."""
        if self._state in _FINAL:
            return False
        if to not in _MOVES[self._state]:
            raise RuntimeError(f"nbchat: a turn cannot go from {self._state.name} to {to.name}")
        self._state = to
        return True

    @property
    def text(self) -> str:
        """The reply so far (a resumed reply includes its earlier part)."""
        return self._body.text

    @property
    def reasoning(self) -> str:
        """The model's reasoning so far, apart from the text."""
        return self._body.reasoning

    @property
    def user_message(self) -> Message | None:
        """The user message this turn answers, for ``prompt`` and ``edit`` (else ``None``)."""
        return copy.deepcopy(self._user_message)

    @property
    def request(self) -> ChatRequest:
        """What is (or will be) sent: model name, wire messages, validated options, tools
        (the last request, after the first step of a reply that called tools)."""
        return self._request

    @property
    def message(self) -> Message:
        """The assistant message: as recorded, or as it stands while streaming."""
        message: Message = {
            "id": self.id,
            "role": "assistant",
            "content": self.text,
            "parent": self._parent,
        }
        if self.reasoning:
            message["reasoning"] = self.reasoning
        parts = self._body.parts()
        if parts is not None:
            message["parts"] = parts
        message["meta"] = self._meta()
        return message

    @property
    def usage(self) -> Usage | None:
        """The server's token counts and timings, if it sent any."""
        return self._tally.usage

    def _meta(self) -> MessageMeta:
        meta: MessageMeta = {"model": self.model, "provider": self._label}
        meta.update(self._tally.meta(ended=self._finished))
        if self._finished:
            meta["finish_reason"] = self.finish_reason if self.status == "done" else None
            meta["stopped"] = self.status == "stopped"
            if self.error is not None:
                meta["error"] = self.error.message
                if self.error.hint:
                    meta["hint"] = self.error.hint
        return meta

    # -- control ------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the reply (thread-safe); the partial text is kept, marked stopped.

        A turn not started yet becomes ``stopped`` and sends nothing. If it is iterated
        after all, it ends at once and is recorded (the prompt, and an empty reply marked
        stopped): a Stop that lands before a turn's first step must not lose the prompt.
        A turn never iterated records nothing.
        """
        with self._lock:
            state = self._state
            if state is _State.PENDING:
                self._move(_State.HALTED)
            elif state in (_State.CLAIMED, _State.STREAMING):
                self._move(_State.STOPPING)  # _run, starting, sees this and sends nothing
            loop = self._loop
            if state is not _State.STREAMING or loop is None:
                return
        with contextlib.suppress(RuntimeError):  # that loop is closed: nothing runs there
            loop.call_soon_threadsafe(self._cancel_now)

    def _cancel_now(self) -> None:
        # On the turn's loop, so the task is suspended right now: inside the provider while
        # streaming, or in cleanup (CLOSING) — which a cancel must not cut short.
        task = self._task
        if task is not None and self._state is _State.STOPPING and not task.done():
            task.cancel()

    def _claim(self, owner: object) -> bool:
        """Start streaming for ``owner``: ``False`` means finished already (replay)."""
        with self._lock:
            if self._state in _FINAL:
                return False
            if self._state not in (_State.PENDING, _State.HALTED):
                raise InvalidRequest(
                    "This turn is already being iterated.",
                    hint="Iterate a turn once; after it ends, iterating it again replays it.",
                )
            self._conversation._start(self)
            self._move(_State.CLAIMED if self._state is _State.PENDING else _State.STOPPING)
            self._owner = owner
            return True

    # -- iteration ----------------------------------------------------------------------

    def __iter__(self) -> Iterator[TurnEvent]:
        owner = object()
        try:
            if self._claim(owner):
                yield from _worker.iterate(self._run, cancel=self.stop)
            else:
                yield from self._replay()
        finally:
            # Even an interrupt between the claim and the stream must not leave it open.
            if self._owner is owner:
                self._finish_if_unfinished()

    def __aiter__(self) -> AsyncGenerator[TurnEvent, None]:
        return self._aiterate()

    async def _aiterate(self) -> AsyncGenerator[TurnEvent, None]:
        if not self._claim(object()):
            for event in self._replay():
                yield event
            return
        try:
            # The provider runs in a task of its own, which stop() can cancel from anywhere.
            events = _worker.aiterate(self._run, cancel=self.stop)
            async with contextlib.aclosing(events):
                async for event in events:
                    yield event
        finally:
            self._finish_if_unfinished()

    def _replay(self) -> Iterator[TurnEvent]:
        yield from self._events
        if self.error is not None:
            raise self.error

    def result(self) -> str:
        """Run to the end (blocking) and return the text; raise if the turn failed."""
        for _ in self:
            pass
        return self.text

    async def aresult(self) -> str:
        """Run to the end and return the text; raise if the turn failed."""
        async for _ in self:
            pass
        return self.text

    async def _run(self) -> AsyncIterator[TurnEvent]:
        task = asyncio.current_task()
        with self._lock:
            self._task = task
            self._loop = asyncio.get_running_loop()
            # Stopped before this first step (or given up on already): send nothing.
            stop_first = self._state is not _State.CLAIMED
            if not stop_first:
                self._move(_State.STREAMING)
        status: TurnStatus = "done"
        error: NbchatError | None = None
        steps: AsyncGenerator[TurnEvent, None] | None = None
        self._tally.start()
        try:
            if stop_first:
                raise asyncio.CancelledError
            # The model's steps, and the tools it calls between them (session/_loop.py).
            steps = ToolLoop(self).run()
            async for event in steps:
                if isinstance(event, ToolUpdate):
                    self._events.append(event)
                yield event
        except asyncio.CancelledError:
            status = "stopped"
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()  # handled: the stop is the outcome, not an error
        except NbchatError as exc:
            status, error = "error", exc
        except Exception as exc:  # a bug below us: still keep the partial, then raise it
            status = "error"
            error = NbchatError(f"{type(exc).__name__}: {exc}", hint="This looks like a bug.")
            error.__cause__ = exc
        finally:
            with self._lock:
                self._move(_State.CLOSING)
            try:
                if steps is not None:
                    await steps.aclose()  # closes the HTTP response: the server stops
            finally:
                self._tally.end()
                if error is not None:
                    self._scrub(error)
                self._finish(status, error)
        if error is not None:
            raise error

    def _absorb(self, event: StreamEvent) -> None:
        self._events.append(event)
        self._tally.count(event)
        if isinstance(event, TextDelta):
            self._body.add_text(event.text)
        elif isinstance(event, ReasoningDelta):
            self._body.add_reasoning(event.text)
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, ToolCall):
            self.tool_calls.append(event)

    def _scrub(self, error: NbchatError) -> None:
        # Providers redact already; this keeps a key out even if one slipped through.
        redact_error(error, self._provider._api_key)
        error.partial = self.text

    def _finish(self, status: TurnStatus, error: NbchatError | None) -> None:
        with self._lock:
            if self._move(_OUTCOME[status]):
                self.error = error
                self._conversation._commit(self)

    def _finish_if_unfinished(self) -> None:
        # The task was cancelled before _run began (or its cleanup outlived the wait).
        if not self._finished:
            self._finish("stopped", None)

    def __repr__(self) -> str:
        return f"<Turn {self.action} {self.model} {self.status}: {len(self.text)} chars>"
