"""Ollama's native chat API: ``POST /api/chat`` answered with NDJSON.

Each line is one JSON object; the reply is complete only at the line with ``"done":
true``, which carries the counts and timings (and may still carry text). An error after
the first line arrives as one more line, ``{"error": "…"}``, with status 200.
"""

from __future__ import annotations

import json
import os
import typing
import urllib.parse
from collections.abc import AsyncIterator, Mapping, Sequence

from ..errors import ModelNotFound, NbchatError, ProtocolError, StreamInterrupted, redact_userinfo
from . import _http, register
from ._ndjson import NDJSONFramer, Record
from ._tool_wire import ollama_messages, tool_definitions, tools_refused
from ._urls import split_base_url
from .base import (
    COMMON_OPTIONS,
    ChatRequest,
    Finish,
    Option,
    Provider,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)

__all__ = [
    "DEFAULT_OLLAMA_URL",
    "OLLAMA_OPTIONS",
    "PREFERRED_MODEL",
    "OllamaProvider",
    "ollama_host",
]

DEFAULT_OLLAMA_URL = "http://localhost:11434"
#: The model used when none is named, if it is installed (else the first one listed).
PREFERRED_MODEL = "llama3.2"

#: Options for Ollama: the common ones plus the context size, how long the model stays
#: loaded, and thinking (Ollama's API docs: ``think`` takes a bool, or a level for gpt-oss).
OLLAMA_OPTIONS: Mapping[str, Option] = {
    **COMMON_OPTIONS,
    "num_ctx": Option("the context window, in tokens", (int,), minimum=1, example="8192"),
    "keep_alive": Option(
        "how long the model stays loaded after the reply: '5m', seconds, 0 unloads, -1 keeps",
        (str, int, float),
        example="'5m'",
    ),
    "think": Option(
        "whether a thinking model thinks first (gpt-oss takes a level)",
        (bool, str),
        choices=("low", "medium", "high"),
        example="False",
    ),
}

_TOP_LEVEL = frozenset({"keep_alive", "think"})  # request fields, not model options


def ollama_host(env: Mapping[str, str] | None = None) -> str:
    """The base URL ``OLLAMA_HOST`` names, by Ollama's own rules.

    A bare host gets port 11434, ``http://host`` port 80 and ``https://host`` 443; an
    unset variable means localhost. ``0.0.0.0`` is where a server listens, not where a
    client connects, so it becomes ``127.0.0.1``.
    """
    value = (os.environ if env is None else env).get("OLLAMA_HOST", "").strip()
    if not value:
        return DEFAULT_OLLAMA_URL
    scheme, has_scheme, rest = value.partition("://")
    if not has_scheme:
        scheme, rest = "http", value
        default_port = 11434
    else:
        scheme = scheme.lower()
        default_port = 443 if scheme == "https" else 80
    hostport, _, path = rest.partition("/")
    parsed = urllib.parse.urlsplit(f"//{hostport}")
    try:
        port = parsed.port or default_port
    except ValueError:
        port = default_port
    host = parsed.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    path = path.strip("/")
    return f"{scheme}://{host}:{port}" + (f"/{path}" if path else "")


