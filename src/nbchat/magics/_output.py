"""What a magic leaves in its cell: the live view while a reply streams, then a static
transcript of the exchange (what a saved notebook shows everywhere), and errors as one line."""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping, Sequence

from IPython.display import DisplayHandle
from IPython.display import display as _ipython_display

from ..messages import Message, ToolCallPart, ToolResultPart

if typing.TYPE_CHECKING:
    from ..session import Conversation
    from ..widget import Chat

    class ExchangeView(Chat):
        first: int

        def show_from(self, first: int) -> None: ...


__all__ = [
    "code_from_reply",
    "exchange",
    "exchange_view",
    "show",
    "show_live",
    "static_bundle",
    "tool_line",
    "update",
]


def exchange(messages: Sequence[Message], start: int) -> list[Message]:
    """The messages recorded at or after index ``start``: this call's prompt and reply."""
    return list(messages[start:])


def static_bundle(exchange: Sequence[Message]) -> dict[str, str]:
    """The output a finished exchange leaves: Markdown (math and code intact) and text."""
    from .. import transcript

    if not exchange:
        return {"text/plain": ""}
    plain = []
    for message in exchange:
        who = "You" if message["role"] == "user" else "Reply"
        meta = transcript.meta_line(message.get("meta", {}))
        error = message.get("meta", {}).get("error")
        lines = [f"{who}: {message['content']}".rstrip()]
        parts = message.get("parts") or []
        results = {p["call_id"]: p for p in parts if p["type"] == "tool_result"}
        for part in parts:
            if part["type"] == "tool_call":
                lines.append(tool_line(part, results.get(part["id"])))
        if meta or error:
            lines.append(f"[{' · '.join(part for part in (meta, error) if part)}]")
        plain.append("\n".join(lines))
    # Inert: JupyterLab renders this output trusted, and the text is a model's.
    markdown = transcript.to_markdown(exchange, inert=True)
    return {"text/plain": "\n\n".join(plain), "text/markdown": markdown}


def tool_line(call: ToolCallPart, result: ToolResultPart | None) -> str:
    """A tool call as a plain-text line: ``[tool] weather({…}) → done in 0.3 s: …``."""
    from .. import transcript

    return "[tool] " + transcript.tool_line(call, result)


_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[^\s`]*)[^\n]*\n(?P<code>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_PYTHON = {"", "python", "py", "python3", "ipython", "ipython3"}


def code_from_reply(text: str) -> str:
    """The code of a reply for ``-f code``: its Python blocks, else any blocks, else all."""
    blocks = [(m.group("lang").lower(), m.group("code").rstrip()) for m in _FENCE.finditer(text)]
    chosen = [code for lang, code in blocks if lang in _PYTHON] or [code for _, code in blocks]
    return "\n\n".join(chosen) if blocks else text.strip()


@functools.cache
def _exchange_view_class() -> type[ExchangeView]:
    from ..widget import Chat

    class ExchangeView(Chat):
        """A compact Chat that shows only the messages from index ``first`` on.

        The model still reads the whole history; the cell shows its own exchange.
        """

        first = 0

        def _shown(self, messages: list[Message]) -> list[Message]:
            return list(messages[self.first :])

        def show_from(self, first: int) -> None:
            self.first = first
            self._publish(self.conversation.messages)

    return ExchangeView


def exchange_view(conversation: Conversation) -> ExchangeView:
    return _exchange_view_class()(conversation=conversation, compact=True)


def show(bundle: Mapping[str, str]) -> None:
    _ipython_display(dict(bundle), raw=True)  # type: ignore[no-untyped-call]


def show_live(
    bundle: Mapping[str, object], metadata: Mapping[str, object] | None = None
) -> DisplayHandle | None:
    handle = _ipython_display(  # type: ignore[no-untyped-call]
        dict(bundle), raw=True, metadata=dict(metadata or {}) or None, display_id=True
    )
    return typing.cast("DisplayHandle | None", handle)


def update(handle: DisplayHandle | None, bundle: Mapping[str, str]) -> None:
    if handle is not None:
        handle.update(dict(bundle), raw=True)  # type: ignore[no-untyped-call]
