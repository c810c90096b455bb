"""What every provider is: class attributes, one streaming method, typed events.

A provider speaks one wire protocol over HTTP and knows nothing of widgets or history.
It turns a :class:`ChatRequest` into a stream of :data:`StreamEvent` values and ends the
stream only after the protocol's terminal marker (a :class:`Finish` is always the last
event of a complete reply); anything else is an error from :mod:`nbchat.errors`.
"""

from __future__ import annotations

import abc
import dataclasses
import re
import typing
from collections.abc import AsyncIterator, Mapping, Sequence

from ..errors import redact_userinfo
from .options import COMMON_OPTIONS, Option, validate_options

__all__ = [
    "COMMON_OPTIONS",
    "ChatRequest",
    "Finish",
    "Option",
    "Provider",
    "ReasoningDelta",
    "StreamEvent",
    "TextDelta",
    "Timeouts",
    "ToolCall",
    "Usage",
    "WireMessage",
    "normalise_base_url",
    "validate_options",
]


# ---------------------------------------------------------------------------------------
# Events: pure values, one per thing the server told us.


@dataclasses.dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply's text."""

    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking"), shown apart from the answer."""

    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call the model asked for; carried, not executed."""

    index: int
    name: str
    arguments: str  # JSON text, as OpenAI sends it (Ollama's objects are dumped to JSON)
    id: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and timings, from whichever fields the server sends."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_per_second: float | None = None  # as measured by the server, when it says
    duration_s: float | None = None  # the server's own generation time


@dataclasses.dataclass(frozen=True, slots=True)
class Finish:
    """The terminal marker: the reply is complete. ``reason`` as the server said it."""

    reason: str


StreamEvent = TextDelta | ReasoningDelta | ToolCall | Usage | Finish


# ---------------------------------------------------------------------------------------
# Requests and options.


class WireMessage(typing.TypedDict):
    """One message as sent to a server."""

    role: typing.Literal["system", "user", "assistant"]
    content: str


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Connect timeout, optional wait for the first token, and idle time between tokens.

    ``first_token`` is ``None`` by default because model loads take long; ``idle`` applies
    after the first byte of the reply body has arrived.
    """

    connect: float = 5.0
    first_token: float | None = None
    idle: float | None = 60.0


DEFAULT_TIMEOUTS = Timeouts()


@dataclasses.dataclass(frozen=True)
class ChatRequest:
    """What to ask: the model name (no provider prefix), the messages, validated options."""

    model: str
    messages: Sequence[WireMessage]
    options: Mapping[str, object] = dataclasses.field(default_factory=dict)


def normalise_base_url(url: str) -> str:
    """``localhost:11434/`` → ``http://localhost:11434``: a scheme, no trailing slash."""
    url = url.strip()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
        url = "http://" + url
    return url.rstrip("/")


# ---------------------------------------------------------------------------------------
# The provider.


class Provider(abc.ABC):
    """A wire protocol. Subclasses set the class attributes and implement two methods.

    Instances hold the base URL, the API key (never shown in ``repr``) and extra headers.
    """

    name: typing.ClassVar[str]  # the prefix in "name:model"
    label: typing.ClassVar[str]  # what a person reads: "Ollama", "OpenAI-compatible", "demo"
    default_base_url: typing.ClassVar[str | None] = None
    key_env_var: typing.ClassVar[str | None] = None
    options: typing.ClassVar[Mapping[str, Option]] = COMMON_OPTIONS

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        url = base_url or self.default_base_url
        self.base_url = normalise_base_url(url) if url else ""
        self._api_key = api_key
        self.headers = dict(headers or {})
        self.timeouts = timeouts

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    def check_options(self, options: Mapping[str, object]) -> dict[str, object]:
        """Validate options for this provider: unknown names, wrong types and values out of
        range raise :class:`~nbchat.errors.InvalidOption` (before anything is sent)."""
        return validate_options(self.name, self.options, options)

    @abc.abstractmethod
    def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Stream the reply. Closing the iterator closes the HTTP response.

        Raises an :class:`~nbchat.errors.NbchatError`; a reply that ends without the
        terminal marker raises :class:`~nbchat.errors.StreamInterrupted` with ``partial``.
        """

    @abc.abstractmethod
    async def amodels(self) -> list[str]:
        """The model names the server offers (without the provider prefix)."""

    def __repr__(self) -> str:
        key = ", api_key=<set>" if self._api_key else ""
        return f"<{type(self).__name__} {redact_userinfo(self.base_url) or '(offline)'}{key}>"
