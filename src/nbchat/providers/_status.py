"""What an error answer means: the message in its body, and the nbchat error it stands for.

I/O-free: :mod:`._http` reads the bytes; this module finds ``error.message`` (or
``error``, ``message``, ``detail``, the text itself), picks the error class from the
status and the words, and builds every error a provider raises, redacted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import json
import re
import time
import typing
from collections.abc import Mapping

import httpx

from ..errors import (
    AuthenticationFailed,
    BadRequest,
    ContextTooLong,
    ModelCannotSee,
    ModelNotFound,
    NbchatError,
    RateLimited,
    ResponseError,
    ServerError,
    excerpt,
    redact,
    redact_userinfo,
)

__all__ = [
    "Endpoint",
    "ErrorInfo",
    "build_error",
    "classify",
    "error_from_payload",
    "parse_error_body",
]


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Who we are talking to, for the words of an error. The key is only used to redact."""

    label: str  # "Ollama", "OpenAI-compatible server"
    base_url: str
    api_key: str | None = dataclasses.field(default=None, repr=False)
    provider: str | None = None  # registry name, set on errors
    model: str | None = None
    key_env_var: str | None = None
    unreachable_hint: str = "is the server running, and is the URL right?"
    model_not_found_hint: str | None = None
    forbidden_hint: str | None = None  # for a 403 with nothing in the body
    sends_images: bool = False  # the request holds images: a refusal of them is one

    def redact(self, text: str) -> str:
        """``text`` without the key, or a password in any URL it quotes."""
        return redact(redact_userinfo(text), self.api_key)


@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    """What a server said in an error body."""

    message: str
    code: str | None = None
    type: str | None = None
    html: bool = False


