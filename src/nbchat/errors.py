"""The one exception tree of nbchat.

Every failure a user can meet is one of these, with a one-line ``message`` saying what
happened and a one-line ``hint`` saying what to do next. Catching :class:`NbchatError`
catches them all.

```
NbchatError
├── InvalidRequest            bad input, caught before any request is sent
│   ├── UnknownProvider       "foo:bar" where foo is not a provider
│   ├── InvalidOption         an option the provider does not know, or of the wrong type
│   └── InvalidImage          not an image nbchat reads (SVG, a URL, bad bytes, a bad array)
├── ConversationBusy          a turn is already streaming in this conversation
├── StepLimitReached          the model kept calling tools past the turn's step limit
├── ConversationFileError     a conversation file that cannot be used (left as it is)
│   └── FileInUse             another live process writes that file
├── ServerUnreachable         refused, DNS failure, unreachable host, TLS to a plain port
├── ResponseError             the server answered with an error status (``status`` is set)
│   ├── AuthenticationFailed  401 / 403 — the key is never repeated
│   ├── ModelNotFound         404 for the model (hint: the pull command)
│   ├── ContextTooLong        the prompt does not fit the model's context
│   ├── RateLimited           429 (``retry_after`` in seconds, when the server said)
│   ├── BadRequest            any other 4xx
│   │   ├── ToolsNotSupported the model or server refuses ``tools``
│   │   └── ModelCannotSee    the model or server refuses images (no vision)
│   └── ServerError           5xx, 503 loading/busy, and ``{"error": …}`` sent mid-stream
└── StreamError               the reply started but did not end properly
    ├── StreamInterrupted     EOF or a dropped connection before the terminal marker
    │   └── IdleTimeout       no bytes for ``idle`` seconds after the first token
    └── ProtocolError         bytes that are not the protocol (garbage, HTML, bad JSON)
```

Errors raised during a reply carry ``partial``: the text received before the failure, so
nothing the model already said is lost.
"""

from __future__ import annotations

import re
import typing

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "ContextTooLong",
    "ConversationBusy",
    "ConversationFileError",
    "FileInUse",
    "IdleTimeout",
    "InvalidImage",
    "InvalidOption",
    "InvalidRequest",
    "ModelCannotSee",
    "ModelNotFound",
    "NbchatError",
    "ProtocolError",
    "RateLimited",
    "ResponseError",
    "ServerError",
    "ServerUnreachable",
    "StepLimitReached",
    "StreamError",
    "StreamInterrupted",
    "ToolsNotSupported",
    "UnknownProvider",
    "excerpt",
    "redact",
    "redact_error",
    "redact_userinfo",
]

_REDACTED = "[redacted]"


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with every non-empty secret (and its long-enough pieces) removed.

    Servers sometimes echo a masked key back (``sk-abc***xyz``); removing the whole key and
    its first/last 8 characters keeps even those fragments out of messages.
    """
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, _REDACTED)
        if len(secret) >= 16:
            for piece in (secret[:8], secret[-8:]):
                text = text.replace(piece, _REDACTED)
    return text


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@")


def redact_userinfo(text: str, mask: str = "***") -> str:
    """``http://user:password@host`` → ``http://***@host`` wherever a URL appears in ``text``.

    A password in a base URL is as secret as a key. ``mask=""`` drops the userinfo entirely.
    """
    return _USERINFO.sub(lambda m: m.group(1) + (f"{mask}@" if mask else ""), text)


def excerpt(text: str, limit: int = 300) -> str:
    """``text`` on one line (runs of whitespace become one space), cut to ``limit``
    characters with an ellipsis: how a server's words or bytes are quoted in a message."""
    text = " ".join(text.split())
    return text[:limit] + "…" if len(text) > limit else text


E = typing.TypeVar("E", bound="NbchatError")


