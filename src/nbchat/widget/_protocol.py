"""Every message between the kernel and the front end, tagged by ``kind``.

Mirrors ``js/protocol.ts`` name for name. Committed history (:mod:`nbchat.messages`)
travels in the ``messages`` trait (it is saved with the notebook); the reply in flight
travels as the custom messages below, which are never saved, so a view that (re)connects
says ``hello`` and gets a ``snapshot``.

Offsets and lengths count UTF-16 code units, as JavaScript strings do, so the front end
can check ``offset == text.length`` without converting.
"""

from __future__ import annotations

import typing

__all__ = [
    "ClientMessage",
    "ServerMessage",
    "utf16_len",
]


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what JavaScript's ``.length`` says)."""
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------------------------------
# Kernel -> front end (custom messages).


class StartMsg(typing.TypedDict):
    kind: typing.Literal["start"]
    id: str  # id the assistant message will have in ``messages``
    text: str  # text already there (a continued reply starts from its partial)
    reasoning: str  # likewise for its reasoning
    model: str
    # The turn blocks its cell (``chat.ask``, ``%%chat``): the kernel hears nothing from the
    # front end until it ends, so the view offers no Stop, only how to interrupt the kernel.
    blocking: bool


class _DeltaHead(typing.TypedDict):
    kind: typing.Literal["delta"]
    id: str
    seq: int  # 1, 2, 3… per reply, shared by every message kind after ``start``


class DeltaMsg(_DeltaHead, total=False):
    """New text of the reply in flight. A delta is sent many times a second, so it carries
    only what changed: ``offset`` + ``text`` when there is new answer text,
    ``reasoning_offset`` + ``reasoning`` when there is new reasoning (each pair both or
    neither), and ``tokens`` when the count is refreshed (a few times a second; in between
    the front end estimates it from the text's growth)."""

    offset: int  # where ``text`` starts in the reply's content (UTF-16 units)
    text: str
    reasoning_offset: int
    reasoning: str
    tokens: int  # deltas received so far (a live token count)


class DoneMsg(typing.TypedDict):
    kind: typing.Literal["done"]
    id: str
    seq: int


class ErrorMsg(typing.TypedDict):
    kind: typing.Literal["error"]
    id: str | None  # the reply it ended, or None for a refused command
    message: str
    hint: str


class SnapshotMsg(typing.TypedDict):
    kind: typing.Literal["snapshot"]
    id: str | None  # None: nothing in flight
    seq: int
    text: str
    reasoning: str
    model: str
    tokens: int
    blocking: bool  # as in ``start``


class NoticeMsg(typing.TypedDict):
    kind: typing.Literal["notice"]
    text: str  # e.g. "A reply is still streaming — press Stop first."


class ExportedMsg(typing.TypedDict):
    kind: typing.Literal["exported"]
    request: int  # the number the front end's ``export`` carried
    format: typing.Literal["markdown", "json"]
    filename: str  # a suggested name, e.g. "talk.md"
    text: str


ServerMessage = StartMsg | DeltaMsg | DoneMsg | ErrorMsg | SnapshotMsg | NoticeMsg | ExportedMsg


# ---------------------------------------------------------------------------------------
# Front end -> kernel.


class HelloMsg(typing.TypedDict):
    kind: typing.Literal["hello"]


class ResyncMsg(typing.TypedDict):
    kind: typing.Literal["resync"]
    id: str


class SubmitMsg(typing.TypedDict):
    kind: typing.Literal["submit"]
    text: str


class StopMsg(typing.TypedDict):
    kind: typing.Literal["stop"]


class _RegenerateHead(typing.TypedDict):
    kind: typing.Literal["regenerate"]


class RegenerateMsg(_RegenerateHead, total=False):
    id: str  # the reply to answer again (default: the last one); the earlier one is kept


class ContinueMsg(typing.TypedDict):
    kind: typing.Literal["continue"]


class _EditHead(typing.TypedDict):
    kind: typing.Literal["edit"]
    text: str  # the question's new text; it gets a fresh reply


class EditMsg(_EditHead, total=False):
    id: str  # the question it replaces (default: the last one), kept as a sibling


class SwitchMsg(typing.TypedDict):
    kind: typing.Literal["switch"]
    id: str  # show the branch through this message (a sibling of one on screen)


class ExportMsg(typing.TypedDict):
    kind: typing.Literal["export"]
    format: typing.Literal["markdown", "json"]
    request: int  # echoed in the answer


class ClearMsg(typing.TypedDict):
    kind: typing.Literal["clear"]


ClientMessage = (
    HelloMsg
    | ResyncMsg
    | SubmitMsg
    | StopMsg
    | RegenerateMsg
    | ContinueMsg
    | EditMsg
    | SwitchMsg
    | ExportMsg
    | ClearMsg
)
