"""The conversation as the front end holds it: one synced state key per message.

A single ``messages`` list would make every change re-send the whole history (a long
conversation pays for all its turns on each new one: O(n) bytes per turn, O(n²) per
session). Here the widget's state holds

- ``m:<id>`` → the message (schema of :mod:`nbchat.messages`), one key per message;
- ``c:<parent id>`` → the ids of that message's children, in order (siblings share a
  parent); ``c:`` lists the first messages (those without a parent);
- ``leaf`` (a real trait of the Chat) → the last message of the branch on screen.

A change sends only the keys that changed (a turn: its prompt, its reply, one or two child
lists) plus ``leaf``, in one ``update``. A key whose message left the conversation is sent
as ``None``; the front end treats ``None`` as absent, and it never reaches a full state
(:meth:`History.state`), which is what a view that opens later, ``request_state``, nbclient
and JupyterLab's saved widget state read. The front end walks ``parent`` from ``leaf`` to
draw the branch (``js/history.ts``).

Today a conversation is one branch, so the tree has no forks yet; the keys are tree-shaped
so that branches (sessions with siblings) need no new wire format.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence

from ..messages import Message

__all__ = ["CHILDREN", "MESSAGE", "ROOTS", "History", "is_history_key"]

MESSAGE = "m:"
CHILDREN = "c:"
#: The key listing the messages without a parent.
ROOTS = CHILDREN


def is_history_key(key: str) -> bool:
    """Whether ``key`` is one of the per-message state keys (not a trait)."""
    return key.startswith((MESSAGE, CHILDREN))


class History:
    """The per-message keys of one Chat: what the front end has been sent, and the diff."""

    def __init__(self) -> None:
        self._messages: dict[str, Message] = {}  # id -> the message as last sent
        self._children: dict[str, list[str]] = {"": []}  # parent id ("" for roots) -> ids

    # -- reading ------------------------------------------------------------------------

    def state(self) -> dict[str, object]:
        """Every key with a value: the full state (comm_open, saved notebooks)."""
        out: dict[str, object] = {MESSAGE + i: m for i, m in self._messages.items()}
        out.update((CHILDREN + p, list(ids)) for p, ids in self._children.items())
        return out

    def value(self, key: str) -> object:
        """The value of one key; ``None`` for a key whose message is gone."""
        if key.startswith(MESSAGE):
            return self._messages.get(key[len(MESSAGE) :])
        ids = self._children.get(key[len(CHILDREN) :])
        return None if ids is None else list(ids)

    def branch(self, leaf: str) -> list[Message]:
        """The messages from the first to ``leaf``, following ``parent`` (copies)."""
        out: list[Message] = []
        seen: set[str] = set()
        at: str | None = leaf or None
        while at is not None and at in self._messages and at not in seen:
            seen.add(at)
            message = self._messages[at]
            out.append(message)
            at = message.get("parent")
        out.reverse()
        return [_copy(m) for m in out]

    # -- changing -----------------------------------------------------------------------

    def sync(self, messages: Iterable[Message]) -> list[str]:
        """Make the keys hold ``messages`` (every message of the tree, parents before
        children); returns the keys that changed, to send."""
        wanted: dict[str, Message] = {}
        children: dict[str, list[str]] = {"": []}
        for message in messages:
            mid = message["id"]
            wanted[mid] = message
            parent = message.get("parent") or ""
            if parent and parent not in wanted:
                parent = ""  # its parent is not shown (a view of part of a history): a root
            children.setdefault(parent, []).append(mid)
        changed: list[str] = []
        for mid, message in wanted.items():
            if self._messages.get(mid) != message:
                self._messages[mid] = _copy(message)
                changed.append(MESSAGE + mid)
        for mid in [m for m in self._messages if m not in wanted]:
            del self._messages[mid]
            changed.append(MESSAGE + mid)
        for parent, ids in children.items():
            if self._children.get(parent) != _ordered(self._children.get(parent, []), ids):
                self._children[parent] = _ordered(self._children.get(parent, []), ids)
                changed.append(CHILDREN + parent)
        for parent in [p for p in self._children if p not in children]:
            del self._children[parent]
            changed.append(CHILDREN + parent)
        return changed


def _ordered(before: Sequence[str], now: Sequence[str]) -> list[str]:
    """``now``'s ids, those already listed keeping their place: siblings do not reorder."""
    keep = set(now)
    out = [i for i in before if i in keep]
    listed = set(out)
    out.extend(i for i in now if i not in listed)
    return out


def _copy(message: Message) -> Message:
    # Messages are JSON values: a JSON-shaped copy is a deep one, and faster than deepcopy.
    return typing.cast(Message, _json_copy(message))


def _json_copy(value: object) -> object:
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value
