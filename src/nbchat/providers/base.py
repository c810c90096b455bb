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

from ..errors import NbchatError, redact_error, redact_userinfo
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

E = typing.TypeVar("E", bound=NbchatError)


class Provider(abc.ABC):
    """A wire protocol. Subclasses set the class attributes and implement two methods.

    Instances hold the base URL, the API key (never shown in ``repr``) and extra headers.
    """

    name: typing.ClassVar[str]  # the prefix in "name:model"
    label: typing.ClassVar[str]  # what a person reads: "Ollama", "OpenAI-compatible", "demo"
    default_base_url: typing.ClassVar[str | None] = None
    key_env_var: typing.ClassVar[str | None] = None
    options: typing.ClassVar[Mapping[str, Option]] = COMMON_OPTIONS
    #: Headers every request of this protocol carries, before the user's own.
    fixed_headers: typing.ClassVar[Mapping[str, str]] = {}

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

    def request_headers(self, accept: str) -> dict[str, str]:
        """The headers of a request that wants ``accept`` back: the protocol's, the user's,
        then the key (so a user's header cannot drop it by accident)."""
        headers = {"Accept": accept, **self.fixed_headers, **self.headers}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def adopt_error(self, error: E, *, model: str, partial: str = "") -> E:
        """Make ``error`` this provider's before it leaves :meth:`astream`: the provider,
        model and base URL where it does not say, the text so far as ``partial``, and
        the key redacted (also from errors raised below us, such as a decoder's, that
        quote what the server sent). Returns ``error``."""
        if partial and not error.partial:
            error.partial = partial
        if error.provider is None:
            error.provider = self.name
        if error.model is None:
            error.model = model
        if error.base_url is None and self.base_url:
            error.base_url = self.base_url
        return redact_error(error, self._api_key)

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