@register
class OllamaProvider(Provider):
    """Talks to Ollama's native API (``/api/chat``), which streams NDJSON."""

    name = "ollama"
    label = "Ollama"
    default_base_url = DEFAULT_OLLAMA_URL
    base_url_env_var = "OLLAMA_HOST"
    key_env_var = "OLLAMA_API_KEY"
    example_model = PREFERRED_MODEL
    unreachable_hint = "is `ollama serve` running?"
    options = OLLAMA_OPTIONS

    @classmethod
    def adapt_base_url(cls, url: str) -> str:
        # The native API lives at the server root, even when ".../v1" was typed.
        return split_base_url(url)[0]

    @classmethod
    def base_url_from_env(cls, env: Mapping[str, str]) -> str | None:
        return ollama_host(env)

    @classmethod
    def model_hint(cls, model: str) -> str:
        return f"try `ollama pull {model}`"

    def choose_model(self, listed: Sequence[str]) -> tuple[str, str]:
        """An installed model: llama3.2 if there, else the first one listed."""
        if not listed:
            raise ModelNotFound(
                f"Ollama at {redact_userinfo(self.base_url)} has no models installed.",
                hint=f"Pull one: `ollama pull {PREFERRED_MODEL}`.",
                provider=self.name,
                base_url=self.base_url,
            )
        for candidate in listed:
            if candidate.split(":", 1)[0] == PREFERRED_MODEL:
                return candidate, f"installed in Ollama ({PREFERRED_MODEL} is preferred)"
        return listed[0], f"the first model installed in Ollama (no {PREFERRED_MODEL})"

    def body(self, request: ChatRequest) -> dict[str, typing.Any]:
        """The JSON body of ``POST /api/chat`` for ``request`` (options validated here)."""
        body: dict[str, typing.Any] = {
            "model": request.model,
            "messages": ollama_messages(request.messages),
            "stream": True,
        }
        model_options: dict[str, typing.Any] = {}
        for key, value in self.check_options(request.options).items():
            if key in _TOP_LEVEL:
                body[key] = value
            elif key == "max_tokens":
                model_options["num_predict"] = value
            elif key == "stop":
                model_options["stop"] = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
            else:
                model_options[key] = value
        if model_options:
            body["options"] = model_options
        if request.tools:
            body["tools"] = tool_definitions(request.tools)
        return body

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        body = self.body(request)
        endpoint = self._endpoint(request.model, sends_images=bool(request.images))
        reply = _OllamaReply()
        try:
            async with _http.stream(
                endpoint,
                f"{self.base_url}/api/chat",
                body,
                headers=self.request_headers("application/x-ndjson"),
                timeouts=self.timeouts,
            ) as response:
                if _http.content_type(response) == "text/html":
                    raise await _http.reject_body(endpoint, response, "NDJSON")
                framer = NDJSONFramer()
                async for chunk in _http.body_chunks(response):
                    try:
                        records = framer.feed(chunk)
                    except ProtocolError:
                        # Deliver the lines before the bad one, then fail (with the
                        # server's own error, if one of them was that).
                        for event in reply.decode(framer.salvaged, endpoint):
                            yield event
                        if reply.error is not None:
                            raise reply.error from None
                        raise
                    if records:
                        for event in reply.decode(records, endpoint):
                            yield event
                        if reply.error is not None:
                            raise reply.error
                        if reply.done:
                            return
                for event in reply.decode(framer.close(), endpoint):
                    yield event
                if reply.error is not None:
                    raise reply.error
                if not reply.done:
                    raise StreamInterrupted(
                        "Ollama's reply ended before it was complete (no final line)."
                    )
        except NbchatError as exc:
            refused = tools_refused(exc, request, ollama=True)
            self.adopt_error(refused, model=request.model, partial=reply.text)
            if refused is exc:
                raise
            raise refused  # noqa: B904 - chained to the server's error in tools_refused

    async def amodels(self) -> list[str]:
        return await _http.model_names(
            self._endpoint(None),
            f"{self.base_url}/api/tags",
            lambda data: [str(m.get("name") or m.get("model")) for m in data.get("models") or []],
            headers=self.request_headers("application/json"),
            timeouts=self.timeouts,
        )

    def _endpoint(self, model: str | None, *, sends_images: bool = False) -> _http.Endpoint:
        return _http.Endpoint(
            label="Ollama",
            base_url=self.base_url,
            api_key=self._api_key,
            provider=self.name,
            model=model,
            key_env_var=self.key_env_var,
            unreachable_hint=self.unreachable_hint,
            sends_images=sends_images,
            model_not_found_hint=self.model_hint(model or PREFERRED_MODEL),
            forbidden_hint=(
                "Ollama refused the request: allow this origin with OLLAMA_ORIGINS, or fix the "
                "Host header a proxy sends."
            ),
        )


class _OllamaReply:
    """One ``/api/chat`` reply so far: what it has said, and its NDJSON records → events.

    Consecutive text pieces from one network read become one :class:`TextDelta`:
    they are the same text, and fewer events is less work for everything downstream.
    """

    __slots__ = ("done", "error", "parts", "started", "tool_index")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.started = False  # a record other than an error has arrived
        self.done = False
        self.error: NbchatError | None = None
        self.tool_index = 0

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def decode(self, records: list[Record], endpoint: _http.Endpoint) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        text: list[str] = []  # pending text, flushed when something else comes
        for record in records:
            message = record.get("message")
            if message:
                if "thinking" in message or "tool_calls" in message:
                    self._flush(text, events)
                    self._rich(message, events)
                content = message.get("content")
                if content:
                    text.append(content)
            elif "error" in record:
                # Raised by the caller after these events: the consumer sees all the text.
                self._flush(text, events)
                started = self.started or record is not records[0]
                self.error = _http.error_from_payload(endpoint, record["error"], started=started)
                return events
            if record.get("done"):
                self._flush(text, events)
                self._finish(record, events)
                return events
        self._flush(text, events)
        self.started = True
        return events

    def _flush(self, text: list[str], events: list[StreamEvent]) -> None:
        if text:
            piece = text[0] if len(text) == 1 else "".join(text)
            text.clear()
            self.parts.append(piece)
            events.append(TextDelta(piece))

    def _rich(self, message: Mapping[str, typing.Any], events: list[StreamEvent]) -> None:
        thinking = message.get("thinking")
        if thinking:
            events.append(ReasoningDelta(thinking))
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            arguments = function.get("arguments")
            index = function.get("index")
            events.append(
                ToolCall(
                    index=index if isinstance(index, int) else self.tool_index,
                    name=str(function.get("name") or ""),
                    arguments=arguments
                    if isinstance(arguments, str)
                    else json.dumps(arguments or {}, ensure_ascii=False),
                    id=call.get("id"),
                )
            )
            self.tool_index += 1

    def _finish(self, record: Record, events: list[StreamEvent]) -> None:
        self.done = True
        eval_count = record.get("eval_count")
        eval_ns = record.get("eval_duration")
        total_ns = record.get("total_duration")
        prompt_count = record.get("prompt_eval_count")
        if any(v is not None for v in (eval_count, eval_ns, total_ns, prompt_count)):
            rate = eval_count / eval_ns * 1e9 if eval_count and eval_ns else None
            events.append(
                Usage(
                    prompt_tokens=prompt_count,
                    completion_tokens=eval_count,
                    tokens_per_second=rate,
                    # The whole request as the server timed it (load + prompt + generation).
                    duration_s=total_ns / 1e9 if total_ns else None,
                )
            )
        events.append(Finish(str(record.get("done_reason") or "stop")))
