"""Ollama's native API as the Go server writes it (research/protocols.md §1).

Lines are Go ``json.Marshal`` output: compact, ``<>&`` escaped as ``\\u003c`` etc.,
U+2028/U+2029 escaped, but U+0085 left raw. The status line goes out with the first
line (Ollama's ``streamResponse`` is lazy), so a slow first token also delays headers.
"""

from __future__ import annotations

import datetime
import json
import typing
from collections.abc import Sequence

from .plan import Frame, Plan, whole
from .script import Behaviour, Reply

__all__ = ["VERSION", "chat_plan", "tags_body", "version_body"]

VERSION = "0.32.15"
_EPOCH = datetime.datetime(2026, 8, 21, 18, 0, 0, tzinfo=datetime.timezone.utc)
_MID_STREAM_ERROR = "an error was encountered while running the model: emulated failure"


def go_json(obj: typing.Any, *, raw: bool = False, ascii: bool = False) -> str:
    text = json.dumps(obj, ensure_ascii=ascii, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if not raw:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def _created_at(i: int) -> str:
    # RFC3339Nano: up to nine fractional digits, trailing zeros trimmed, as Go prints it.
    when = _EPOCH + datetime.timedelta(microseconds=12_345 * i)
    frac = f"{when.microsecond:06d}123".rstrip("0")
    return when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def chat_plan(reply: Reply, b: Behaviour, model: str, leak: str = "") -> Plan:
    eol = "\r\n" if b.crlf else "\n"
    frames: list[Frame] = []
    tokens = 0
    n = 0

    def line(obj: dict[str, typing.Any], *, token: bool = False) -> None:
        nonlocal n
        if b.comments and frames:
            frames.append(Frame(eol.encode()))  # a blank line between records
        frames.append(Frame((go_json(obj, raw=b.raw, ascii=b.ascii) + eol).encode(), token))
        n += 1

    def head(message: dict[str, typing.Any]) -> dict[str, typing.Any]:
        return {"model": model, "created_at": _created_at(n), "message": message, "done": False}

    pieces: Sequence[tuple[str, str]] = [("thinking", p) for p in reply.reasoning_pieces()] + [
        ("content", p) for p in reply.text_pieces()
    ]
    for kind, piece in pieces:
        if b.error_after is not None and tokens == b.error_after:
            line({"error": _MID_STREAM_ERROR + leak})
            return _plan(frames)
        if b.garbage_after is not None and tokens == b.garbage_after:
            garbage = f"<html><body>502 Bad Gateway{leak}</body></html>{eol}"
            frames.append(Frame(garbage.encode()))
        message = {"role": "assistant", "content": piece if kind == "content" else ""}
        if kind == "thinking":
            message["thinking"] = piece
        line(head(message), token=True)
        tokens += 1
    if b.error_after is not None and tokens <= b.error_after:
        line({"error": _MID_STREAM_ERROR + leak})
        return _plan(frames)
    if reply.tool_calls:
        calls = [
            {"id": c.id, "function": {"index": i, "name": c.name, "arguments": dict(c.arguments)}}
            for i, c in enumerate(reply.tool_calls)
        ]
        line(head({"role": "assistant", "content": "", "tool_calls": calls}))
    if not b.no_done:
        eval_count = tokens
        eval_ns = int(eval_count / reply.tokens_per_second * 1e9)
        final: dict[str, typing.Any] = {
            "model": model,
            "created_at": _created_at(n),
            "message": {"role": "assistant", "content": reply.final_text},
            "done": True,
            "done_reason": reply.finish_reason,
        }
        if not b.no_usage:
            final.update(
                total_duration=eval_ns + 200_000_000,
                load_duration=12_345_678,
                prompt_eval_count=reply.prompt_tokens,
                prompt_eval_duration=187_654_322,
                eval_count=eval_count,
                eval_duration=eval_ns,
            )
        line(final)
    return _plan(frames)


def _plan(frames: list[Frame]) -> Plan:
    return Plan(200, {"Content-Type": "application/x-ndjson"}, frames, lazy_head=True)


def tags_body(models: Sequence[str]) -> dict[str, typing.Any]:
    return {
        "models": [
            {
                "name": name,
                "model": name,
                "modified_at": "2026-08-01T10:00:00.000000000Z",
                "size": 2_019_393_189,
                "digest": f"{abs(hash(name)):064x}"[:64],
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": "llama",
                    "families": ["llama"],
                    "parameter_size": "3.2B",
                    "quantization_level": "Q4_K_M",
                },
            }
            for name in models
        ]
    }


def version_body() -> dict[str, str]:
    return {"version": VERSION}


def running() -> Plan:
    return whole(200, "Ollama is running")
