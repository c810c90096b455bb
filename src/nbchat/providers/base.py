"""What every provider is: class attributes, one streaming method, typed events.

A provider speaks one wire protocol over HTTP and knows nothing of widgets or history.
It turns a :class:`ChatRequest` into a stream of :data:`StreamEvent` values and ends the
stream only after the protocol's terminal marker (a :class:`Finish` is always the last
event of a complete reply); anything else is an error from :mod:`nbchat.errors`.
"""

from __future__ import annotations

import abc
import dataclasses
import os
import typing
from collections.abc import AsyncIterator, Mapping, Sequence

from ..errors import InvalidRequest, NbchatError, redact_error, redact_userinfo
from ..images._image import Image
from ._urls import normalise_base_url
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
    "ToolSpec",
    "Usage",
    "WireMessage",
    "WireToolCall",
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


class WireToolCall(typing.TypedDict):
    """A tool call in an assistant message sent back to a server."""

    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


class _WireBase(typing.TypedDict):
    role: typing.Literal["system", "user", "assistant", "tool"]
    content: str


class WireMessage(_WireBase, total=False):
    """One message as sent to a server, in no protocol's shape yet: each provider writes
    it its own way (:mod:`._tool_wire`). A model step that called tools is an assistant
    message with ``tool_calls``, then one ``tool`` message per result. A user message's
    ``images`` go with its text (Ollama: base64 in ``images``; OpenAI: content parts)."""

    images: list[Image]  # user: the images the model is to see with this text
    tool_calls: list[WireToolCall]  # assistant
    tool_call_id: str  # tool: the call it answers
    tool_name: str  # tool: the function's name


class ToolSpec(typing.TypedDict):
    """A tool as a request offers it, whatever the protocol."""

    name: str
    description: str
    parameters: dict[str, typing.Any]  # a JSON schema of type "object"


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
    tools: Sequence[ToolSpec] = ()  # the functions the model may call

    @property
    def images(self) -> list[Image]:
        """Every image the request sends, in order."""
        return [image for m in self.messages for image in m.get("images", ())]


# ---------------------------------------------------------------------------------------
# The provider.

E = typing.TypeVar("E", bound=NbchatError)


class Provider(abc.ABC):
    """A wire protocol. Subclasses set the class attributes and implement two methods.

    The class attributes and the class methods below them are all that resolution knows
    of a provider: where its server is, which environment variables configure it, which
    model to use when none is named. A provider registered by a third party with
    :func:`nbchat.providers.register` therefore works wherever a built-in one does.

    Instances hold the base URL, the API key (never shown in ``repr``) and extra headers.
    """

    name: typing.ClassVar[str]  # the prefix in "name:model"
    label: typing.ClassVar[str]  # what a person reads: "Ollama", "OpenAI-compatible", "demo"
    #: Where the server is when nothing says otherwise. With neither this nor
    #: :attr:`base_url_env_var` the provider is offline (the demo); with only the variable,
    #: a base URL must come from it or from the user.
    default_base_url: typing.ClassVar[str | None] = None
    #: The environment variable that names the server (``OPENAI_BASE_URL``), if any.
    base_url_env_var: typing.ClassVar[str | None] = None
    #: The environment variable that holds the API key (``OPENAI_API_KEY``), if any.
    key_env_var: typing.ClassVar[str | None] = None
    #: The model used when none is named, when it is known without asking the server.
    default_model: typing.ClassVar[str | None] = None
    #: A model name for examples in hints (``"gpt-4o-mini"``).
    example_model: typing.ClassVar[str] = "<model>"
    #: What to check when nothing answers at the base URL.
    unreachable_hint: typing.ClassVar[str] = "is the server running, and is the base URL right?"
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
        # Not checked here: a bad URL given by hand fails as the request's error.
        self.base_url = normalise_base_url(url, check=False) if url else ""
        self._api_key = api_key
        self.headers = dict(headers or {})
        self.timeouts = timeouts

    # -- what resolution asks ----------------------------------------------------------

    @classmethod
    def base_url_for(cls, url: str | None, env: Mapping[str, str] | None = None) -> str | None:
        """The base URL to use: ``url`` (as typed) adapted to this protocol, else the
        environment's (:meth:`base_url_from_env`), else :attr:`default_base_url`."""
        if url:
            return cls.adapt_base_url(normalise_base_url(url))
        return cls.base_url_from_env(os.environ if env is None else env) or cls.default_base_url

    @classmethod
    def adapt_base_url(cls, url: str) -> str:
        """A normalised base URL → the one this protocol uses (as it is, by default)."""
        return url

    @classmethod
    def base_url_from_env(cls, env: Mapping[str, str]) -> str | None:
        """The base URL :attr:`base_url_env_var` names, if it is set."""
        value = env.get(cls.base_url_env_var, "").strip() if cls.base_url_env_var else ""
        return cls.adapt_base_url(normalise_base_url(value)) if value else None

    @classmethod
    def api_key_from_env(cls, env: Mapping[str, str] | None = None) -> str | None:
        """The key :attr:`key_env_var` holds, if it is set."""
        env = os.environ if env is None else env
        return (env.get(cls.key_env_var) or None) if cls.key_env_var else None

    @classmethod
    def model_hint(cls, model: str) -> str:
        """What to do about a model this provider's server does not have."""
        return "Check the model name; nbchat.models() lists what the server offers."

    def choose_model(self, listed: Sequence[str]) -> tuple[str, str]:
        """The model to use when none is named, from those the server ``listed``, and why.

        By default the only one listed; with several (or none) the user has to choose.
        """
        if len(listed) == 1:
            return listed[0], "the only model the server lists"
        some = ", ".join(f"'{self.name}:{m}'" for m in listed[:5])
        where = redact_userinfo(self.base_url)
        raise InvalidRequest(
            f"Name the model: the server at {where} lists {len(listed)}.",
            hint=f"For example {some or repr(f'{self.name}:{self.example_model}')}.",
        )

    # -- what a turn asks -------------------------------------------------------------

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
