"""Export from the widget's menu: the kernel writes Markdown and JSON, the browser saves them.

The front end asks ``{kind: "export", format: "markdown" | "json", request: n}`` and gets
``{kind: "exported", request: n, format, filename, text}`` back: the same text as
``chat.to_markdown()`` (the branch on screen) and ``chat.save("….json")`` (every branch),
so there is one writer of each format (:mod:`nbchat.transcript`). HTML is built in the
browser instead (``js/export/``): typesetting math needs KaTeX, which the kernel has not.
"""

from __future__ import annotations

import pathlib
import typing

from ..errors import InvalidRequest
from ..session import Conversation
from ._protocol import ExportedMsg

__all__ = ["exported"]

_SUFFIX = {"markdown": ".md", "json": ".json"}


def exported(conversation: Conversation, request: typing.Mapping[str, object]) -> ExportedMsg:
    """The answer to an ``export`` command."""
    form = request.get("format")
    number = request.get("request")
    if form not in _SUFFIX:
        raise InvalidRequest(f"Cannot export as {form!r}.", hint="Markdown or JSON.")
    text = conversation.to_markdown() if form == "markdown" else conversation.to_json()
    stem = pathlib.Path(conversation.file).stem if conversation.file else "chat"
    return ExportedMsg(
        kind="exported",
        request=number if isinstance(number, int) and not isinstance(number, bool) else 0,
        format=typing.cast(typing.Literal["markdown", "json"], form),
        filename=stem + _SUFFIX[form],
        text=text,
    )
