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
from ..tools import Approval, ApprovePolicy, ToolLike, Tools
from ._history import has_tool_parts, wire_messages
from ._input import check_messages, check_text
from ._loop import DEFAULT_MAX_STEPS
from .turn import Turn, TurnAction

if typing.TYPE_CHECKING:
    from ..resolve import Resolution

__all__ = ["Conversation"]


class Conversation:
    """A history of messages with one model; runs turns one at a time.

    >>> conversation = Conversation("ollama:llama3.2", system="Be brief.")
    >>> for event in conversation.prompt("What is a closure?"): ...
    >>> conversation.messages[-1]["content"]

    ``tools`` are functions the model may call (:mod:`nbchat.tools`), each run only if
    ``approve`` allows: ``"ask"`` (the user answers: on stdin for a blocking call),
    ``"always"``, or ``approve(name, arguments) -> bool | (bool, reason)``. One reply may
    take up to ``max_steps`` model requests (call → result → next request).
    """

    model: str  # resolved "provider:name", e.g. "ollama:llama3.2", "demo:showcase"
    provider: Provider
    resolution: Resolution  # what was chosen and why
    system: str | None
    options: dict[str, object]
    tools: Tools  # add or remove at any time: each request reads them anew
    approval: Approval  # the policy, and the names "Always allow"ed (never saved)
    max_steps: int

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
        tools: Iterable[ToolLike] = (),
        approve: ApprovePolicy = "ask",
        max_steps: int = DEFAULT_MAX_STEPS,
        **options: object,
    ) -> None:
        self.resolution = resolve.resolve(model, base_url, api_key)
        self.provider = self.resolution.create_provider(headers=headers, timeouts=timeouts)
        self.model = self.resolution.spec
        self.options = self.provider.check_options(options)
        self.tools = tools if isinstance(tools, Tools) else Tools(tools)
        self.approval = Approval(approve)
        if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
            raise InvalidRequest(
                f"max_steps must be a whole number from 1, not {max_steps!r}.",
                hint="It is how many model requests one reply may take (default 8).",
            )
        self.max_steps = max_steps
        loaded, loaded_system = check_messages(messages or ())
        given = system if system is not None else loaded_system
        if given is None:
            given = settings.settings().system
        self.system = check_text("system prompt", given, allow_empty=True) if given else None
        self._messages: list[Message] = loaded
        self._lock = threading.Lock()
        self._current: Turn | None = None
        self._version = 0

    # -- history ------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """The committed history (a copy), oldest first; no system message."""
        with self._lock:
            return copy.deepcopy(self._messages)

    @property
    def current(self) -> Turn | None:
        """The turn in flight, if any."""
        return self._current

    def _wire(self, history: list[Message]) -> list[WireMessage]:
        wire: list[WireMessage] = []
        if self.system:
            wire.append({"role": "system", "content": self.system})
        for index, message in enumerate(history):
            if message["role"] == "assistant" and _said_nothing(message):
                continue  # nothing the model said; drop its question too (below)
            if (
                message["role"] == "user"
                and index + 1 < len(history)
                and history[index + 1]["role"] == "assistant"
                and _said_nothing(history[index + 1])
            ):
                continue
            wire.extend(wire_messages(message))  # a reply that called tools: its steps
        return wire

    # -- turns --------------------------------------------------------------------------

    def prompt(self, text: str, **options: object) -> Turn:
        """Ask ``text``; returns a lazy :class:`Turn` (iterate it to stream)."""
        return self._new_turn("prompt", options, cut=len, ask=check_text("message", text))

    def regenerate(self, **options: object) -> Turn:
        """Redo the last reply (it is replaced when the new one ends)."""

        def cut(history: list[Message]) -> int:
            if not history:
                raise InvalidRequest(
                    "There is no reply to regenerate.", hint="Ask something first."
                )
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

    def edit(self, text: str, **options: object) -> Turn:
        """Replace the last user message with ``text`` and redo the reply after it."""
        content = check_text("message", text)

        def cut(history: list[Message]) -> int:
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

        ``cut(history)`` says where the turn's messages will go (it raises if the action
        makes no sense here); the messages before it are what the model reads. With
        ``ask``, the turn asks it as a new user message; without, it answers the question
        already there — and ``resume`` sends the reply it continues (its steps, when it
        called tools) as the last messages (the turn adds them).
        """
        with self._lock:
            self._check_idle()
            history = self._messages
            at = cut(history)
            parent = history[at - 1]["id"] if at else None  # what the turn follows
            wire = self._wire(history[:at])
            user: Message | None = None
            base: Message | None = None
            if ask is not None:
                taken = {m["id"] for m in history}
                user = {"id": new_id(taken), "role": "user", "content": ask, "parent": parent}
                parent = user["id"]
                wire.append({"role": "user", "content": ask})
            else:
                _check_has_question(wire)
            if action == "resume":
                base = copy.deepcopy(history[at])
            return Turn(
                self,
                action=action,
                wire=wire,
                options=self._turn_options(options),
                replace_from=at,
                user_message=user,
                parent=parent,
                base=base,
            )

    def clear(self) -> None:
        """Forget every message (not allowed while a turn streams)."""
        with self._lock:
            self._check_idle()
            self._messages = []
            self._version += 1

    def _check_idle(self) -> None:
        if self._current is not None:
            raise ConversationBusy(
                "A reply is still streaming.",
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
            new: list[Message] = [] if turn._user_message is None else [turn._user_message]
            new.append(turn.message)
            self._messages[turn._replace_from :] = copy.deepcopy(new)
            self._version += 1
            if self._current is turn:
                self._current = None

    # -- transcripts --------------------------------------------------------------------

    def to_json(self) -> str:
        """The conversation as JSON: messages, system, model, options — never the key."""
        return transcript.dumps(
            self.messages,
            model=self.model,
            system=self.system,
            options=self.options,
            base_url=self.resolution.base_url,
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
        return cls(messages=saved.messages, **{**options, **kwargs})

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
        return f"<Conversation {self.model}: {len(self._messages)} messages>"


def _said_nothing(message: Message) -> bool:
    return not message["content"] and not has_tool_parts(message)


def _check_has_question(wire: list[WireMessage]) -> None:
    if not any(m["role"] == "user" for m in wire):
        raise InvalidRequest("There is no question to answer.", hint="Ask something first.")
