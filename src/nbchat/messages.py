"""What a message is: the conversation's own data, in memory, in the ``messages`` trait and in
saved files. One schema, versioned with the transcript format (:data:`SCHEMA_VERSION`).

```
Message
├── id         str, unique within its conversation (8 hex digits when nbchat makes it)
├── role       "user" | "assistant" (a conversation keeps its system prompt apart)
├── content    str: the message's text; all that a reader who knows nothing else needs
├── parent     str | None: the message before it on its branch (None: the first message)
├── reasoning  str, optional: what the model thought before answering
├── parts      [Part], optional: the message's body in order, when it holds more than text
└── meta       MessageMeta, optional: model, counts, timings, how the reply ended
```

``parts`` is absent for a plain text message (every message before schema 2). When present,
it is the whole body in order, and ``content`` is the concatenation of its text parts, so
exports and older readers still see the words. A part is one of:

```
{"type": "text",        "text": str}
{"type": "reasoning",   "text": str}
{"type": "tool_call",   "id": str, "name": str, "arguments": str (JSON text)}
{"type": "tool_result", "call_id": str, "name": str, "content": str, "status": str, …}
{"type": "image",       "id": str, "mime": str, "width": int, "height": int, "thumbnail"?: str}
```

An image part describes the image; its bytes live in the kernel (and beside a saved file),
never in the ``messages`` trait, which carries only the small ``thumbnail`` (a ``data:`` URL).

Schema 1 (nbchat 0.1) had no ``parent`` and no ``parts``: a list of messages is one branch,
each message's parent the one before it (:func:`linked` fills that in).

:func:`check_parent` and :func:`check_parts` check the optional fields of a message handed
in (a history, a saved file) and refuse a malformed one in one line.
"""

from __future__ import annotations

import copy
import re
import secrets
import typing
from collections.abc import Collection, Iterable, Sequence

from .errors import InvalidRequest

__all__ = [
    "IMAGE_MIMES",
    "SCHEMA_VERSION",
    "THUMBNAIL_URL",
    "ImagePart",
    "Message",
    "MessageMeta",
    "Part",
    "ReasoningPart",
    "Role",
    "TextPart",
    "ToolCallPart",
    "ToolResultPart",
    "check_parent",
    "check_parts",
    "image_parts",
    "image_parts_of",
    "linked",
    "new_id",
    "with_parent",
]

#: The version of this schema. The transcript file format counts apart (version 3 holds these
#: messages as a tree, with the branch on screen): see :mod:`nbchat.transcript`.
SCHEMA_VERSION = 2

# "system" only where a caller hands in a history: the conversation turns it into its prompt.
Role = typing.Literal["system", "user", "assistant"]


class MessageMeta(typing.TypedDict, total=False):
    """How a reply came about. Every field is optional; a user message usually has none."""

    model: str  # "provider:name" as resolved, e.g. "ollama:llama3.2", "demo:showcase"
    provider: str  # provider label: "Ollama", "OpenAI-compatible", "demo"
    prompt_tokens: int
    tokens: int  # completion tokens (the server's count, else our count of deltas)
    tokens_per_s: float
    elapsed_s: float  # wall time from request to last token
    ttft_s: float  # time to first token
    finish_reason: str | None  # "stop", "length", …; None when stopped or failed
    stopped: bool  # the user stopped it (or a kernel interrupt did)
    error: str  # one-line message of the error that ended it
    hint: str  # one-line next step for that error


class TextPart(typing.TypedDict):
    type: typing.Literal["text"]
    text: str


class ReasoningPart(typing.TypedDict):
    type: typing.Literal["reasoning"]
    text: str


class ToolCallPart(typing.TypedDict):
    type: typing.Literal["tool_call"]
    id: str  # the call's id (the server's, or one nbchat made)
    name: str
    arguments: str  # JSON text, exactly as the model wrote it


class _ToolResultBase(typing.TypedDict):
    type: typing.Literal["tool_result"]
    call_id: str
    name: str
    content: str  # what the model is told


class ToolResultPart(_ToolResultBase, total=False):
    status: str  # "done" | "failed" | "declined" | "stopped" | "invalid"
    elapsed_s: float
    truncated: bool  # content was capped
    detail: str  # what the user sees beyond the model's line: a traceback
    output: str  # what the tool printed, captured (a turn started from the widget)
    figures: list[str]  # figures it drew, as small PNG data: URLs (ditto)


class _ImageBase(typing.TypedDict):
    type: typing.Literal["image"]
    id: str  # content hash: the key of the image's bytes in the kernel and in saved files
    mime: str  # "image/png" | "image/jpeg"
    width: int
    height: int


class ImagePart(_ImageBase, total=False):
    thumbnail: str  # a small data: URL (≤ 16 KB) for views and saved widget state


Part = TextPart | ReasoningPart | ToolCallPart | ToolResultPart | ImagePart


class _MessageBase(typing.TypedDict):
    id: str
    role: Role
    content: str


