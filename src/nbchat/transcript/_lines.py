"""What the Markdown and HTML transcripts say alike, each piece on one line.

A role's title, a reply's ``model · tokens`` line (:func:`meta_line`), an image's label
(:func:`image_label`) and the thumbnail that may be embedded for it, a tool call's line
(:func:`tool_line`), a reply's body in order with its calls (:func:`with_tools`), and where
a code fence starts. Each document then writes these in its own syntax.
"""

from __future__ import annotations

import re

from ..messages import (
    THUMBNAIL_URL,
    ImagePart,
    Message,
    MessageMeta,
    Part,
    ToolCallPart,
    ToolResultPart,
)

__all__ = [
    "FENCE",
    "ROLE_TITLES",
    "count",
    "image_label",
    "meta_line",
    "thumbnail",
    "tool_line",
    "with_tools",
]

ROLE_TITLES = {"system": "System", "user": "User", "assistant": "Assistant"}
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


_KINDS = {"image/png": "PNG", "image/jpeg": "JPEG"}


def image_label(part: ImagePart) -> str:
    """``"image: 1024x768 PNG"`` (a multiplication sign): an image as a transcript names it.
    Built from known words and integers only: a label goes into Markdown unescaped."""
    kind = _KINDS.get(str(part["mime"]), "?")
    return f"image: {int(part['width'])}×{int(part['height'])} {kind}"


def thumbnail(part: ImagePart) -> str | None:
    """The part's thumbnail, only if it is one nbchat could have made (a PNG or JPEG
    ``data:`` URL): loaded messages are checked, but a transcript is written from any list."""
    url = part.get("thumbnail")
    return url if isinstance(url, str) and THUMBNAIL_URL.fullmatch(url) else None


_SUMMARY = 160  # characters of arguments and of a result in a transcript's tool line


def tool_line(call: ToolCallPart, result: ToolResultPart | None) -> str:
    """``weather({"city": "Paris"}) → done in 0.3 s: {"temp": 21}``, on one line."""
    arguments = _clip(call["arguments"] or "{}")
    head = f"{call['name']}({arguments})"
    if result is None:
        return f"{head} → not run"
    status = str(result.get("status") or "done")
    elapsed = result.get("elapsed_s")
    if isinstance(elapsed, int | float) and status in ("done", "failed"):
        status += f" in {elapsed:.1f} s"
    return f"{head} → {status}: {_clip(result['content'])}"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SUMMARY else text[: _SUMMARY - 1] + "…"


def with_tools(message: Message) -> list[tuple[str, str]] | None:
    """A reply's body in order as ("text", text) and ("tool", tool line), if it called
    tools; else ``None``."""
    parts: list[Part] = message.get("parts") or []
    if not any(p["type"] == "tool_call" for p in parts):
        return None
    results = {p["call_id"]: p for p in parts if p["type"] == "tool_result"}
    out: list[tuple[str, str]] = []
    for part in parts:
        if part["type"] == "text" and part["text"]:
            out.append(("text", part["text"]))
        elif part["type"] == "tool_call":
            out.append(("tool", tool_line(part, results.get(part["id"]))))
    return out


def meta_line(meta: MessageMeta) -> str:
    """``ollama:llama3.2 · 123 tokens · 45.6 tokens/s · stopped`` for a reply's meta."""
    parts: list[str] = []
    if meta.get("model"):
        parts.append(str(meta["model"]))
    if isinstance(meta.get("tokens"), int):
        parts.append(f"{meta['tokens']} tokens")
    rate = meta.get("tokens_per_s")
    if isinstance(rate, (int, float)):
        parts.append(f"{rate:.1f} tokens/s")
    if meta.get("stopped"):
        parts.append("stopped")
    elif meta.get("finish_reason") == "length":
        parts.append("cut off (length)")
    return " · ".join(parts)


def count(n: int, noun: str) -> str:
    """``1 message``, ``2 messages``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
