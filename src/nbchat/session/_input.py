"""Checks on what a caller hands a conversation: prompt text, a history of messages."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from ..errors import InvalidRequest
from ..messages import Message, check_parent, check_parts, linked, new_id

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

    The messages are one branch, in order: each one's ``parent`` becomes the message
    before it (a history from before parents, or a slice of one, gets that chain). A
    parent naming another message of the list is a branch, which a conversation cannot
    hold: refused.
    """
    checked: list[Message] = []
    system: str | None = None
    given_all = list(messages)
    taken = {str(m.get("id")) for m in given_all if isinstance(m, Mapping) and m.get("id")}
    parents: dict[int, tuple[str, str]] = {}  # index in ``checked`` -> (parent given, where)
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
        parent = check_parent(where, given.get("parent"))
        if parent is not None:
            parents[len(checked)] = (parent, where)
        reasoning = given.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            message["reasoning"] = reasoning
        if "parts" in given:
            message["parts"] = check_parts(where, given["parts"])
        meta = given.get("meta")
        if isinstance(meta, Mapping):
            message["meta"] = copy.deepcopy(dict(meta))  # type: ignore[typeddict-item]
        checked.append(message)
    _check_one_branch(checked, parents)
    return linked(checked), system


def _check_one_branch(checked: list[Message], parents: dict[int, tuple[str, str]]) -> None:
    # A parent outside the list is fine (a slice of a longer history): the chain replaces it.
    ids = [m["id"] for m in checked]
    for index, (parent, where) in parents.items():
        before = ids[index - 1] if index else None
        if parent != before and parent in ids:
            raise InvalidRequest(
                f"{where} has parent {parent!r}, not the message before it.",
                hint="A conversation holds one branch: list its messages in order.",
            )
