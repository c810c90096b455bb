"""OpenAI-compatible chat streams in the dialects of real servers (protocols.md §2.7, §3).

A :class:`Dialect` names where each server differs: how the role arrives, where the
finish_reason and the usage go, what the reasoning field is called, the comments it
sends, how it words a mid-stream error, and how its JSON looks. ``stream_plan`` builds
the event stream for one reply in one dialect.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Sequence

from .plan import Frame, Plan, dumps, whole
from .script import Behaviour, Reply

__all__ = ["DIALECTS", "Dialect", "models_body", "nonstream_plan", "stream_plan"]

_CREATED = 1_787_330_400


@dataclasses.dataclass(frozen=True)
class Dialect:
    name: str
    role: str = "own"  # own | own-null | openai | role-only | first | every
    finish: str = "separate"  # separate | last (on the last token chunk)
    usage: str = "chunk"  # chunk (choices [] if asked) | finish | trailing | x_groq | none
    reasoning: str = "reasoning_content"
    json: str = "compact"  # compact | spaced | sorted
    crlf: bool = False
    media: str = "text/event-stream; charset=utf-8"
    leading_comments: tuple[str, ...] = ()
    comment: str = ": ping"
    mid_error: str = "openai"  # how a mid-stream error looks, see _mid_error
    envelope: str = "openai"  # HTTP error bodies, see http_errors
    timings: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    owned_by: str = "system"


DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect("openai", role="openai", reasoning="", headers=(("openai-processing-ms", "12"),)),
        Dialect(
            "ollama-v1",
            role="first",
            reasoning="reasoning",
            mid_error="lost",
            envelope="openai",
            owned_by="library",
        ),
        Dialect(
            "llama.cpp",
            role="own-null",
            json="sorted",
            crlf=True,  # as sse-starlette-based servers write it (DEFAULT_SEPARATOR)
            comment=": ping - 2026-11-24 13:06:02.383822+00:00",
            mid_error="llamacpp",
            envelope="llamacpp",
            timings=True,
            owned_by="llamacpp",
        ),
        Dialect(
            "llama-cpp-python",  # exactly the captured llama-cpp-python 0.3.36 server
            role="role-only",
            json="spaced",
            usage="none",
            comment=": ping - 2026-11-24 13:06:02.383822+00:00",
            mid_error="lost",
            envelope="fastapi",
            headers=(("server", "uvicorn"), ("x-accel-buffering", "no")),
            owned_by="me",
        ),
        Dialect(
            "vllm",
            finish="last",
            reasoning="reasoning",
            comment=": keep-alive",
            mid_error="vllm",
            envelope="vllm",
            media="text/event-stream",
            owned_by="vllm",
        ),
        Dialect(
            "openrouter",
            role="every",
            finish="last",
            usage="trailing",
            reasoning="reasoning",
            leading_comments=(": OPENROUTER PROCESSING", ": OPENROUTER PROCESSING"),
            comment=": OPENROUTER PROCESSING",
            mid_error="openrouter",
            envelope="openrouter",
            owned_by="openrouter",
        ),
        Dialect(
            "litellm",  # litellm 1.108.7's proxy before an OpenAI-like upstream (test_litellm)
            role="own",
            mid_error="litellm",
            envelope="litellm",
            headers=(("x-litellm-version", "1.108.7"),),
            owned_by="openai",
        ),
        Dialect(
            "lmstudio",
            headers=(("X-Powered-By", "Express"),),
            owned_by="organization_owner",
        ),
        Dialect("groq", usage="x_groq", reasoning="reasoning", owned_by="Meta"),
    )
}

_MID_MESSAGE = "The server had an error while processing your request. Sorry about that!"


def stream_plan(
    dialect: Dialect,
    reply: Reply,
    b: Behaviour,
    model: str,
    include_usage: bool,
    leak: str = "",
) -> Plan:
    eol = "\r" if b.cr else ("\r\n" if (dialect.crlf if b.crlf is None else b.crlf) else "\n")
    headers = {"Content-Type": dialect.media, "Cache-Control": "no-cache", **dict(dialect.headers)}
    frames: list[Frame] = []
    if b.empty:
        return Plan(200, headers, frames)
    state = {"sent_role": False}

    def raw(text: str, *, token: bool = False) -> None:
        if b.comments:
            frames.append(Frame((dialect.comment + eol + eol).encode()))
        frames.append(Frame((text + eol + eol).encode(), token))

    def event(obj: typing.Any, *, token: bool = False) -> None:
        raw("data: " + dumps(obj, style=dialect.json, ascii=b.ascii), token=token)

    def chunk(
        delta: dict[str, typing.Any], finish: str | None = None, **extra: typing.Any
    ) -> dict[str, typing.Any]:
        if dialect.role == "every" or (dialect.role == "first" and not state["sent_role"]):
            delta = {"role": "assistant", **delta}
            state["sent_role"] = True
        return _chunk(dialect, model, delta, finish, include_usage, **extra)

    for comment in dialect.leading_comments:
        frames.append(Frame((comment + eol + eol).encode()))
    if dialect.role in ("own", "own-null", "openai", "role-only"):
        firsts: dict[str, dict[str, typing.Any]] = {
            "own": {"role": "assistant", "content": ""},
            "own-null": {"role": "assistant", "content": None},
            "openai": {"role": "assistant", "content": "", "refusal": None},
            "role-only": {"role": "assistant"},
        }
        event(chunk(firsts[dialect.role]))
        state["sent_role"] = True

    pieces = [(dialect.reasoning or "reasoning_content", p) for p in reply.reasoning_pieces()]
    if not dialect.reasoning:  # OpenAI hides reasoning
        pieces = []
    pieces += [("content", p) for p in reply.text_pieces()]
    finish = None if b.no_finish else ("tool_calls" if reply.tool_calls else reply.finish_reason)
    last_carries_finish = dialect.finish == "last" and not reply.tool_calls
    tokens = 0
    for i, (field, piece) in enumerate(pieces):
        if b.error_after is not None and tokens == b.error_after:
            _mid_error(b.error_style or dialect.mid_error, raw, event, chunk, eol, leak)
            return Plan(200, headers, frames)
        if b.garbage_after is not None and tokens == b.garbage_after:
            raw(f"data: <html><body>502 Bad Gateway{leak}</body></html>")
        is_last = i == len(pieces) - 1
        event(
            chunk({field: piece}, finish if is_last and last_carries_finish else None), token=True
        )
        tokens += 1
    if b.error_after is not None and tokens <= b.error_after:
        _mid_error(b.error_style or dialect.mid_error, raw, event, chunk, eol, leak)
        return Plan(200, headers, frames)

    streams: list[list[dict[str, typing.Any]]] = []  # each call's deltas, in order
    for index, call in enumerate(reply.tool_calls):
        arguments = call.text()
        if dialect.name == "ollama-v1":  # whole calls in one chunk
            fragment = {"index": index, "id": call.id, "type": "function"}
            fragment["function"] = {"name": call.name, "arguments": arguments}
            streams.append([fragment])
            continue
        head = {"index": index, "id": call.id, "type": "function"}
        head["function"] = {"name": call.name, "arguments": ""}
        size = reply.fragment or max(1, len(arguments) // 3)
        cuts = [arguments[i : i + size] for i in range(0, len(arguments), size)]
        if dialect.name == "llama-cpp-python":
            # Its chatml-function-calling format repeats the id, type and whole name in
            # every fragment (and a legacy function_call beside each), as captured from
            # the real server in tests/python/providers/test_llamacpp_tools.py.
            streams.append(
                [{**head, "function": {"name": call.name, "arguments": p}} for p in cuts]
            )
            continue
        streams.append([head] + [{"index": index, "function": {"arguments": p}} for p in cuts])
    if reply.interleave:  # parallel calls' fragments mixed, as some servers send them
        order = [
            s[i] for i in range(max(map(len, streams), default=0)) for s in streams if i < len(s)
        ]
    else:
        order = [delta for s in streams for delta in s]
    for delta in order:
        event(chunk({"tool_calls": [delta]}))

    usage = None if b.no_usage else _usage(reply, tokens)
    timings = _timings(reply, tokens) if dialect.timings and not b.no_usage else None
    if not (last_carries_finish and pieces) or finish is None:
        extra: dict[str, typing.Any] = {}
        if dialect.usage == "finish" and usage:
            extra["usage"] = usage
        if dialect.usage == "x_groq" and usage:
            extra["x_groq"] = {"id": "req_emulator", "usage": _groq_usage(reply, tokens)}
        if timings and not (include_usage and dialect.usage == "chunk"):
            extra["timings"] = timings
        if finish is not None or extra:
            event(chunk({}, finish, **extra))
    if usage and dialect.usage == "chunk" and include_usage:
        last = _chunk(dialect, model, None, None, include_usage, usage=usage)
        if timings:
            last["timings"] = timings
        event(last)
    if usage and dialect.usage == "trailing":
        event(chunk({"content": ""}, None, usage={**usage, "cost": 0, "is_byok": False}))
    if not b.no_done:
        raw("data: [DONE]")
    return Plan(200, headers, frames)


def _chunk(
    dialect: Dialect,
    model: str,
    delta: dict[str, typing.Any] | None,
    finish: str | None,
    include_usage: bool,
    **extra: typing.Any,
) -> dict[str, typing.Any]:
    """One chunk object with the fields (and field order) the server uses."""
    choices: list[dict[str, typing.Any]] = []
    if dialect.name == "litellm":
        # No logprobs, no finish_reason key until the last chunk, and its usage chunk
        # keeps a choice with an empty delta (OpenAI's has none).
        lite: dict[str, typing.Any] = {"index": 0, "delta": {} if delta is None else delta}
        if finish is not None:
            lite["finish_reason"] = finish
        choices.append(lite)
    elif delta is not None:
        choice: dict[str, typing.Any] = {"index": 0, "delta": delta}
        if dialect.name in ("openai", "groq", "llama-cpp-python", "vllm", "openrouter"):
            choice["logprobs"] = None
        choice["finish_reason"] = finish
        if dialect.name == "openrouter":
            choice["native_finish_reason"] = finish
        if dialect.name == "vllm":
            choice["stop_reason"] = None
        choices.append(choice)
    name = dialect.name
    head: dict[str, typing.Any]
    if name == "llama-cpp-python":
        head = {"id": "chatcmpl-44f26fd2", "model": model, "created": _CREATED}
        head["object"] = "chat.completion.chunk"
    elif name == "openrouter":
        head = {"id": "gen-1759187999-emulator", "provider": "Emulator", "model": model}
        head.update(object="chat.completion.chunk", created=_CREATED)
    else:
        ident = "chatcmpl-412" if name == "ollama-v1" else "chatcmpl-emulator0001"
        head = {"id": ident, "object": "chat.completion.chunk", "created": _CREATED}
        head["model"] = model
        if name == "openai":
            head.update(service_tier="default", system_fingerprint=None)
        elif name == "ollama-v1":
            head["system_fingerprint"] = "fp_ollama"
        elif name == "llama.cpp":
            head["system_fingerprint"] = "b6400-1a2b3c4d"
    head["choices"] = choices
    if name == "openai" and include_usage:
        head["usage"] = None
    head.update(extra)
    if name == "openai":
        head["obfuscation"] = "kSx18"
    return head


def _usage(reply: Reply, tokens: int) -> dict[str, typing.Any]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": tokens,
        "total_tokens": reply.prompt_tokens + tokens,
    }


def _groq_usage(reply: Reply, tokens: int) -> dict[str, typing.Any]:
    seconds = tokens / reply.tokens_per_second
    return {
        "queue_time": 0.06,
        "prompt_tokens": reply.prompt_tokens,
        "prompt_time": 0.0002,
        "completion_tokens": tokens,
        "completion_time": seconds,
        "total_tokens": reply.prompt_tokens + tokens,
        "total_time": seconds + 0.0002,
    }


def _timings(reply: Reply, tokens: int) -> dict[str, typing.Any]:
    predicted_ms = tokens / reply.tokens_per_second * 1000.0
    return {
        "cache_n": 0,
        "predicted_ms": predicted_ms,
        "predicted_n": tokens,
        "predicted_per_second": reply.tokens_per_second,
        "predicted_per_token_ms": 1000.0 / reply.tokens_per_second,
        "prompt_ms": 30.0,
        "prompt_n": reply.prompt_tokens,
        "prompt_per_second": reply.prompt_tokens / 0.03,
        "prompt_per_token_ms": 30.0 / max(reply.prompt_tokens, 1),
    }


def _mid_error(
    style: str,
    raw: typing.Callable[..., None],
    event: typing.Callable[..., None],
    chunk: typing.Callable[..., dict[str, typing.Any]],
    eol: str,
    leak: str = "",
) -> None:
    """The server failing after the reply started, in its own way."""
    failure = "emulated failure" + leak
    if style == "lost":  # Ollama /v1 drops the error: an empty chunk, then EOF
        event(chunk({"content": ""}))
    elif style == "llamacpp":
        event({"error": {"code": 500, "message": failure, "type": "server_error"}})
    elif style == "llamacpp-old":  # a non-standard SSE field spec parsers drop, then [DONE]
        old_error = {"code": 500, "message": failure, "type": "server_error"}
        raw("error: " + json.dumps(old_error, separators=(",", ":")))
        raw("data: [DONE]")
    elif style == "vllm":
        error = {"message": failure, "type": "InternalServerError", "param": None}
        event({"error": {**error, "code": 500}})
        raw("data: [DONE]")
    elif style == "openrouter":
        failed = chunk({"content": ""}, "error")
        message = "Provider disconnected unexpectedly" + leak
        failed["error"] = {"code": "server_error", "message": message}
        event(failed)
    elif style == "litellm":  # Python's json.dumps spacing, JSON nulls, no [DONE] after
        message = f"litellm.APIConnectionError: APIConnectionError: OpenAIException - {failure}"
        error = {"message": message, "type": None, "param": None, "code": "500"}
        raw("data: " + json.dumps({"error": error}))
    elif style == "event":  # an `event: error` line before the data
        data = json.dumps({"error": {"message": _MID_MESSAGE + leak}})
        raw("event: error" + eol + "data: " + data)
    elif style == "string":  # the error as a bare string
        event({"error": _MID_MESSAGE + leak})
    else:
        event({"error": {"message": _MID_MESSAGE + leak, "type": "server_error"}})


def nonstream_plan(dialect: Dialect, reply: Reply, model: str) -> Plan:
    """A server that ignores ``stream: true``: one ``chat.completion`` object."""
    message: dict[str, typing.Any] = {"role": "assistant", "content": reply.text}
    if reply.reasoning and dialect.reasoning:
        message[dialect.reasoning] = reply.reasoning
    pieces = len(reply.text_pieces())
    body = {
        "id": "chatcmpl-emulator0001",
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": _usage(reply, pieces),
    }
    return whole(200, body)


def models_body(dialect: Dialect, models: Sequence[str]) -> dict[str, typing.Any]:
    if not models and dialect.name == "ollama-v1":
        return {"object": "list", "data": None}
    data = []
    for name in models:
        item: dict[str, typing.Any] = {"id": name, "object": "model", "created": _CREATED}
        item["owned_by"] = dialect.owned_by
        if dialect.name == "llama.cpp":
            item["meta"] = {"vocab_type": 2, "n_vocab": 151936, "n_ctx_train": 40960}
        elif dialect.name == "vllm":
            item.update(root=name, parent=None, max_model_len=32768)
        elif dialect.name == "openrouter":
            item.update(canonical_slug=name, context_length=131072, pricing={"prompt": "0"})
        elif dialect.name == "groq":
            item.update(active=True, context_window=131072)
        elif dialect.name == "llama-cpp-python":
            item = {"id": name, "object": "model", "owned_by": "me", "permissions": []}
        data.append(item)
    return {"object": "list", "data": data}
