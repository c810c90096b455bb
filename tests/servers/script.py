"""What an emulator says (:class:`Reply`) and how it misbehaves (:class:`Behaviour`).

A behaviour can be set for the whole server, per scripted reply, or per request — the
last two from outside the test process too, which is what a notebook kernel needs:

- in the model name: ``"llama3.2@drop_after=3,crlf"`` (the server answers as ``llama3.2``);
- in a request header: ``X-Emulator: drop_after=3,crlf``.

Later sources win: server < reply < model name < header. ``text=`` and ``reasoning=``
take percent-encoded text (``text=Hello%2C%20world``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
import urllib.parse
from collections.abc import Mapping, Sequence

__all__ = [
    "DEFAULT_TEXT",
    "ERROR_KINDS",
    "Behaviour",
    "Reply",
    "ToolCallSpec",
    "parse_behaviour",
    "split_model",
    "tokenize",
]

#: The default answer: Markdown, multi-byte UTF-8 (2, 3 and 4 bytes) and a line break.
DEFAULT_TEXT = "Hello from the **emulator**: naïve café, 中文 and 🎉.\n\nAll `good`."

#: The HTTP errors every flavour can answer with, in its own words (``error=<kind>``).
ERROR_KINDS = (
    "unauthorized",  # 401
    "forbidden",  # 403
    "model_not_found",  # 404
    "context",  # 400, the prompt does not fit
    "rate_limit",  # 429 (add retry_after=…)
    "server",  # 500
    "loading",  # 503, model loading
    "busy",  # 503, queue full
    "bad_request",  # 400
    "not_found",  # 404 for the route itself
)


@dataclasses.dataclass(frozen=True)
class ToolCallSpec:
    """A tool call the emulator makes. ``raw`` replaces the arguments' JSON text (OpenAI
    dialects only: Ollama sends objects), to send arguments that are not JSON."""

    name: str
    arguments: Mapping[str, typing.Any]
    id: str = "call_emul0001"
    raw: str | None = None

    def text(self) -> str:
        return self.raw if self.raw is not None else json.dumps(dict(self.arguments))


@dataclasses.dataclass(frozen=True)
class Reply:
    """A scripted answer. ``tokens`` overrides how ``text`` is cut into pieces."""

    text: str = DEFAULT_TEXT
    reasoning: str = ""
    tokens: Sequence[str] | None = None
    reasoning_tokens: Sequence[str] | None = None
    tool_calls: Sequence[ToolCallSpec] = ()
    final_text: str = ""  # Ollama: text carried by the done:true line itself
    #: OpenAI dialects: characters per arguments fragment (0: thirds), and whether the
    #: fragments of parallel calls interleave (by index) instead of following each other.
    fragment: int = 0
    interleave: bool = False
    finish_reason: str = "stop"
    prompt_tokens: int = 12
    tokens_per_second: float = 50.0  # what the server claims in its timings
    behaviour: Behaviour | None = None

    def text_pieces(self) -> list[str]:
        return list(self.tokens) if self.tokens is not None else tokenize(self.text)

    def reasoning_pieces(self) -> list[str]:
        if self.reasoning_tokens is not None:
            return list(self.reasoning_tokens)
        return tokenize(self.reasoning)


@dataclasses.dataclass(frozen=True)
class Behaviour:
    """How to misbehave. Counts are in *token frames* (one text or reasoning piece)."""

    # pacing
    tps: float | None = None  # token frames per second (None: as fast as possible)
    first_delay: float = 0.0  # seconds before the first frame (Ollama: before the headers)
    stall_after: int | None = None  # stop after N token frames…
    stall: float | None = None  # …for this many seconds (None: until the client leaves)
    # the body's bytes
    split: int | None = None  # cut every frame into two HTTP chunks at this byte offset
    bytewise: bool = False  # every byte its own HTTP chunk: every offset at once
    batch: int = 1  # frames per HTTP chunk (benchmarks: a fast server's big writes)
    bulk: bool = False  # one HTTP chunk per frame, but written 64 KiB at a time (benchmarks)
    repeat: int = 1  # the reply's pieces this many times over (benchmarks: long streams)
    crlf: bool | None = None  # CRLF line endings (None: the flavour's own)
    cr: bool = False  # SSE: lone CR line endings
    comments: bool = False  # SSE: a comment before every event; NDJSON: blank lines
    raw: bool = False  # Ollama: leave U+2028/U+2029 unescaped (Go escapes them)
    ascii: bool = False  # escape every non-ASCII character
    # failures
    error: str | None = None  # an HTTP error, one of ERROR_KINDS
    status: int | None = None  # an HTTP error with this status
    retry_after: str | None = None  # Retry-After header on an error
    error_after: int | None = None  # a mid-stream error after N token frames
    error_style: str | None = None  # SSE: another server's mid-stream error shape
    garbage_after: int | None = None  # a line that is not the protocol after N token frames
    drop_after: int | None = None  # close the connection after N token frames
    reset: bool = False  # drop with RST instead of FIN
    html: bool = False  # 200 with an HTML page
    json_error: bool = False  # 200 application/json {"error": …}
    empty: bool = False  # 200 event stream with no bytes at all
    nonstream: bool = False  # ignore stream:true; one JSON completion
    no_finish: bool = False  # SSE: no finish_reason anywhere
    no_done: bool = False  # SSE: no [DONE]; NDJSON: no done:true line
    no_usage: bool = False  # no usage / timings
    reject_stream_options: bool = False  # 400 if the request has stream_options
    reject_tools: bool = False  # 400 "does not support tools" if the request has tools
    blind: bool = False  # a model without vision: refuse a request that holds images
    overflow: bool = False  # llama-cpp-python's context overflow: empty stream, else a 400
    hang: bool = False  # after the last frame, neither end nor close: wait for the client
    leak_key: bool = False  # error texts and garbage lines repeat the Authorization header
    # content
    echo: bool = False  # answer with the last user message
    text: str | None = None
    reasoning: str | None = None

    def merged(self, other: Behaviour | None) -> Behaviour:
        """``self`` with every field ``other`` sets (differs from the default) on top."""
        if other is None:
            return self
        changes = {
            f.name: getattr(other, f.name)
            for f in dataclasses.fields(Behaviour)
            if getattr(other, f.name) != f.default
        }
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in dataclasses.fields(Behaviour)}


def parse_behaviour(spec: str) -> Behaviour:
    """``"tps=20,crlf,error=rate_limit"`` → :class:`Behaviour`. Unknown keys raise."""
    values: dict[str, typing.Any] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, has_value, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if key not in _FIELDS:
            raise ValueError(f"unknown emulator behaviour {key!r}")
        kind = str(_FIELDS[key].type)
        value: typing.Any
        if "bool" in kind:
            value = (raw.lower() not in ("0", "false", "no")) if has_value else True
        elif "float" in kind:
            value = float(raw)
        elif "int" in kind:
            value = int(raw)
        else:
            value = urllib.parse.unquote(raw)
        values[key] = value
    if values.get("error") and values["error"] not in ERROR_KINDS:
        raise ValueError(f"unknown error kind {values['error']!r}; one of {ERROR_KINDS}")
    return Behaviour(**values)


def split_model(model: str) -> tuple[str, Behaviour | None]:
    """``"llama3.2@tps=5"`` → ``("llama3.2", Behaviour(tps=5))``."""
    name, at, spec = model.partition("@")
    return name, (parse_behaviour(spec) if at else None)


_TOKEN = re.compile(r"\s*\S+|\s+")


def tokenize(text: str) -> list[str]:
    """Cut text the way tokenizers roughly do: words with their leading space."""
    pieces = _TOKEN.findall(text)
    # Split long words so that multi-byte characters often start or end a piece.
    out: list[str] = []
    for piece in pieces:
        while len(piece) > 6:
            out.append(piece[:4])
            piece = piece[4:]
        out.append(piece)
    return out
