"""The messages of a conversation as a tree: every version kept, one branch on screen.

A message's ``parent`` is the message before it on its branch (``None`` for a first
message); messages with the same parent are *siblings*: the versions of one place in the
conversation (replies regenerated, questions edited). Each node remembers its *active*
child — the one last added or selected — so the branch on screen is found by walking
active children from the root, and selecting a sibling shows that sibling's whole
continuation as it was left.

:class:`Tree` is the mutable structure a conversation owns (not thread-safe: the
conversation's lock guards it). :class:`TreeView` is what ``conversation.tree`` returns:
the same questions, answered under that lock, with copies of the messages.

Every operation costs O(1) or O(depth of the branch), never O(size of the tree).
"""

from __future__ import annotations

import copy
import threading
import typing
from collections.abc import Iterable, Iterator, Mapping

from ..errors import InvalidRequest
from ..messages import Message

__all__ = ["Tree", "TreeView"]


class Tree:
    """Messages by id, their children in order, and each node's active child."""

    def __init__(self) -> None:
        self._nodes: dict[str, Message] = {}  # creation order
        self._children: dict[str | None, list[str]] = {}  # None: the roots
        self._active: dict[str | None, str] = {}

    @classmethod
    def of(
        cls,
        messages: Iterable[Message],
        *,
        active: Mapping[str, str] | None = None,
        leaf: str | None = None,
    ) -> Tree:
        """A tree of ``messages`` in creation order (each parent before its children).

        Each node's active child is its last child, then ``active`` (``""`` names the
        roots' choice) where it names a child, then the path to ``leaf``.
        """
        tree = cls()
        for message in messages:
            tree.add(message)
        for parent, child in (active or {}).items():
            key = parent or None
            if child in tree._children.get(key, ()):
                tree._active[key] = child
        if leaf is not None and leaf in tree._nodes:
            tree.select(leaf)
        return tree

    # -- reading ------------------------------------------------------------------------

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Message]:
        """Every message, in the order they were added (parents before children)."""
        return iter(self._nodes.values())

    def ids(self) -> typing.KeysView[str]:
        """Every message id (a live view: cheap to test against)."""
        return self._nodes.keys()

    def get(self, message_id: str) -> Message:
        """The message itself (not a copy); :class:`KeyError` if there is none."""
        return self._nodes[message_id]

    def parent(self, message_id: str) -> str | None:
        return self._nodes[message_id].get("parent")

    def children(self, message_id: str | None) -> list[str]:
        """Ids of the messages that follow ``message_id`` (``None``: the first ones)."""
        return list(self._children.get(message_id, ()))

    def siblings(self, message_id: str) -> list[str]:
        """Ids of the versions of ``message_id``'s place, itself included, in order."""
        return self.children(self.parent(message_id))

    def path(self, message_id: str | None) -> list[Message]:
        """The messages from the first one down to ``message_id`` (``None``: none)."""
        out: list[Message] = []
        while message_id is not None:
            message = self._nodes[message_id]
            out.append(message)
            message_id = message.get("parent")
        out.reverse()
        return out

    @property
    def leaf(self) -> str | None:
        """The last message of the branch on screen (``None`` for an empty tree)."""
        node = self._active.get(None)
        while node is not None:
            child = self._active.get(node)
            if child is None:
                return node
            node = child
        return None

    def branch(self) -> list[Message]:
        """The branch on screen, first message first (the messages themselves)."""
        out: list[Message] = []
        node = self._active.get(None)
        while node is not None:
            out.append(self._nodes[node])
            node = self._active.get(node)
        return out

    def active_map(self) -> dict[str, str]:
        """Each node's active child where it has a choice (``""`` for the roots): with
        the messages, all that :meth:`of` needs to rebuild this tree as it is."""
        return {
            parent or "": self._active[parent]
            for parent, children in self._children.items()
            if len(children) > 1
        }

    # -- changing -----------------------------------------------------------------------

    def add(self, message: Message) -> None:
        """Add ``message`` (kept as given) under its parent, as that parent's active child."""
        message_id = message["id"]
        parent = message.get("parent")
        if message_id in self._nodes:
            raise InvalidRequest(f"Message id {message_id!r} is used twice.")
        if parent is not None and parent not in self._nodes:
            raise InvalidRequest(
                f"Message {message_id!r} follows {parent!r}, which is not before it.",
                hint="List a message after the one it follows.",
            )
        self._nodes[message_id] = message
        self._children.setdefault(parent, []).append(message_id)
        self._active[parent] = message_id

    def replace(self, message: Message) -> None:
        """Put ``message`` in the place of the message with its id (same parent)."""
        old = self._nodes[message["id"]]
        if old.get("parent") != message.get("parent"):
            raise ValueError("nbchat: a replaced message keeps its parent")
        self._nodes[message["id"]] = message

    def select(self, message_id: str) -> None:
        """Show the branch through ``message_id``: it becomes the active child of its
        parent, and so on up to the root; below it, each node's active child stays."""
        node: str | None = message_id
        while node is not None:
            parent = self._nodes[node].get("parent")
            self._active[parent] = node
            node = parent

    def clear(self) -> None:
        self._nodes.clear()
        self._children.clear()
        self._active.clear()


class TreeView:
    """The whole tree of a conversation, read-only: ``conversation.tree``.

    >>> tree = conversation.tree
    >>> tree.siblings(reply_id)       # ['a1b2c3d4', '5e6f7a8b']: the versions of a reply
    >>> conversation.select('5e6f7a8b')  # show the second one, and what followed it

    Answers are copies, taken under the conversation's lock.
    """

    def __init__(self, tree: Tree, lock: threading.Lock) -> None:
        self._tree = tree
        self._lock = lock

    def __len__(self) -> int:
        with self._lock:
            return len(self._tree)

    def __contains__(self, message_id: object) -> bool:
        with self._lock:
            return message_id in self._tree

    def __getitem__(self, message_id: str) -> Message:
        with self._lock:
            return copy.deepcopy(self._known(message_id))

    def __iter__(self) -> Iterator[Message]:
        """Every message (copies), in the order they were added."""
        with self._lock:
            return iter(copy.deepcopy(list(self._tree)))

    @property
    def leaf(self) -> str | None:
        """The id of the last message on screen (``None`` when there is none)."""
        with self._lock:
            return self._tree.leaf

    def children(self, message_id: str | None = None) -> list[str]:
        """Ids of the messages that follow ``message_id`` (default: the first messages)."""
        with self._lock:
            if message_id is not None:
                self._known(message_id)
            return self._tree.children(message_id)

    def siblings(self, message_id: str) -> list[str]:
        """Ids of every version of ``message_id``'s place, itself included, in order."""
        with self._lock:
            self._known(message_id)
            return self._tree.siblings(message_id)

    def parent(self, message_id: str) -> str | None:
        with self._lock:
            return self._known(message_id).get("parent")

    def path(self, message_id: str) -> list[Message]:
        """The messages from the first one down to ``message_id`` (copies)."""
        with self._lock:
            self._known(message_id)
            return copy.deepcopy(self._tree.path(message_id))

    def _known(self, message_id: str) -> Message:
        try:
            return self._tree.get(message_id)
        except KeyError:
            raise InvalidRequest(f"No message {message_id!r} in this conversation.") from None

    def __repr__(self) -> str:
        with self._lock:
            forks = sum(1 for ids in self._tree._children.values() if len(ids) > 1)
            return f"<TreeView {len(self._tree)} messages, {forks} forks>"
