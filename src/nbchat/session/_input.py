"""Checks on what a caller hands a conversation: prompt text, a history of messages."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from ..errors import InvalidRequest
from ..messages import Message, check_parent, check_parts, new_id, with_parent

__all__ = ["check_messages", "check_text"]


def check_text(what: str, text: object, *, allow_empty: bool = False) -> str:
    if not isinstance(text, str):
        raise InvalidRequest(f"The {what} must be a string, not {type(text).__name__}.")
    if not allow_empty and not text.strip():
        raise InvalidRequest(f"The {what} is empty.", hint="Type something to send.")
    if "\x00" in text:
        raise InvalidRequest(
            f"The {what} contains a NUL character.", hint="Remove the \\x00 characters."
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(
            f"The {what} contains invalid Unicode (a lone surrogate).",
            hint="Decode the text properly, e.g. bytes.decode('utf-8', 'replace').",
        ) from None
    return text


def check_messages(messages: Iterable[Message]) -> tuple[list[Message], str | None]:
    """Validated copies of given messages; a system message becomes the system prompt.

    The messages are in the order they were made. A message without a ``parent`` follows
    the one before it in the list (a history from before parents gets that chain), and so
    does one whose parent is not in the list (a slice of a longer history). A parent
    named in the list is kept — a branch — and must come before the message; ``None``
    given as the parent makes a first message (another version of the first question).
    """
    checked: list[Message] = []
    system: str | None = None
    given_all = list(messages)
    taken = {str(m.get("id")) for m in given_all if isinstance(m, Mapping) and m.get("id")}
    parents: dict[int, tuple[str | None, str]] = {}  # index in checked -> (parent, where)
    for index, given in enumerate(given_all):
        where = f"messages[{index}]"
        if not isinstance(given, Mapping):
            raise InvalidRequest(
                f"{where} is not a dict.", hint="Use {'role': ..., 'content': ...}."
            )
        role = given.get("role")
        content = given.get("content")
        if role not in ("system", "user", "assistant"):
            raise InvalidRequest(
                f"{where} has role {role!r}.", hint="Use 'user', 'assistant' or 'system'."
            )
        content = check_text(f"content of {where}", content, allow_empty=role != "user")
        if role == "system":
            system = content if system is None else f"{system}\n\n{content}"
            continue
        message: Message = {
            "id": str(given.get("id") or new_id(taken)),
            "role": role,
            "content": content,
        }
        taken.add(message["id"])
        if "parent" in given:
            parents[len(checked)] = (check_parent(where, given.get("parent")), where)
        reasoning = given.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            message["reasoning"] = reasoning
        if "parts" in given:
            message["parts"] = check_parts(where, given["parts"])
        meta = given.get("meta")
        if isinstance(meta, Mapping):
            message["meta"] = copy.deepcopy(dict(meta))  # type: ignore[typeddict-item]
        checked.append(message)
    return _linked(checked, parents), system


def _linked(checked: list[Message], parents: dict[int, tuple[str | None, str]]) -> list[Message]:
    """``checked`` with every ``parent`` set (copies, in the schema's key order)."""
    ids: dict[str, int] = {}
    for index, message in enumerate(checked):
        if message["id"] in ids:
            raise InvalidRequest(
                f"Two messages have the id {message['id']!r}.", hint="Ids must be unique."
            )
        ids[message["id"]] = index
    out: list[Message] = []
    for index, message in enumerate(checked):
        previous = checked[index - 1]["id"] if index else None
        parent, where = parents.get(index, (previous, ""))
        if parent is not None and parent not in ids:
            parent = previous  # a slice of a longer history: the chain replaces it
        elif parent is not None and ids[parent] >= index:
            raise InvalidRequest(
                f"{where} has parent {parent!r}, which does not come before it.",
                hint="List messages in the order they were made: each after its parent.",
            )
        out.append(with_parent(message, parent))
    return out