class Message(_MessageBase, total=False):
    parent: str | None
    reasoning: str
    parts: list[Part]
    meta: MessageMeta


def new_id(taken: Collection[str] = ()) -> str:
    """A message id not in ``taken``. Short, because a reply's id travels in each of its
    deltas; it only has to be unique within one conversation."""
    while True:
        candidate = secrets.token_hex(4)
        if candidate not in taken:
            return candidate


# The fields each part type must have, and their types (the optional ones are not checked).
_PART_FIELDS: dict[str, dict[str, type]] = {
    "text": {"text": str},
    "reasoning": {"text": str},
    "tool_call": {"id": str, "name": str, "arguments": str},
    "tool_result": {"call_id": str, "name": str, "content": str},
    "image": {"id": str, "mime": str, "width": int, "height": int},
}


def check_parent(where: str, value: object) -> str | None:
    """A message's ``parent`` as given: a message id or ``None``."""
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(
            f"{where} has a 'parent' that is not a message id: {type(value).__name__}.",
            hint="A parent is the id (a string) of the message before it, or None.",
        )
    return value


def check_parts(where: str, value: object) -> list[Part]:
    """A message's ``parts`` as given (a copy): a list of parts of known types."""
    if not isinstance(value, list):
        raise InvalidRequest(f"{where} has 'parts' that is not a list.")
    for index, part in enumerate(value):
        at = f"{where}.parts[{index}]"
        if not isinstance(part, dict):
            raise InvalidRequest(f"{at} is not an object.")
        kind = part.get("type")
        fields = _PART_FIELDS.get(kind) if isinstance(kind, str) else None
        if fields is None:
            raise InvalidRequest(
                f"{at} has type {kind!r}.", hint=f"Part types are {', '.join(_PART_FIELDS)}."
            )
        for name, kind_of in fields.items():
            field = part.get(name)
            if not isinstance(field, kind_of) or isinstance(field, bool):
                raise InvalidRequest(f"{at} ({kind!r}) needs {kind_of.__name__} {name!r}.")
        if kind == "image":
            _check_image(at, part)
    return typing.cast(list[Part], copy.deepcopy(value))


# What nbchat writes for an image: the first 16 hex digits of its bytes' SHA-256 (the name
# of its file beside a saved conversation), PNG or JPEG, a size, a data: URL thumbnail. A
# file may say anything: an id is a file name, a mime and a thumbnail reach transcripts.
_IMAGE_ID = re.compile(r"[0-9a-f]{16}")
IMAGE_MIMES = ("image/png", "image/jpeg")
THUMBNAIL_URL = re.compile(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/]+={0,2}")


def _check_image(at: str, part: dict[str, object]) -> None:
    if not _IMAGE_ID.fullmatch(typing.cast(str, part["id"])):
        raise InvalidRequest(f"{at} has an image id that is not 16 hex digits.")
    if part["mime"] not in IMAGE_MIMES:
        raise InvalidRequest(
            f"{at} has an image of type {str(part['mime'])[:40]!r}.",
            hint="Images are image/png or image/jpeg.",
        )
    if typing.cast(int, part["width"]) < 0 or typing.cast(int, part["height"]) < 0:
        raise InvalidRequest(f"{at} has an image of negative size.")
    thumbnail = part.get("thumbnail")
    if thumbnail is not None and not (
        isinstance(thumbnail, str) and THUMBNAIL_URL.fullmatch(thumbnail)
    ):
        raise InvalidRequest(
            f"{at} has a thumbnail that is not a PNG or JPEG data: URL.",
            hint="A thumbnail is data:image/png;base64,… or data:image/jpeg;base64,….",
        )


def image_parts(message: Message) -> list[ImagePart]:
    """The image parts of ``message``, in order."""
    return [p for p in message.get("parts", ()) if p["type"] == "image"]


def image_parts_of(messages: Iterable[Message]) -> list[ImagePart]:
    """The image parts of all ``messages``, in order."""
    return [part for message in messages for part in image_parts(message)]


def linked(messages: Sequence[Message], *, keep_given: bool = False) -> list[Message]:
    """``messages`` as one branch: each one's ``parent`` set to the message before it
    (``None`` for the first) — only where none is given, with ``keep_given``. Copies; the
    messages themselves are not changed."""
    out: list[Message] = []
    parent: str | None = None
    for message in messages:
        if keep_given and "parent" in message:
            parent = message["parent"]
        out.append(with_parent(message, parent))
        parent = message["id"]
    return out


def with_parent(message: Message, parent: str | None) -> Message:
    """A copy of ``message`` whose ``parent`` is ``parent``."""
    # In the schema's order, so saved files read id, role, content, parent, …
    one: dict[str, object] = {
        "id": message["id"],
        "role": message["role"],
        "content": message["content"],
        "parent": parent,
    }
    one.update((key, value) for key, value in message.items() if key not in one)
    return typing.cast(Message, one)
