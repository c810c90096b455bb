"""The HTML transcript: the static fallback for places without the widget's JavaScript.

nbviewer, nbconvert and GitHub show it: everything escaped, no script, math left as TeX
source, fenced code as ``<pre><code>`` and the rest as pre-wrapped paragraphs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from ..messages import Message, image_parts
from ._lines import FENCE, ROLE_TITLES, image_label, meta_line, thumbnail, with_tools

__all__ = ["to_html"]


def to_html(
    messages: Iterable[Message],
    *,
    system: str | None = None,
    title: str | None = None,
    thumbnails: bool = False,
) -> str:
    """A static HTML transcript: escaped, no script, math left as TeX source; images as
    placeholders, or with ``thumbnails`` their embedded thumbnails."""
    out = ['<div class="nbchat-transcript" style="font-family: sans-serif; max-width: 52em">']
    if title:
        out.append(f"<h2>{html.escape(title)}</h2>")
    if system:
        out.append("<h3>System</h3>")
        out.append(_html_body(system))
    for message in messages:
        role = message.get("role", "user")
        out.append(f"<h3>{html.escape(ROLE_TITLES.get(role, role.title()))}</h3>")
        meta = message.get("meta") or {}
        line = meta_line(meta) if role == "assistant" else ""
        if line:
            out.append(f"<p><small><em>{html.escape(line)}</em></small></p>")
        reasoning = message.get("reasoning")
        if reasoning:
            out.append(f"<details><summary>Reasoning</summary>{_html_body(reasoning)}</details>")
        tool_parts = with_tools(message)
        if tool_parts is not None:
            for kind, value in tool_parts:
                if kind == "text":
                    out.append(_html_body(value))
                else:
                    out.append(f'<p class="nbchat-tool">🔧 <code>{html.escape(value)}</code></p>')
        elif message["content"]:
            out.append(_html_body(message["content"]))
        for image in image_parts(message):
            label = html.escape(image_label(image))
            shown = thumbnail(image) if thumbnails else None
            out.append(
                f'<p><img src="{shown}" alt="{label}" title="{label}"></p>'
                if shown
                else f"<p>[{label}]</p>"
            )
        if meta.get("error"):
            hint = meta.get("hint")
            text = html.escape(str(meta["error"])) + (f" — {html.escape(hint)}" if hint else "")
            out.append(f"<blockquote><strong>Error:</strong> {text}</blockquote>")
    out.append("</div>")
    return "\n".join(out)


def _html_body(text: str) -> str:
    """Fenced code as ``<pre><code>``, the rest as pre-wrapped paragraphs (all escaped)."""
    out: list[str] = []
    prose: list[str] = []
    code: list[str] = []
    opener: str | None = None
    language = ""

    def flush_prose() -> None:
        joined = "\n".join(prose).strip("\n")
        prose.clear()
        for paragraph in re.split(r"\n{2,}", joined):
            if paragraph.strip():
                out.append(f'<p style="white-space: pre-wrap">{html.escape(paragraph)}</p>')

    for line in text.split("\n"):
        match = FENCE.match(line)
        if opener is None and match:
            flush_prose()
            opener = match.group(1)
            language = line.strip()[len(opener) :].strip().split(" ")[0]
        elif opener is not None and match and match.group(1)[0] == opener[0]:
            out.append(_html_code(code, language))
            code.clear()
            opener = None
        elif opener is not None:
            code.append(line)
        else:
            prose.append(line)
    if opener is not None:
        out.append(_html_code(code, language))
    flush_prose()
    return "\n".join(out)


def _html_code(lines: list[str], language: str) -> str:
    cls = f' class="language-{html.escape(language)}"' if language else ""
    return f"<pre><code{cls}>{html.escape(chr(10).join(lines))}</code></pre>"
