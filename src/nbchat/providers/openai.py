"""The OpenAI Chat Completions API over SSE, as every OpenAI-compatible server speaks it.

One decoder serves OpenAI, Ollama ``/v1``, vLLM, llama.cpp, LM Studio, LiteLLM, Groq and
OpenRouter: it reads every name a field goes by (``reasoning_content``/``reasoning``/
``thinking``; ``usage``/``x_groq.usage``/``timings``), tolerates ``choices`` that are
empty, null or missing, and counts a reply as complete only once a choice has a
``finish_reason``. ``[DONE]`` or EOF before that is :class:`StreamInterrupted`, since
several servers end a failed stream exactly that way. SSE framing is httpx-sse's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import typing
import urllib.parse
from collections.abc import AsyncIterator, Mapping

import httpx
from httpx_sse import EventSource

from ..errors import (
    BadRequest,
    ContextTooLong,
    IdleTimeout,
    NbchatError,
    StreamInterrupted,
)
from . import _http, register
from ._ndjson import json_object
from ._tool_wire import openai_messages, tool_definitions, tools_refused
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

__all__ = ["OPENAI_OPTIONS", "OpenAIProvider"]

#: The common options plus ``reasoning_effort`` for reasoning models, with the values
#: OpenAI's API reference lists (which a model accepts varies: gpt-5.1 adds "none").
OPENAI_OPTIONS: Mapping[str, Option] = {
    **COMMON_OPTIONS,
    "reasoning_effort": Option(
        "how much a reasoning model reasons before it answers",
        (str,),
        choices=("none", "minimal", "low", "medium", "high", "xhigh"),
        example="'low'",
    ),
    "tool_choice": Option(
        "whether the model must call a tool: 'auto', 'none', 'required', or "
        "{'type': 'function', 'function': {'name': …}} for one",
        (str, dict),
        choices=("auto", "none", "required"),
        example="'required'",
    ),
}

_JSON_TYPES = frozenset({"application/json", "text/json"})


@register
class OpenAIProvider(Provider):
    """Talks to ``{base_url}/chat/completions`` with ``stream: true``."""

    name = "openai"
    label = "OpenAI-compatible"
    # Typed as the base class has it, so a subclass can unset it (a gateway of its own).
    default_base_url: typing.ClassVar[str | None] = "https://api.openai.com/v1"
    base_url_env_var = "OPENAI_BASE_URL"
    key_env_var = "OPENAI_API_KEY"
    example_model = "gpt-4o-mini"
    options = OPENAI_OPTIONS
    fixed_headers: typing.ClassVar[Mapping[str, str]] = {"Cache-Control": "no-store"}

    def body(self, request: ChatRequest) -> dict[str, typing.Any]:
        """The JSON body of ``POST /chat/completions`` (options validated here)."""
        body: dict[str, typing.Any] = {
            "model": request.model,
            "messages": openai_messages(request.messages),
            "stream": True,
            # Without this most servers send no token counts in a stream.
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            body["tools"] = tool_definitions(request.tools)
        body.update(self.check_options(request.options))
        return body

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        body = self.body(request)
        endpoint = self._endpoint(request.model, sends_images=bool(request.images))
        reply = _ChatCompletionReply(endpoint)
        url = f"{self.base_url}/chat/completions"
        headers = self.request_headers("text/event-stream")
        try:
            # One generator, not a generator per attempt: every event passes through each
            # generator frame, and this path runs once per token.
            for last_try in (False, True):
                try:
                    async with _http.stream(
                        endpoint, url, body, headers=headers, timeouts=self.timeouts
                    ) as response:
                        media = _http.content_type(response)
                        if media != "text/event-stream":
                            if media not in _JSON_TYPES:
                                expected = "an event stream (SSE)"
                                raise await _http.reject_body(endpoint, response, expected)
                            for event in await _whole_reply(endpoint, response):
                                yield event
                            return
                        try:
                            sses = EventSource(response).aiter_sse()
                            async with contextlib.aclosing(sses):
                                async for sse in sses:
                                    data = sse.data
                                    if not data:
                                        continue
                                    if data[0] == "[" and data.strip() == "[DONE]":
                                        break
                                    for event in reply.decode(data, sse.event):
                                        yield event
                        except (IdleTimeout, StreamInterrupted):
                            # After a finish_reason the reply is whole; a server that then
                            # stalls or drops the connection instead of sending [DONE]
                            # loses us nothing.
                            if reply.finish_reason is None:
                                raise
                        if reply.finish_reason is None:
                            if response.num_bytes_downloaded == 0:
                                raise await self._empty_stream(endpoint, body)
                            raise StreamInterrupted(
                                f"The reply from {endpoint.label} ended before it was complete "
                                "(no finish_reason).",
                            )
                    break
                except BadRequest as exc:
                    # A few strict servers reject stream_options (it is newer than
                    # streaming): ask once more without it, only when the server named it.
                    said = exc.message.lower()
                    named = "stream_options" in said or "include_usage" in said
                    if last_try or reply.started or not named:
                        raise
                    del body["stream_options"]
            for event in reply.finish():
                yield event
        except NbchatError as exc:
            refused = tools_refused(exc, request, ollama=False)
            self.adopt_error(refused, model=request.model, partial=reply.text)
            if refused is exc:
                raise
            raise refused  # noqa: B904 - chained to the server's error in tools_refused

    async def _empty_stream(
        self, endpoint: _http.Endpoint, body: dict[str, typing.Any]
    ) -> NbchatError:
        # A 200 event stream with no bytes at all is how llama-cpp-python's server says
        # the prompt overflowed the context. Asking the same thing without streaming
        # (one token at most) gets the real error when that is the cause.
        probe = {k: v for k, v in body.items() if k != "stream_options"}
        probe.update(stream=False, max_tokens=1)
        try:
            async with _http.stream(
                endpoint,
                f"{self.base_url}/chat/completions",
                probe,
                headers=self.request_headers("application/json"),
                timeouts=dataclasses.replace(self.timeouts, first_token=30.0),
            ):
                pass
        except ContextTooLong as exc:
            return exc
        except NbchatError:
            pass
        return StreamInterrupted(
            f"{endpoint.label} ended the reply without sending anything.",
            hint="Some servers do this when the conversation no longer fits the model's "
            "context: try a new conversation or a larger context.",
        )

    async def amodels(self) -> list[str]:
        return await _http.model_names(
            self._endpoint(None),
            f"{self.base_url}/models",
            # Ollama /v1 says "data": null when it has no models.
            lambda data: [str(m["id"]) for m in data.get("data") or []],
            headers=self.request_headers("application/json"),
            timeouts=self.timeouts,
        )

    def _endpoint(self, model: str | None, *, sends_images: bool = False) -> _http.Endpoint:
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        return _http.Endpoint(
            label="OpenAI" if host == "api.openai.com" else "the OpenAI-compatible server",
            base_url=self.base_url,
            api_key=self._api_key,
            provider=self.name,
            model=model,
            key_env_var=self.key_env_var,
            unreachable_hint=self.unreachable_hint,
            sends_images=sends_images,
            model_not_found_hint=self.model_hint(model or ""),
        )


@dataclasses.dataclass
class _ToolCallParts:
    id: str | None = None
    name: str = ""
    arguments: list[str] = dataclasses.field(default_factory=list)


class _ChatCompletionReply:
    """One Chat Completions reply so far: what it has said, and its chunks → events."""

    def __init__(self, endpoint: _http.Endpoint) -> None:
        self.endpoint = endpoint
        self.parts: list[str] = []
        self.started = False
        self.finish_reason: str | None = None
        self.tools: dict[int, _ToolCallParts] = {}
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.tokens_per_second: float | None = None
        self.duration_s: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def decode(self, data: str, event_name: str) -> list[StreamEvent]:
        chunk = json_object(data, "in an event")
        error = chunk.get("error")
        if error or event_name == "error":
            raise _http.error_from_payload(
                self.endpoint, error or chunk, started=self.started or bool(self.parts)
            )
        self.started = True
        events: list[StreamEvent] = []
        choices = chunk.get("choices")
        if choices:
            for choice in choices:
                if choice.get("index", 0) == 0:
                    self._choice(choice, events)
        if chunk.get("usage") or "timings" in chunk or "x_groq" in chunk:
            self._usage(chunk)
        return events

    def _choice(self, choice: Mapping[str, typing.Any], events: list[StreamEvent]) -> None:
        delta = choice.get("delta")
        if delta:
            content = delta.get("content")
            if content and len(delta) == 1:  # the common case: {"content": "…"}
                self.parts.append(content)
                events.append(TextDelta(content))
            else:
                self._delta(delta, events)
        finish = choice.get("finish_reason")
        if finish:
            if finish == "error":
                raise _http.error_from_payload(
                    self.endpoint, "the server ended the reply with an error", started=True
                )
            self.finish_reason = str(finish)

    def _delta(self, delta: Mapping[str, typing.Any], events: list[StreamEvent]) -> None:
        for key in ("reasoning_content", "reasoning", "thinking"):
            reasoning = delta.get(key)
            if reasoning and isinstance(reasoning, str):
                events.append(ReasoningDelta(reasoning))
                break
        for key in ("content", "refusal"):
            text = delta.get(key)
            if text and isinstance(text, str):
                self.parts.append(text)
                events.append(TextDelta(text))
        for position, fragment in enumerate(delta.get("tool_calls") or ()):
            index = fragment.get("index")
            parts = self.tools.setdefault(
                index if isinstance(index, int) else position, _ToolCallParts()
            )
            parts.id = parts.id or fragment.get("id")
            function = fragment.get("function") or {}
            name = function.get("name") or ""
            # OpenAI names the function in a call's first fragment only; llama-cpp-python's
            # server repeats the whole name (and id) in every fragment: not more name.
            if name != parts.name:
                parts.name += name
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                parts.arguments.append(arguments)
            elif arguments is not None:  # a server that sends an object, as Ollama does
                parts.arguments.append(json.dumps(arguments, ensure_ascii=False))

    def _usage(self, chunk: Mapping[str, typing.Any]) -> None:
        usage = chunk.get("usage")
        groq = chunk.get("x_groq")
        if not usage and isinstance(groq, dict):
            usage = groq.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = _int(usage.get("prompt_tokens"), self.prompt_tokens)
            self.completion_tokens = _int(usage.get("completion_tokens"), self.completion_tokens)
            seconds = usage.get("completion_time")  # Groq
            if isinstance(seconds, int | float) and seconds > 0 and self.completion_tokens:
                self.tokens_per_second = self.completion_tokens / seconds
            total = usage.get("total_time")
            if isinstance(total, int | float) and total > 0:
                self.duration_s = float(total)
        timings = chunk.get("timings")  # llama.cpp
        if isinstance(timings, dict):
            rate = timings.get("predicted_per_second")
            if isinstance(rate, int | float):
                self.tokens_per_second = float(rate)
            ms = [timings.get("prompt_ms"), timings.get("predicted_ms")]
            if all(isinstance(v, int | float) for v in ms):
                self.duration_s = (ms[0] + ms[1]) / 1000.0  # type: ignore[operator]
            self.completion_tokens = _int(timings.get("predicted_n"), self.completion_tokens)
            if self.prompt_tokens is None:
                self.prompt_tokens = _int(timings.get("prompt_n"), None)

    def finish(self) -> list[StreamEvent]:
        events: list[StreamEvent] = [
            ToolCall(index=i, name=p.name, arguments="".join(p.arguments), id=p.id)
            for i, p in sorted(self.tools.items())
        ]
        counts = (
            self.prompt_tokens,
            self.completion_tokens,
            self.tokens_per_second,
            self.duration_s,
        )
        if any(v is not None for v in counts):
            events.append(Usage(*counts))
        events.append(Finish(self.finish_reason or "stop"))
        return events


async def _whole_reply(endpoint: _http.Endpoint, response: httpx.Response) -> list[StreamEvent]:
    """A server that ignored ``stream: true`` and answered with one JSON completion."""
    body = await _http.read_capped(response, limit=16 * 1024 * 1024)
    try:
        data = json.loads(body)
        choice = data["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        data = None
    if data is None:
        response = httpx.Response(response.status_code, headers=response.headers, content=body)
        raise await _http.reject_body(endpoint, response, "an event stream (SSE)")
    reply = _ChatCompletionReply(endpoint)
    events: list[StreamEvent] = []
    reply._delta(
        {k: message.get(k) for k in ("content", "reasoning_content", "reasoning", "refusal")},
        events,
    )
    for position, call in enumerate(message.get("tool_calls") or ()):
        fragment = dict(call)
        fragment.setdefault("index", position)
        reply._delta({"tool_calls": [fragment]}, [])
    reply.finish_reason = str(choice.get("finish_reason") or "stop")
    reply._usage(data)
    return events + reply.finish()


def _int(value: object, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
