"""Conversation: a history of messages with one model; runs turns one at a time."""

from __future__ import annotations

import copy
import threading
import typing
from collections.abc import Callable, Iterable, Mapping

from .. import resolve, settings, transcript
from ..errors import ConversationBusy, InvalidRequest
from ..messages import Message, new_id
from ..providers.base import Provider, Timeouts, WireMessage
from ._input import check_messages, check_text
from .tree import Tree, TreeView
from .turn import Turn, TurnAction

if typing.TYPE_CHECKING:
    from ..resolve import Resolution

__all__ = ["Conversation"]


class Conversation:
    """A history of messages with one model; runs turns one at a time.

    >>> conversation = Conversation("ollama:llama3.2", system="Be brief.")
    >>> for event in conversation.prompt("What is a closure?"): ...
    >>> conversation.messages[-1]["content"]

    The history is a tree (:mod:`nbchat.session.tree`): regenerating a reply or editing a
    question adds a sibling and keeps the earlier version. ``messages`` is the branch on
    screen — what the model is sent — and ``tree`` the whole of it; :meth:`select`
    switches branches.
    """

    model: str  # resolved "provider:name", e.g. "ollama:llama3.2", "demo:showcase"
    provider: Provider
    resolution: Resolution  # what was chosen and why
    system: str | None
    options: dict[str, object]

    def __init__(
        self,
        model: str | None = None,
        *,
        system: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        messages: Iterable[Message] | None = None,
        **options: object,
    ) -> None:
        self.resolution = resolve.resolve(model, base_url, api_key)
        self.provider = self.resolution.create_provider(headers=headers, timeouts=timeouts)
        self.model = self.resolution.spec
        self.options = self.provider.check_options(options)
        loaded, loaded_system = check_messages(messages or ())
        given = system if system is not None else loaded_system
        if given is None:
            given = settings.settings().system
        self.system = check_text("system prompt", given, allow_empty=True) if given else None
        self._tree = Tree.of(loaded, leaf=loaded[-1]["id"] if loaded else None)
        self._lock = threading.Lock()
        self._current: Turn | None = None
        self._version = 0

    # -- history ------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """The branch on screen (a copy), oldest first; no system message."""
        with self._lock:
            return copy.deepcopy(self._tree.branch())

    @property
    def tree(self) -> TreeView:
        """Every message, every branch: ``tree.siblings(id)``, ``tree.children(id)``…"""
        return TreeView(self._tree, self._lock)

    def select(self, message_id: str) -> None:
        """Show the branch through ``message_id`` (a sibling of one on screen, say), with
        what followed it when it was last shown. Refused while a reply streams."""
        with self._lock:
            self._check_idle("switch branches")
            if message_id not in self._tree:
                raise InvalidRequest(f"No message {message_id!r} in this conversation.")
            self._tree.select(message_id)
            self._version += 1

    @property
    def current(self) -> Turn | None:
        """The turn in flight, if any."""
        return self._current

    def _wire(self, history: list[Message]) -> list[WireMessage]:
        wire: list[WireMessage] = []
        if self.system:
            wire.append({"role": "system", "content": self.system})
        for index, message in enumerate(history):
            if message["role"] == "assistant" and not message["content"]:
                continue  # nothing the model said; drop its question too (below)
            if (
                message["role"] == "user"
                and index + 1 < len(history)
                and history[index + 1]["role"] == "assistant"
                and not history[index + 1]["content"]
            ):
                continue
            wire.append({"role": message["role"], "content": message["content"]})
        return wire

    # -- turns --------------------------------------------------------------------------

    def prompt(self, text: str, **options: object) -> Turn:
        """Ask ``text`` after the last message on screen; returns a lazy :class:`Turn`."""
        return self._new_turn("prompt", options, cut=len, ask=check_text("message", text))

    def regenerate(self, message_id: str | None = None, **options: object) -> Turn:
        """Answer again: a new version of the reply ``message_id`` (default: the last
        one; a question left unanswered at the end gets its first). The earlier reply is
        kept as a sibling; the new one is shown from the moment it ends."""

        def cut(history: list[Message]) -> int:
            if not history:
                raise InvalidRequest(
                    "There is no reply to regenerate.", hint="Ask something first."
                )
            if message_id is not None:
                return _place(history, message_id, "assistant", "regenerate")
            return len(history) - 1 if history[-1]["role"] == "assistant" else len(history)

        return self._new_turn("regenerate", options, cut=cut)

    def resume(self, **options: object) -> Turn:
        """Continue the last reply (after a stop or a cut-off), appending to it."""

        def cut(history: list[Message]) -> int:
            if not history or history[-1]["role"] != "assistant":
                raise InvalidRequest(
                    "There is no reply to continue.", hint="Ask something, or regenerate."
                )
            return len(history) - 1

        return self._new_turn("resume", options, cut=cut)

    def edit(self, text: str, message_id: str | None = None, **options: object) -> Turn:
        """Ask ``text`` in place of the question ``message_id`` (default: the last one),
        with a fresh reply. The earlier question and all that followed it are kept as a
        sibling branch."""
        content = check_text("message", text)

        def cut(history: list[Message]) -> int:
            if message_id is not None:
                return _place(history, message_id, "user", "edit")
            users = [i for i, m in enumerate(history) if m["role"] == "user"]
            if not users:
                raise InvalidRequest("There is no message to edit.", hint="Ask something first.")
            return users[-1]

        return self._new_turn("edit", options, cut=cut, ask=content)

    def _new_turn(
        self,
        action: TurnAction,
        options: Mapping[str, object],
        *,
        cut: Callable[[list[Message]], int],
        ask: str | None = None,
    ) -> Turn:
        """The one way a turn is made, while the conversation is idle.

        ``cut(history)`` says where on the branch on screen the turn's messages will go
        (it raises if the action makes no sense here); the messages before it are what
        the model reads, and the turn's first message follows the last of them — beside
        whatever is at ``at`` now, which stays as a sibling (``resume`` alone replaces the
        message it continues). With ``ask``, the turn asks it as a new user message;
        without, it answers the question already there — and ``resume`` sends the reply
        it continues as the last message.
        """
        with self._lock:
            self._check_idle()
            history = self._tree.branch()
            at = cut(history)
            parent = history[at - 1]["id"] if at else None  # what the turn follows
            wire = self._wire(history[:at])
            user: Message | None = None
            base: Message | None = None
            if ask is not None:
                taken = self._tree.ids()
                user = {"id": new_id(taken), "role": "user", "content": ask, "parent": parent}
                parent = user["id"]
                wire.append({"role": "user", "content": ask})
            else:
                _check_has_question(wire)
            if action == "resume":
                base = copy.deepcopy(history[at])
                if base["content"]:
                    wire.append({"role": "assistant", "content": base["content"]})
            return Turn(
                self,
                action=action,
                wire=wire,
                options=self._turn_options(options),
                user_message=user,
                parent=parent,
                base=base,
            )

    def clear(self) -> None:
        """Forget every message (not allowed while a turn streams)."""
        with self._lock:
            self._check_idle()
            self._tree.clear()
            self._version += 1

    def _check_idle(self, doing: str | None = None) -> None:
        if self._current is not None:
            raise ConversationBusy(
                f"A reply is still streaming: cannot {doing} now."
                if doing
                else "A reply is still streaming.",
                hint="Wait for it to finish, or stop it first: conversation.current.stop().",
            )

    def _turn_options(self, options: Mapping[str, object]) -> dict[str, object]:
        merged = {**settings.default_options(self.provider), **self.options, **options}
        return self.provider.check_options(merged)

    def _start(self, turn: Turn) -> None:
        with self._lock:
            self._check_idle()
            if turn._version != self._version:
                raise InvalidRequest(
                    "The conversation changed after this turn was made.", hint="Ask again."
                )
            self._current = turn

    def _commit(self, turn: Turn) -> None:
        with self._lock:
            if turn._user_message is not None:
                self._tree.add(copy.deepcopy(turn._user_message))
            reply = copy.deepcopy(turn.message)
            if reply["id"] in self._tree:
                self._tree.replace(reply)  # a continued reply
            else:
                self._tree.add(reply)
            self._tree.select(reply["id"])
            self._version += 1
            if self._current is turn:
                self._current = None

    # -- transcripts --------------------------------------------------------------------

    def to_json(self) -> str:
        """The conversation as JSON: every message of every branch, which branch is on
        screen, system, model, options — never the key."""
        with self._lock:
            messages = copy.deepcopy(list(self._tree))
            active = self._tree.active_map()
            leaf = self._tree.leaf
        return transcript.dumps(
            messages,
            model=self.model,
            system=self.system,
            options=self.options,
            base_url=self.resolution.base_url,
            leaf=leaf,
            active=active,
        )

    @classmethod
    def from_json(cls, text: str, **kwargs: typing.Any) -> Conversation:
        """Restore a conversation saved with :meth:`to_json`; ``kwargs`` override what was saved."""
        saved = transcript.loads(text)
        if "model" not in kwargs:
            kwargs["model"] = saved.model
            kwargs.setdefault("base_url", saved.base_url)  # it belongs to that model
        kwargs.setdefault("system", saved.system)
        options = {**saved.options, **kwargs.pop("options", {})}
        conversation = cls(messages=saved.messages, **{**options, **kwargs})
        conversation._show(saved.active, saved.leaf)
        return conversation

    def _show(self, active: typing.Mapping[str, str], leaf: str | None) -> None:
        # Which branch was on screen, as saved; an id that is not here is ignored.
        with self._lock:
            self._tree = Tree.of(list(self._tree), active=active, leaf=leaf or self._tree.leaf)

    def to_markdown(self) -> str:
        """A Markdown transcript, readable on GitHub (math and code intact)."""
        return transcript.to_markdown(self.messages, system=self.system)

    def to_html(self) -> str:
        """A self-contained static HTML transcript (escaped, no script)."""
        return transcript.to_html(self.messages, system=self.system)

    def save(self, path: str) -> None:
        """Write the conversation to ``path``: ``.md`` Markdown, ``.html`` HTML, else JSON."""
        lowered = str(path).lower()
        if lowered.endswith((".md", ".markdown")):
            data = self.to_markdown()
        elif lowered.endswith((".html", ".htm")):
            data = self.to_html()
        else:
            data = self.to_json()
        with open(path, "w", encoding="utf-8") as file:
            file.write(data)

    @classmethod
    def load(cls, path: str, **kwargs: typing.Any) -> Conversation:
        """Read a JSON conversation written by :meth:`save`."""
        with open(path, encoding="utf-8") as file:
            return cls.from_json(file.read(), **kwargs)

    def __repr__(self) -> str:
        with self._lock:
            shown, stored = len(self._tree.branch()), len(self._tree)
        more = f" ({stored} in all branches)" if stored > shown else ""
        return f"<Conversation {self.model}: {shown} messages{more}>"


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


def _check_has_question(wire: list[WireMessage]) -> None:
    if not any(m["role"] == "user" for m in wire):
        raise InvalidRequest("There is no question to answer.", hint="Ask something first.")