def redact_error(error: E, *secrets: str | None) -> E:
    """Remove every secret from ``error``'s message, hint and args, and any password from
    its ``base_url``, in place; returns ``error`` (for ``raise``).

    The one redaction of errors: providers apply it to everything they raise, and the
    layers above apply it again before an error is shown or stored.
    """
    if any(secrets):
        error.message = redact(error.message, *secrets)
        error.hint = redact(error.hint, *secrets)
        error.args = tuple(redact(a, *secrets) if isinstance(a, str) else a for a in error.args)
    if error.base_url:
        error.base_url = redact_userinfo(error.base_url)
    return error


class NbchatError(Exception):
    """Base class: a one-line ``message`` and a one-line ``hint``."""

    default_hint = ""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        provider: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        status: int | None = None,
        partial: str = "",
    ) -> None:
        self.message = " ".join(message.split()) or type(self).__name__
        self.hint = " ".join((self.default_hint if hint is None else hint).split())
        self.provider = provider
        self.base_url = base_url
        self.model = model
        self.status = status
        self.partial = partial
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidRequest(NbchatError, ValueError):
    """The input cannot be sent: empty prompt, bad model string, malformed messages."""


class UnknownProvider(InvalidRequest):
    """The ``provider:`` prefix names no registered provider."""


class InvalidOption(InvalidRequest):
    """An option the provider does not know, or a value of the wrong type."""


class InvalidImage(InvalidRequest):
    """Something given as an image that is not one nbchat reads: SVG, an ``http(s)`` URL
    (never fetched), unreadable bytes, an array of the wrong shape or type."""

    default_hint = (
        "Give a PNG, JPEG, WebP or GIF: a path, bytes, a PIL image, a figure or an array."
    )


class ConversationBusy(NbchatError):
    """A turn is already streaming; one turn at a time per conversation."""

    default_hint = "Wait for the reply to finish, or stop it first."


class StepLimitReached(NbchatError):
    """One turn took more model steps (call → result → next request) than its limit."""

    default_hint = "Continue the reply to let it go on, or raise max_steps."


class ConversationFileError(NbchatError):
    """A conversation file that cannot be read or written: corrupt, truncated, from a newer
    nbchat, not writable. nbchat never overwrites such a file."""


class FileInUse(ConversationFileError):
    """Another live process (another kernel) is writing this conversation file."""

    default_hint = "Close the chat that uses it (chat.close()) or its kernel, or use another file."


class ServerUnreachable(NbchatError):
    """No answer at the base URL: refused, DNS failure, unreachable, or TLS mismatch."""


class ResponseError(NbchatError):
    """The server answered with an HTTP error status."""


class AuthenticationFailed(ResponseError):
    """401 or 403: the key is missing, wrong, or not allowed here."""


class ModelNotFound(ResponseError):
    """The server does not have this model."""


class ContextTooLong(ResponseError):
    """The conversation does not fit the model's context window."""

    default_hint = "Start a new conversation, shorten the prompt, or raise the context size."


class RateLimited(ResponseError):
    """429: too many requests. ``retry_after`` is in seconds when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class BadRequest(ResponseError):
    """Any other 4xx: the server rejected the request."""


class ToolsNotSupported(BadRequest):
    """The model (or the server) does not accept tools in the request."""


class ModelCannotSee(BadRequest):
    """The model (or the server) does not accept images: it has no vision. The message
    and its images are kept; ask again with a vision model."""

    default_hint = (
        "Pick a vision model (llava, qwen2.5vl, gemma3, llama3.2-vision; a llama.cpp server "
        "needs --mmproj), or ask without images."
    )


class ServerError(ResponseError):
    """5xx, a busy or loading server, or an error the server reported mid-stream."""


class StreamError(NbchatError):
    """The reply started but did not end with the protocol's terminal marker."""


class StreamInterrupted(StreamError):
    """The connection ended before the reply was complete; ``partial`` keeps what came."""

    default_hint = "The text so far is kept; continue the reply or ask again."


class IdleTimeout(StreamInterrupted):
    """No bytes arrived for the configured idle time between tokens."""


class ProtocolError(StreamError):
    """The server sent something that is not the protocol (garbage, HTML, broken JSON)."""

    default_hint = "Is the base URL pointing at the right kind of server?"