def parse_error_body(body: bytes, media_type: str = "") -> ErrorInfo:
    """Find the message in an error body: ``error.message``, ``error``, ``message``,
    ``detail``, or the text itself (one line, truncated)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text) if text[:1] in "{[" and text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        info = _info_from_mapping(data)
        if info is not None:
            return info
    if media_type == "text/html" or re.match(r"(?is)\s*<(!doctype|html)", text):
        title = re.search(r"(?is)<title[^>]*>(.*?)</title>", text)
        shown = f"an HTML page titled {excerpt(title.group(1))!r}" if title else "an HTML page"
        return ErrorInfo(shown, html=True)
    return ErrorInfo(excerpt(text))


#: LiteLLM's proxy ends every routed error with this; it says nothing the first line does not.
_LITELLM_TRAILER = re.compile(
    r"\s*LiteLLM: model group '[^']*' failed with the error above\."
    r"(?: No fallback was attempted\.)?\s*$"
)


def _info_from_mapping(data: Mapping[str, typing.Any]) -> ErrorInfo | None:
    error = data.get("error")
    if isinstance(error, Mapping):
        message = error.get("message") or error.get("msg") or json.dumps(error)
        code, kind = error.get("code"), error.get("type")
        return ErrorInfo(
            excerpt(_LITELLM_TRAILER.sub("", str(message))),
            code=None if code is None else str(code),
            type=None if kind is None else str(kind),
        )
    if isinstance(error, str) and error:
        return ErrorInfo(excerpt(error))
    for key in ("message", "detail"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return ErrorInfo(excerpt(value))
        if isinstance(value, list) and value:  # FastAPI validation errors
            msgs = [str(v.get("msg", v)) if isinstance(v, Mapping) else str(v) for v in value]
            return ErrorInfo(excerpt("; ".join(msgs)))
    return None


def _retry_after(headers: httpx.Headers) -> float | None:
    if value := headers.get("retry-after-ms"):
        with contextlib.suppress(ValueError):
            return max(float(value) / 1000.0, 0.0)
    # LiteLLM's proxy passes the upstream's Retry-After on only under its own prefix.
    value = headers.get("retry-after") or headers.get("llm_provider-retry-after")
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(float(value), 0.0)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = email.utils.parsedate_to_datetime(value)
        return max(when.timestamp() - time.time(), 0.0)
    return None


_CONTEXT = re.compile(
    r"context[_ ](length|size|window)|exceed_context|maximum context|prompt is too long"
    r"|longer than the context",
    re.IGNORECASE,
)
_MODEL_MISSING = re.compile(
    r"model.{0,80}?\b(not found|does not exist)|model_not_found"
    r"|invalid model|unknown model|no such model"
    r"|no healthy deployments",  # LiteLLM's proxy, for a model it does not route
    re.IGNORECASE,
)
#: A gateway saying it could not reach the server behind it (LiteLLM's wording).
_UPSTREAM_DOWN = re.compile(
    r"APIConnectionError|Connection error\.|Cannot connect to host|Connect call failed",
    re.IGNORECASE,
)
#: A server saying no to images, when the request had some (then, and only then, these
#: words mean the model cannot see). Ollama: "<model> does not support images"; llama.cpp's
#: server without a vision projector: "image input is not supported - hint: … mmproj"
#: (a 500), older builds "Unsupported content part type: \"image_url\""; OpenAI: "Invalid
#: content type. image_url is only supported by certain models."; vLLM: "… is not a
#: multimodal model".
_CANNOT_SEE = re.compile(
    r"does not support (images?|vision|image input)|image input is not supported"
    r"|images? (are|is) not supported|(unsupported|invalid|unknown) content (part )?type"
    r"|image_url is only supported|not a (vision|multimodal) model|\bmmproj\b"
    r"|vision (is )?not (supported|enabled)|does not accept images",
    re.IGNORECASE,
)
UPSTREAM_DOWN_HINT = "The gateway could not reach the model server behind it: is that server up?"
NO_DB_HINT = "This LiteLLM proxy has no database, so it accepts only its master key: check the key."


def classify(
    endpoint: Endpoint,
    status: int | None,
    info: ErrorInfo,
    headers: httpx.Headers | None = None,
) -> ResponseError:
    """Pick the :class:`ResponseError` subclass for a status and what the body said.

    ``status`` is ``None`` for an error reported inside a 200 body; an HTTP-like numeric
    ``code`` in the body (LiteLLM sends ``"401"``) then stands in for it.
    """
    if status is None and info.code and info.code.isdigit() and 300 <= int(info.code) < 600:
        status = int(info.code)
    label = endpoint.label
    said = info.message or "no details"
    message = f"HTTP {status} from {label}: {said}" if status else f"{label}: {said}"
    facts = f"{info.message} {info.code or ''} {info.type or ''}"
    kw: dict[str, typing.Any] = {"status": status}

    if _CONTEXT.search(facts):
        return build_error(ContextTooLong, endpoint, message, **kw)
    if info.type == "no_db_connection":
        # A DB-less LiteLLM proxy takes any key but its master key for a virtual key it
        # cannot look up: the key is wrong, though the status says 400.
        return build_error(AuthenticationFailed, endpoint, message, hint=NO_DB_HINT, **kw)
    if status in (401, 403) or info.type in ("authentication_error", "permission_error"):
        hint = _auth_hint(endpoint, status, info)
        return build_error(AuthenticationFailed, endpoint, message, hint=hint, **kw)
    if status == 429 or info.code == "rate_limit_exceeded" or info.type == "rate_limit_error":
        retry = _retry_after(headers) if headers is not None else None
        when = f"Wait {retry:g} s" if retry is not None else "Wait a moment"
        return build_error(
            RateLimited, endpoint, message, hint=f"{when} and try again.", retry_after=retry, **kw
        )
    if endpoint.sends_images and _CANNOT_SEE.search(facts) and (status is None or status >= 400):
        model = f"The model {endpoint.model}" if endpoint.model else "The model"
        return build_error(
            ModelCannotSee, endpoint, f"{model} cannot see images ({label}: {said})", **kw
        )
    if _MODEL_MISSING.search(facts) and (status is None or 400 <= status < 500):
        hint = endpoint.model_not_found_hint or "Check the model name."
        return build_error(ModelNotFound, endpoint, message, hint=hint, **kw)
    if status == 404:
        hint = f"Is the base URL right? {redact_userinfo(endpoint.base_url)} has no such endpoint."
        return build_error(BadRequest, endpoint, message, hint=hint, **kw)
    if status is not None and 300 <= status < 400:
        location = headers.get("location") if headers is not None else None
        hint = f"Use base_url={location!r}." if location else "Use the URL it redirects to."
        return build_error(
            BadRequest, endpoint, f"{label} redirected the request.", hint=hint, **kw
        )
    if status is not None and 400 <= status < 500:
        hint = "Turn thinking off (think=False)." if "support thinking" in facts else ""
        return build_error(BadRequest, endpoint, message, hint=hint, **kw)
    if status is not None and status >= 500 and _UPSTREAM_DOWN.search(info.message):
        return build_error(ServerError, endpoint, message, hint=UPSTREAM_DOWN_HINT, **kw)
    if status == 503 or "loading" in facts.lower():
        hint = "The server is busy or still loading the model; try again in a moment."
        return build_error(ServerError, endpoint, message, hint=hint, **kw)
    return build_error(ServerError, endpoint, message, hint="The server's log may say more.", **kw)


def _auth_hint(endpoint: Endpoint, status: int | None, info: ErrorInfo) -> str:
    if status == 403 and not info.message and endpoint.forbidden_hint:
        return endpoint.forbidden_hint
    if endpoint.api_key:
        return "The API key was sent and refused; check it (and its permissions)."
    if endpoint.key_env_var:
        return f"Set {endpoint.key_env_var} or pass api_key=…."
    return "Pass api_key=…."


def error_from_payload(
    endpoint: Endpoint, error: object, *, started: bool, status: int | None = None
) -> ResponseError:
    """The error for an ``{"error": …}`` found inside a 200 body.

    Once the reply has ``started`` it is a :class:`ServerError` whatever the body claims;
    before that, it is classified like an HTTP error (old LiteLLM and LM Studio send
    their request errors this way).
    """
    if isinstance(error, Mapping):
        info = _info_from_mapping({"error": error}) or ErrorInfo(json.dumps(error))
    else:
        info = ErrorInfo(excerpt(str(error)))
    if not started:
        return classify(endpoint, status, info)
    return build_error(
        ServerError,
        endpoint,
        f"{endpoint.label} reported an error mid-reply: {info.message or 'no details'}",
        hint="The text so far is kept; ask again or continue the reply.",
    )


# ---------------------------------------------------------------------------------------
# Building errors.

E = typing.TypeVar("E", bound=NbchatError)


def build_error(cls: type[E], endpoint: Endpoint, message: str, **kw: typing.Any) -> E:
    """``cls(message, …)`` with the endpoint's context, redacted, first letter capital."""
    if isinstance(kw.get("hint"), str):
        kw["hint"] = endpoint.redact(kw["hint"])
    kw.setdefault("provider", endpoint.provider)
    kw.setdefault("base_url", redact_userinfo(endpoint.base_url))
    kw.setdefault("model", endpoint.model)
    message = message[:1].upper() + message[1:]  # labels like "the server at …" lead
    return cls(endpoint.redact(message), **kw)
