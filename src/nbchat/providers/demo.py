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

Tests script exact replies through it with :mod:`nbchat.testing`.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
import typing
from collections.abc import AsyncIterator, Mapping, Sequence

from .. import testing
from ..errors import ModelNotFound, NbchatError, StreamInterrupted
from ..images import Image
from . import register
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
LONG_REPLY_TOKENS = 10_000
#: With no pace, the stream still yields to the event loop this often (so Stop lands).
_YIELD_EVERY = 16

_TOKEN = re.compile(r"\s*\S{1,8}|\s+")


def tokenize(text: str) -> list[str]:
    """Split text into word-sized pieces that join back to exactly ``text``."""
    return _TOKEN.findall(text)


# ---------------------------------------------------------------------------------------
# The built-in replies.


def _title(prompt: str) -> str:
    first = " ".join(prompt.split())
    first = re.split(r"(?<=[.?!])\s", first, maxsplit=1)[0]
    if len(first) > 60:
        first = first[:57].rstrip() + "…"
    return first.replace("#", "").replace("`", "").strip() or "Hello"


_INTRO = (
    "*This is the offline **demo** model — no model server is involved, and the reply is "
    "scripted to show what the chat renders.*"
)

_LIST = """## A list

- **Bold**, *italic* and `inline code`
- A [link](https://example.com) that opens in a new tab
- Nested steps:
  1. ask a question
  2. watch the reply stream
"""

_TABLE = """## A table

| Model | Where it runs | Tokens/s |
|:------|:--------------|---------:|
| demo | in the kernel, offline | 40 |
| llama3.2 | Ollama on your machine | ~60 |
| gpt-4o-mini | an OpenAI-compatible server | ~80 |
"""

_CODE_PY = '''## Code

```python
def fibonacci(n: int) -> int:
    """The n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


print([fibonacci(i) for i in range(10)])
```
'''

_MATH = r"""## Math

Inline: Euler's identity $e^{i\pi} + 1 = 0$, and Pythagoras \(a^2 + b^2 = c^2\).

Display, between double dollars:

$$
\int_{-\infty}^{\infty} e^{-x^2}\,dx = \sqrt{\pi}
$$

and between brackets:

\[
\sum_{n=1}^{\infty} \frac{1}{n^2} = \frac{\pi^2}{6}
\]

Prices stay text: it costs $5 and $10, so $15 in all.
"""

_MATH_MORE = r"""## More math

The quadratic formula: $x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}$.

A matrix and its determinant:

$$
A = \begin{pmatrix} a & b \\ c & d \end{pmatrix}, \qquad \det A = ad - bc
$$

Bayes' rule, \(P(A \mid B) = \frac{P(B \mid A)\,P(A)}{P(B)}\), and the Gaussian density:

\[
f(x) = \frac{1}{\sigma\sqrt{2\pi}} \exp\!\left(-\frac{(x-\mu)^2}{2\sigma^2}\right)
\]

A coffee is $3 and a cake is $4.50; neither is math.
"""

_CODE_MORE = """## More code

JavaScript:

```javascript
const debounce = (fn, ms) => {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
};
```

A shell session:

```bash
pip install jupyter-nbchat
jupyter lab
```

And a diff:

```diff
- total = total + x
+ total += x
```
"""

_REASONING = (
    "The user asked: {title}. I should show what the chat can render: a heading, a list, "
    "a table, some code and some math. I will keep it short and label it as the demo."
)


def _showcase(prompt: str) -> str:
    words = prompt.lower()
    head = f"# {_title(prompt)}\n\n{_INTRO}\n\n"
    if re.search(r"\b(math|equation|formula|integral|latex|tex)\b", words):
        return head + _MATH + "\n" + _MATH_MORE
    if re.search(r"\b(code|python|function|program|script)\b", words):
        return head + _CODE_PY + "\n" + _CODE_MORE
    return head + "\n".join((_LIST, _TABLE, _CODE_PY, _MATH))


def _long() -> str:
    parts = [f"# A long demo reply\n\n{_INTRO}\n\n"]
    for i in itertools.count(1):
        squares = i * (i + 1) * (2 * i + 1) // 6
        parts.append(
            f"## Part {i}\n\n"
            f"Step {i} adds $x_{{{i}}} = {i}^2 = {i * i}$ to the running total, so the sum "
            f"so far is \\(\\sum_{{k=1}}^{{{i}}} k^2 = {squares}\\).\n\n"
            f"$$\n\\sum_{{k=1}}^{{{i}}} k = \\frac{{{i}({i}+1)}}{{2}} = {i * (i + 1) // 2}\n$$\n\n"
            f"| k | k² | running sum |\n|---:|---:|---:|\n| {i} | {i * i} | {squares} |\n\n"
            f"```python\ntotal = sum(k * k for k in range(1, {i + 1}))  # {squares}\n```\n\n"
        )
        if len(tokenize("".join(parts))) > LONG_REPLY_TOKENS - 200:
            parts.pop()
            break
    # Pad with one-token words so the reply is exactly LONG_REPLY_TOKENS tokens long.
    body = "".join(parts) + "That is all."
    text = body + " word" * (LONG_REPLY_TOKENS - len(tokenize(body)) - 1) + "\n"
    assert len(tokenize(text)) == LONG_REPLY_TOKENS
    return text


_LONG_TEXT: str | None = None


def _builtin_reply(model: str, prompt: str) -> tuple[str, str]:
    """(reasoning, text) for a built-in demo model."""
    global _LONG_TEXT
    if model == "showcase":
        return "", _showcase(prompt)
    if model == "echo":
        return "", prompt
    if model == "math":
        return "", f"# {_title(prompt)}\n\n{_INTRO}\n\n{_MATH}\n{_MATH_MORE}"
    if model == "code":
        return "", f"# {_title(prompt)}\n\n{_INTRO}\n\n{_CODE_PY}\n{_CODE_MORE}"
    if model == "long":
        if _LONG_TEXT is None:
            _LONG_TEXT = _long()
        return "", _LONG_TEXT
    if model == "reasoning":
        answer = f"# {_title(prompt)}\n\n{_INTRO}\n\n{_LIST}\n{_MATH}"
        return _REASONING.format(title=_title(prompt)), answer
    raise AssertionError(model)


#: The built-in demo models, as ``amodels()`` lists them.
MODELS = ("showcase", "echo", "math", "code", "long", "reasoning", "tools")


def received(images: Sequence[Image]) -> str:
    """What the demo says it received: how many images, their sizes and formats."""
    count = f"{len(images)} image{'s' if len(images) != 1 else ''}"
    return f"I received {count}: {', '.join(image.describe() for image in images)}."


def _about_images(model: str, prompt: str, images: Sequence[Image]) -> str:
    said = received(images)
    if model == "echo":
        return f"{prompt}\n\n{said}" if prompt else said
    return (
        f"# {_title(prompt or 'Your images')}\n\n{_INTRO}\n\n{said} The demo cannot see "
        "what they show; a vision model (llava, qwen2.5vl, gemma3, llama3.2-vision) can.\n"
    )


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
            reasoning, text = "", _about_images(request.model, users[-1]["content"], images)
        else:
            reasoning, text = _builtin_reply(request.model, _last(messages, "user"))
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
