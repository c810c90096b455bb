"""The offline demo model: labelled "demo" wherever it shows; it also plays test scripts.

With no model server, nbchat still runs: the demo streams a scripted Markdown reply at a
realistic pace (``tokens_per_second`` option, default 40; ``0`` or ``None`` = as fast as
possible). It never touches the network. Models:

- ``demo:showcase`` (default): headings, a list, a GFM table, fenced Python, math in all four
  delimiters and a currency sentence; leans to math or code when the prompt asks for it
- ``demo:echo``: the prompt, back
- ``demo:math``, ``demo:code``: math-heavy and code-heavy replies
- ``demo:long``: a 10,000-token Markdown + math reply (for benchmarks)
- ``demo:reasoning``: streams reasoning first, then the answer
- ``demo:tools``: calls the tools it is given, then repeats their results

Asked about images, the demo says what it received — how many, their sizes and formats —
in place of its scripted reply (it cannot see them).

Continuing a stopped demo reply (the partial sent as the last assistant message) streams
the rest of the same reply.

Tests script exact replies through it with :mod:`nbchat.testing`. The scripted replies are
:mod:`._demo_replies`; what ``demo:tools`` does, :mod:`._demo_tools`.
"""

from __future__ import annotations

import asyncio
import copy
import typing
from collections.abc import AsyncIterator, Mapping, Sequence

from .. import testing
from ..errors import ModelNotFound, NbchatError, StreamInterrupted
from . import register
from ._demo_replies import about_images, builtin_reply, tokenize
from ._demo_tools import tools_reply
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
    WireMessage,
)

__all__ = [
    "DEFAULT_TOKENS_PER_SECOND",
    "MODELS",
    "DemoProvider",
    "tokenize",
]

DEFAULT_TOKENS_PER_SECOND = 40.0
#: With no pace, the stream still yields to the event loop this often (so Stop lands).
_YIELD_EVERY = 16

#: The built-in demo models, as ``amodels()`` lists them.
MODELS = ("showcase", "echo", "math", "code", "long", "reasoning", "tools")


def _last(messages: Sequence[WireMessage], role: str) -> str:
    for message in reversed(messages):
        if message["role"] == role:
            return message["content"]
    return ""


# ---------------------------------------------------------------------------------------
# The provider.


@register
class DemoProvider(Provider):
    """Offline, scripted replies; labelled "demo". No HTTP."""

    name = "demo"
    label = "demo"
    default_model = "showcase"
    example_model = "echo"
    options: typing.ClassVar[Mapping[str, Option]] = {
        **COMMON_OPTIONS,
        "tokens_per_second": Option(
            "the demo's pace (0: as fast as possible)", (int, float), minimum=0, example="40"
        ),
    }

    @classmethod
    def base_url_for(cls, url: str | None, env: Mapping[str, str] | None = None) -> str | None:
        return None  # it sends nothing anywhere, whatever URL is configured

    async def amodels(self) -> list[str]:
        return list(MODELS)

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        return self._stream(request)

    async def _stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        scripted = testing.scripted(request.model)
        if scripted is not None:
            pace = request.options.get("tokens_per_second", scripted.tokens_per_second)
            reply = scripted._next_reply(request)
            async for event in _play(testing.items(reply), _pace(pace), scripted):
                yield event
            return
        if request.model not in MODELS:
            raise ModelNotFound(
                f"The demo has no model {request.model!r}.",
                hint="Try one of: " + ", ".join(f"demo:{m}" for m in MODELS) + ".",
                provider=self.name,
                model=request.model,
            )
        if request.model == "tools":
            pace = request.options.get("tokens_per_second", DEFAULT_TOKENS_PER_SECOND)
            reply_items = typing.cast(list[testing.ReplyItem], tools_reply(request, tokenize))
            async for event in _play(reply_items, _pace(pace), None):
                yield event
            return
        messages = list(request.messages)
        partial = (
            messages.pop()["content"] if messages and messages[-1]["role"] == "assistant" else ""
        )
        users = [m for m in messages if m["role"] == "user"]
        images = users[-1].get("images", []) if users else []
        if images and request.model != "long":
            reasoning, text = "", about_images(request.model, users[-1]["content"], images)
        else:
            reasoning, text = builtin_reply(request.model, _last(messages, "user"))
        if partial:
            # Continue the stopped reply: the rest of the same text, if it is ours.
            reasoning = ""
            text = text[len(partial) :] if text.startswith(partial) else " …and that is all."
        text, finish = _limit(text, request.options)
        items: list[testing.ReplyItem] = [ReasoningDelta(t) for t in tokenize(reasoning)]
        items.extend(TextDelta(t) for t in tokenize(text))
        prompt_tokens = sum(len(tokenize(m["content"])) for m in request.messages)
        items.append(Usage(prompt_tokens=prompt_tokens, completion_tokens=len(items)))
        items.append(Finish(finish))
        pace = request.options.get("tokens_per_second", DEFAULT_TOKENS_PER_SECOND)
        async for event in _play(items, _pace(pace), None):
            yield event


def _pace(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and value > 0 else 0.0


def _limit(text: str, options: Mapping[str, object]) -> tuple[str, str]:
    """Apply ``stop`` and ``max_tokens`` the way a server would; return (text, finish)."""
    stops = options.get("stop")
    for stop in [stops] if isinstance(stops, str) else list(stops or []):  # type: ignore[call-overload]
        if isinstance(stop, str) and stop and stop in text:
            text = text[: text.index(stop)]
    max_tokens = options.get("max_tokens")
    if isinstance(max_tokens, int) and max_tokens >= 0:
        tokens = tokenize(text)
        if len(tokens) > max_tokens:
            return "".join(tokens[:max_tokens]), "length"
    return text, "stop"


async def _play(
    items: Sequence[testing.ReplyItem], pace: float, scripted: testing.Script | None
) -> AsyncIterator[StreamEvent]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    text: list[str] = []
    finished = False
    for index, item in enumerate(items):
        if pace:
            delay = start + index / pace - loop.time()
            await asyncio.sleep(delay if delay > 0 else 0)
        elif index % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
        if isinstance(item, str):
            item = TextDelta(item)
        if isinstance(item, TextDelta):
            text.append(item.text)
            yield item
        elif isinstance(item, (ReasoningDelta, ToolCall, Usage)):
            yield item
        elif isinstance(item, Finish):
            finished = True
            yield item
            return
        elif isinstance(item, BaseException):
            error = copy.copy(item)  # a repeated reply must not share a traceback
            if isinstance(error, NbchatError) and not error.partial:
                error.partial = "".join(text)
            raise error
        elif isinstance(item, testing.Pause):
            if scripted is not None:
                scripted.stalled.set()
            await item._wait()
        else:  # STALL: wait until cancelled
            if scripted is not None:
                scripted.stalled.set()
            await asyncio.Event().wait()
    if not finished:
        raise StreamInterrupted(
            "The demo reply ended without a finish marker.", partial="".join(text)
        )
