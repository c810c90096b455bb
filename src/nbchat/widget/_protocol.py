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


class PartEntry(typing.TypedDict):
    """A part of the reply in flight and where it sits in its text."""

    at: int  # UTF-16 offset in the reply's text where the part sits
    #: A ``tool_call`` part (:mod:`nbchat.messages`) plus ``status`` ("waiting", "running",
    #: "done", "failed", "declined", "stopped", "invalid", "skipped") and ``always_ask``;
    #: or a ``tool_result`` part. A later entry for the same call replaces the earlier.
    part: dict[str, typing.Any]


class _SnapshotHead(typing.TypedDict):
    kind: typing.Literal["snapshot"]
    id: str | None  # None: nothing in flight
    seq: int
    text: str
    reasoning: str
    model: str
    tokens: int
    blocking: bool  # as in ``start``


class SnapshotMsg(_SnapshotHead, total=False):
    parts: list[PartEntry]  # the reply's cards so far, in order (absent: none)


class NoticeMsg(typing.TypedDict):
    kind: typing.Literal["notice"]
    text: str  # e.g. "A reply is still streaming — press Stop first."


class PartMsg(PartEntry):
    """A tool call's card changed in the reply in flight. The text before ``at`` has
    been sent (in deltas) before this message."""

    kind: typing.Literal["part"]
    id: str  # the reply
    seq: int


class ExportedMsg(typing.TypedDict):
    kind: typing.Literal["exported"]
    request: int  # the number the front end's ``export`` carried
    format: typing.Literal["markdown", "json"]
    filename: str  # a suggested name, e.g. "talk.md"
    text: str


class _ImageHead(typing.TypedDict):
    kind: typing.Literal["image"]
    request: int  # the number the front end's ``image`` command carried
    id: str


class ImageMsg(_ImageHead, total=False):
    """The answer to an ``image`` command: the image's bytes are the message's one binary
    buffer; without it, ``error`` says why (the kernel does not have that image)."""

    mime: str
    error: str


ServerMessage = (
    StartMsg
    | DeltaMsg
    | DoneMsg
    | ErrorMsg
    | SnapshotMsg
    | NoticeMsg
    | PartMsg
    | ExportedMsg
    | ImageMsg
)


# ---------------------------------------------------------------------------------------
# Front end -> kernel.


class HelloMsg(typing.TypedDict):
    kind: typing.Literal["hello"]


class ResyncMsg(typing.TypedDict):
    kind: typing.Literal["resync"]
    id: str


class SentImage(typing.TypedDict):
    """What the browser says of an image it sends; the bytes are the comm message's binary
    buffer of the same index (never base64 text). Only a claim: the kernel reads the bytes."""

    mime: str  # "image/png" | "image/jpeg"
    width: int
    height: int


class _SubmitHead(typing.TypedDict):
    kind: typing.Literal["submit"]
    text: str


class SubmitMsg(_SubmitHead, total=False):
    images: list[SentImage]  # one per binary buffer, in order


class ImageRequestMsg(typing.TypedDict):
    """Ask for the full image ``id`` of a message (the larger view); answered by ``image``."""

    kind: typing.Literal["image"]
    id: str
    request: int  # echoed in the answer


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


class _ApproveHead(typing.TypedDict):
    kind: typing.Literal["approve"]
    call_id: str
    allow: bool


class ApproveMsg(_ApproveHead, total=False):
    """The user's answer on a waiting tool call's card."""

    reason: str  # why not (a denial), sent to the model
    always: bool  # "Always allow <name>" for this chat


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
    | ApproveMsg
    | ImageRequestMsg
)
