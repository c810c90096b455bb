"""Where a command's turn goes on the branch on screen: its cut.

Every turn is made the same way (``Conversation._new_turn``); what differs between the
commands that edit the tree is the *cut* — the index on the branch on screen where the
turn's messages will go. The messages before it are what the model reads; whatever is at
the cut now stays as a sibling (``resume`` alone replaces the reply it continues). A cut
raises :class:`~nbchat.errors.InvalidRequest` when its command makes no sense there.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InvalidRequest
from ..messages import Message

__all__ = ["Cut", "edit_cut", "regenerate_cut", "resume_cut"]

Cut = Callable[[list[Message]], int]


def regenerate_cut(message_id: str | None) -> Cut:
    """Beside the reply ``message_id`` (default: the last one; a question left
    unanswered at the end gets its first)."""

    def cut(history: list[Message]) -> int:
        if not history:
            raise InvalidRequest("There is no reply to regenerate.", hint="Ask something first.")
        if message_id is not None:
            return _place(history, message_id, "assistant", "regenerate")
        return len(history) - 1 if history[-1]["role"] == "assistant" else len(history)

    return cut


def resume_cut(history: list[Message]) -> int:
    """At the last reply, which the turn continues."""
    if not history or history[-1]["role"] != "assistant":
        raise InvalidRequest("There is no reply to continue.", hint="Ask something, or regenerate.")
    return len(history) - 1


def edit_cut(message_id: str | None) -> Cut:
    """Beside the question ``message_id`` (default: the last one)."""

    def cut(history: list[Message]) -> int:
        if message_id is not None:
            return _place(history, message_id, "user", "edit")
        users = [i for i, m in enumerate(history) if m["role"] == "user"]
        if not users:
            raise InvalidRequest("There is no message to edit.", hint="Ask something first.")
        return users[-1]

    return cut


def _place(history: list[Message], message_id: str, role: str, action: str) -> int:
    """Where ``message_id`` is on the branch on screen; it must have ``role``."""
    for index, message in enumerate(history):
        if message["id"] == message_id:
            if message["role"] != role:
                raise InvalidRequest(
                    f"Message {message_id!r} is a {message['role']} message: "
                    f"only a{'n' if role[0] == 'a' else ''} {role} message can {action}.",
                )
            return index
    raise InvalidRequest(
        f"Message {message_id!r} is not on the branch on screen.",
        hint="Select its branch first: conversation.select(id).",
    )
