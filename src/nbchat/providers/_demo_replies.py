"""What the demo models say: each one's scripted Markdown, and what it says of images.

``showcase`` leans to math or code when the prompt asks for it; ``long`` is exactly
:data:`LONG_REPLY_TOKENS` tokens (:func:`tokenize`'s pieces), made once. Asked about images,
a demo model says what it received, since it cannot see them. The models themselves, and
how they stream, are :mod:`nbchat.providers.demo`'s.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from ..images import Image

__all__ = ["LONG_REPLY_TOKENS", "about_images", "builtin_reply", "received", "tokenize"]

LONG_REPLY_TOKENS = 10_000

_TOKEN = re.compile(r"\s*\S{1,8}|\s+")


def tokenize(text: str) -> list[str]:
    """Split text into word-sized pieces that join back to exactly ``text``."""
    return _TOKEN.findall(text)


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


def builtin_reply(model: str, prompt: str) -> tuple[str, str]:
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


def received(images: Sequence[Image]) -> str:
    """What the demo says it received: how many images, their sizes and formats."""
    count = f"{len(images)} image{'s' if len(images) != 1 else ''}"
    return f"I received {count}: {', '.join(image.describe() for image in images)}."


def about_images(model: str, prompt: str, images: Sequence[Image]) -> str:
    said = received(images)
    if model == "echo":
        return f"{prompt}\n\n{said}" if prompt else said
    return (
        f"# {_title(prompt or 'Your images')}\n\n{_INTRO}\n\n{said} The demo cannot see "
        "what they show; a vision model (llava, qwen2.5vl, gemma3, llama3.2-vision) can.\n"
    )
