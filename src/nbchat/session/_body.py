"""What one reply has said so far: its text, reasoning, and — once it calls tools — its
parts in order (text, calls, results), however many model steps that took."""

from __future__ import annotations

import copy

from ..messages import Message, Part, TextPart, ToolCallPart, ToolResultPart
from ..providers.base import WireMessage
from ._history import steps

__all__ = ["ReplyBody"]


class ReplyBody:
    """Appending a piece of text is O(1); joining happens only when someone reads."""

    def __init__(self, base: Message | None = None) -> None:
        self._text: list[str] = [base["content"]] if base is not None else []
        self._reasoning: list[str] = [base.get("reasoning", "")] if base is not None else []
        # Parts, with the text since the last tool part kept apart (it grows per token).
        self._parts: list[Part] = copy.deepcopy(base.get("parts", [])) if base else []
        self._has_tools = any(p["type"] != "text" for p in self._parts)
        if base is not None and not self._parts and base["content"]:
            self._parts = [TextPart(type="text", text=base["content"])]
        self._tail: list[str] = []
        if self._parts and self._parts[-1]["type"] == "text":
            last = self._parts.pop()
            self._tail = [last["text"]] if last["type"] == "text" else []

    @property
    def text(self) -> str:
        return _joined(self._text)

    @property
    def reasoning(self) -> str:
        return _joined(self._reasoning)

    def add_text(self, piece: str) -> None:
        self._text.append(piece)
        self._tail.append(piece)

    def add_reasoning(self, piece: str) -> None:
        self._reasoning.append(piece)

    def at(self) -> int:
        """Where a part added now sits: the text's length so far, in UTF-16 units."""
        return len(self.text.encode("utf-16-le")) // 2  # as JavaScript counts

    def add_call(self, call: ToolCallPart) -> None:
        self._close_tail()
        self._parts.append(call)
        self._has_tools = True

    def add_result(self, result: ToolResultPart) -> None:
        self._close_tail()
        self._parts.append(result)

    def call_ids(self) -> set[str]:
        return {p["id"] for p in self._parts if p["type"] == "tool_call"}

    def open_calls(self) -> list[ToolCallPart]:
        """Calls with no result yet, in order."""
        answered = {p["call_id"] for p in self._parts if p["type"] == "tool_result"}
        return [p for p in self._parts if p["type"] == "tool_call" and p["id"] not in answered]

    def parts(self) -> list[Part] | None:
        """Every part in order (a copy), or ``None`` for a reply of text alone."""
        if not self._has_tools:
            return None
        out = copy.deepcopy(self._parts)
        tail = _joined(self._tail)
        if tail:
            out.append(TextPart(type="text", text=tail))
        return out

    def wire(self) -> list[WireMessage]:
        """This reply so far as the model reads it in the next request."""
        parts = self.parts()
        if parts is None:
            text = self.text
            return [{"role": "assistant", "content": text}] if text else []
        return steps(parts)

    def _close_tail(self) -> None:
        tail = _joined(self._tail)
        if tail:
            self._parts.append(TextPart(type="text", text=tail))
        self._tail = []


def _joined(parts: list[str]) -> str:
    if len(parts) > 1:
        parts[:] = ["".join(parts)]
    return parts[0] if parts else ""
