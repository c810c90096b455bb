"""The Markdown transcript: role headings, a ``model · tokens`` line, content verbatim.

It reads well on GitHub: math and code intact, a code fence left open by a stopped reply
closed, errors as a quoted line, tool calls as one line each. ``inert=True`` (for notebook
outputs, which JupyterLab renders *trusted*) writes the texts through
:func:`~._inert.inert_markdown`, so that model output cannot become live HTML there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..messages import Message, image_parts
from ._inert import inert_markdown
from ._lines import FENCE, ROLE_TITLES, image_label, meta_line, thumbnail, with_tools

__all__ = ["to_markdown"]


def to_markdown(
    messages: Iterable[Message],
    *,
    system: str | None = None,
    title: str | None = None,
    inert: bool = False,
    thumbnails: bool = False,
) -> str:
    """A Markdown transcript: role headings, a model · tokens line, content verbatim.

    ``inert=True`` writes the texts through :func:`inert_markdown` (for notebook outputs).
    Images are placeholder lines, or with ``thumbnails`` their embedded thumbnails.
    """

    def body(text: str) -> str:
        closed = _close_fences(text)
        return inert_markdown(closed) if inert else closed

    blocks: list[str] = []
    if title:
        blocks.append(f"# {inert_markdown(title) if inert else title}")
    if system:
        blocks.append(f"### System\n\n{body(system)}")
    for message in messages:
        role = message.get("role", "user")
        parts = [f"### {ROLE_TITLES.get(role, role.title())}"]
        meta = message.get("meta") or {}
        line = meta_line(meta) if role == "assistant" else ""
        if line:
            parts.append(f"*{_escape_markdown(line)}*")
        reasoning = message.get("reasoning")
        if reasoning:
            parts.append(
                f"<details><summary>Reasoning</summary>\n\n{body(reasoning)}\n\n</details>"
            )
        tool_parts = with_tools(message)
        if tool_parts is not None:
            for kind, value in tool_parts:
                if kind == "text":
                    parts.append(body(value))
                else:
                    line = "> 🔧 " + _code_span(value)
                    parts.append(inert_markdown(line) if inert else line)
        elif message["content"]:
            parts.append(body(message["content"]))
        for image in image_parts(message):
            label = image_label(image)
            shown = thumbnail(image) if thumbnails else None
            parts.append(f"![{label}]({shown})" if shown else f"\\[{label}\\]")
        error = meta.get("error")
        if error:
            hint = meta.get("hint")
            quoted = f"**Error:** {error}" + (f" — {hint}" if hint else "")
            parts.append("> " + _escape_markdown(quoted, keep_bold=True).replace("\n", " "))
        blocks.append("\n\n".join(parts))
    return "\n\n".join(blocks) + "\n"


def _code_span(text: str) -> str:
    """``text`` as one inline code span, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escape_markdown(text: str, *, keep_bold: bool = False) -> str:
    out = re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text)
    if keep_bold:
        out = out.replace(r"\*\*Error:\*\*", "**Error:**", 1)
    return out


def _close_fences(text: str) -> str:
    """Close a code fence left open (a stopped reply) so it cannot swallow what follows."""
    opener: str | None = None
    for line in text.split("\n"):
        match = FENCE.match(line)
        if not match:
            continue
        fence = match.group(1)
        if opener is None:
            opener = fence
        elif (
            fence[0] == opener[0]
            and len(fence) >= len(opener)
            and not line.strip()[len(fence) :].strip()
        ):
            opener = None
    if opener is None:
        return text
    return text + ("" if text.endswith("\n") else "\n") + opener[0] * len(opener)
