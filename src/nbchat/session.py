"""Conversation and Turn: the history, and one reply being produced.

CONTRACT STUB written by the lead so that the widget and the magics can be built against
it in parallel. The session helper replaces every ``NotImplementedError`` with the real
thing and may add private helpers, but keeps these public names and signatures (or tells
the lead before changing one).

Semantics:

- ``Conversation.prompt(text)`` validates the input (empty or whitespace-only text, NUL or
  lone surrogates, unknown options) and raises :class:`~nbchat.errors.InvalidRequest` or
  :class:`~nbchat.errors.ConversationBusy` *before* any request. It returns a lazy
  :class:`Turn`; nothing is sent until the turn is iterated.
- A turn streams :data:`~nbchat.providers.base.StreamEvent` values. Iterating a finished
  turn replays its events. Sync iteration (``for``) runs the async provider on a private
  loop in a worker thread, so it works inside a running kernel; async iteration runs on
  the caller's loop.
- When a turn ends — done, stopped, or failed — the conversation records the user message
  (for ``prompt``/``edit``) and the assistant message with its ``meta`` (model, tokens,
  tokens/s, elapsed, finish reason; ``stopped``; ``error`` + ``hint``). Nothing is lost:
  a failed turn keeps the partial text, then the error is raised from the iteration.
  A stopped turn ends the iteration normally with ``status == "stopped"``.
- ``Turn.stop()`` is thread-safe and closes the HTTP response (the server stops).
- ``regenerate()`` replaces the last assistant reply; ``resume()`` continues the last
  assistant reply (stopped or cut off) by resending it as the final assistant message so
  the model carries on, appending to the same message; ``edit(text)`` replaces the last
  user message and redoes the reply after it.
- Failed exchanges with no text (e.g. server down) stay in ``messages`` for the user to
  see but are not sent to the model on later turns.
"""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping

from ._protocol import Message
from .errors import NbchatError
from .providers.base import Provider, StreamEvent, Timeouts, Usage

if typing.TYPE_CHECKING:
    from .config import Resolution

__all__ = ["Conversation", "Turn", "TurnStatus"]

TurnStatus = typing.Literal["pending", "streaming", "done", "stopped", "error"]
TurnAction = typing.Literal["prompt", "regenerate", "resume", "edit"]


class Turn:
    """One reply being produced; iterate it to stream, ``result()`` to wait for it."""

    id: str  # the id the assistant message has in ``Conversation.messages``
    action: TurnAction
    model: str  # "provider:name"
    status: TurnStatus
    text: str  # the reply so far (a resumed reply includes its earlier part)
    reasoning: str
    usage: Usage | None
    finish_reason: str | None
    error: NbchatError | None

    def stop(self) -> None:
        """Stop the reply (thread-safe); the partial text is kept, marked stopped."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[StreamEvent]:
        raise NotImplementedError

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    def result(self) -> str:
        """Run to the end (blocking) and return the text; raise if the turn failed."""
        raise NotImplementedError

    async def aresult(self) -> str:
        """Run to the end and return the text; raise if the turn failed."""
        raise NotImplementedError

    @property
    def message(self) -> Message:
        """The assistant message: as recorded, or as it stands while streaming."""
        raise NotImplementedError


class Conversation:
    """A history of messages with one model; runs turns one at a time."""

    model: str  # resolved "provider:name", e.g. "ollama:llama3.2", "demo:showcase"
    provider: Provider
    resolution: Resolution  # what was chosen and why
    system: str | None
    options: dict[str, object]

    def __init__(
        self,
        model: str | None = None,
        *,
        system: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        messages: Iterable[Message] | None = None,
        **options: object,
    ) -> None:
        raise NotImplementedError

    @property
    def messages(self) -> list[Message]:
        """The committed history (a copy), oldest first; no system message."""
        raise NotImplementedError

    @property
    def current(self) -> Turn | None:
        """The turn in flight, if any."""
        raise NotImplementedError

    def prompt(self, text: str, **options: object) -> Turn:
        raise NotImplementedError

    def regenerate(self, **options: object) -> Turn:
        raise NotImplementedError

    def resume(self, **options: object) -> Turn:
        raise NotImplementedError

    def edit(self, text: str, **options: object) -> Turn:
        raise NotImplementedError

    def clear(self) -> None:
        """Forget every message (not allowed while a turn streams)."""
        raise NotImplementedError

    def to_json(self) -> str:
        raise NotImplementedError

    @classmethod
    def from_json(cls, text: str, **kwargs: typing.Any) -> Conversation:
        raise NotImplementedError

    def to_markdown(self) -> str:
        raise NotImplementedError

    def save(self, path: str) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, path: str, **kwargs: typing.Any) -> Conversation:
        raise NotImplementedError
