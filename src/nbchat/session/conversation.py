"""Conversation: a history of messages with one model; runs turns one at a time.

Beside it: making and restoring one (:mod:`._setup`), a question and its images
(:mod:`._question`), where each command's turn goes (:mod:`._cuts`), the branch as the
model reads it (:mod:`._history`), writing it out (:mod:`._saving`), its file (:mod:`.autosave`).
"""

from __future__ import annotations

import copy
import os
import pathlib
import threading
import typing
import warnings
from collections.abc import Callable, Iterable, Mapping

from .. import settings, transcript
from ..errors import ConversationBusy, ConversationFileError, InvalidRequest
from ..images import MAX_SIDE, MemoryImageStore
from ..messages import ImagePart, Message, image_parts
from ..providers.base import Provider, Timeouts, WireMessage
from ..tools import Approval, ApprovePolicy, ToolLike, Tools
from . import _saving, autosave
from ._cuts import Cut, edit_cut, regenerate_cut, resume_cut
from ._history import check_has_question, wire_history
from ._input import check_text
from ._loop import DEFAULT_MAX_STEPS
from ._question import images_to_resend, listed, question, take_images
from ._setup import keep_file, restore, setup
from .autosave import Autosave
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

    ``tools`` are functions the model may call (:mod:`nbchat.tools`), each run only if
    ``approve`` allows: ``"ask"`` (the user answers: on stdin for a blocking call),
    ``"always"``, or ``approve(name, arguments) -> bool | (bool, reason)``. One reply may
    take up to ``max_steps`` model requests (call → result → next request).
    The history is a tree (:mod:`nbchat.session.tree`): regenerating a reply or editing a
    question adds a sibling and keeps the earlier version. ``messages`` is the branch on
    screen — what the model is sent — and ``tree`` the whole of it; :meth:`select`
    switches branches.

    ``prompt(text, images=[...])`` asks about images (paths, bytes, PIL images, figures,
    arrays, ``data:`` URLs — see :func:`nbchat.images.to_image`), each scaled to at most
    ``max_image_side`` pixels on its longest side. Later turns send them again;
    ``max_history_images`` (``None``: all) limits how many of the past ones are.
    ``image_store`` shares another conversation's images: pass it with that
    conversation's ``messages`` to go on with another model, images included.
    """

    model: str  # resolved "provider:name", e.g. "ollama:llama3.2", "demo:showcase"
    provider: Provider
    resolution: Resolution  # what was chosen and why
    system: str | None
    options: dict[str, object]
    tools: Tools  # add or remove at any time: each request reads them anew
    approval: Approval  # the policy, and the names "Always allow"ed (never saved)
    max_steps: int
    images: MemoryImageStore  # full image bytes by id; messages hold their descriptions
    max_image_side: int  # images given are scaled to at most this many pixels a side
    max_history_images: int | None  # past images sent again with each request (None: all)
    _tree: Tree
    _lock: threading.Lock
    _current: Turn | None
    _version: int
    _autosave: Autosave | None
    _notices: list[str]

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
        max_image_side: int = MAX_SIDE,
        max_history_images: int | None = None,
        image_store: MemoryImageStore | None = None,
        file: str | os.PathLike[str] | None = None,
        **options: object,
    ) -> None:
        writer = Autosave.open(file) if file is not None else None
        try:
            restored = writer.restored if writer is not None else None
            setup(
                self,
                model,
                system=system,
                base_url=base_url,
                api_key=api_key,
                headers=headers,
                timeouts=timeouts,
                messages=messages,
                options=options,
                saved=restored.transcript if restored is not None else None,
                source=writer.path.name if writer is not None else "",
                tools=tools,
                approve=approve,
                max_steps=max_steps,
                max_image_side=max_image_side,
                max_history_images=max_history_images,
                image_store=image_store,
            )
            if writer is not None:
                keep_file(self, writer)
        except BaseException:
            if writer is not None:
                writer.close()
            raise

    # -- the file -----------------------------------------------------------------------

    @property
    def file(self) -> str | None:
        """The file this conversation saves itself to as it goes (``None``: none, or not any
        more — closed, or taken over by a newer conversation of this process)."""
        saver = self._autosave
        return str(saver.path) if saver is not None and saver.writing else None

    def close(self) -> None:
        """Stop saving to ``file`` and release it (for another kernel, say). The
        conversation itself goes on working."""
        saver, self._autosave = self._autosave, None
        if saver is not None:
            saver.close()

    def _snapshot(self) -> dict[str, object]:
        # Called by the autosave under this conversation's lock (or before any turn).
        return {
            "messages": list(self._tree),
            "model": self.model,
            "system": self.system,
            "options": self.options,
            "base_url": self.resolution.base_url,
            "leaf": self._tree.leaf,
            "active": self._tree.active_map(),
        }

    def _save(self, write: Callable[[Autosave], None]) -> None:
        """Put a change on disk now (the caller holds the lock); a failure is a notice,
        never a lost turn."""
        saver = self._autosave
        if saver is None:
            return
        if not saver.writing:
            if saver.handed_over:
                self._autosave = None
                self._notify(
                    f"This chat no longer saves to {saver.path.name}: a newer chat in this "
                    "kernel took the file over."
                )
            return
        try:
            write(saver)
        except ConversationFileError as exc:
            self._notify(str(exc), warn=True)

    def _notify(self, text: str, *, warn: bool = False) -> None:
        """Something the user should read: kept for the widget (:meth:`_take_notices`),
        and with ``warn``, a warning line for code and notebooks too."""
        self._notices.append(text)
        if warn:
            warnings.warn(text, UserWarning, stacklevel=4)

    def _take_notices(self) -> list[str]:
        notices, self._notices = self._notices, []
        return notices

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
            self._save(lambda saver: saver.select(message_id))

    @property
    def current(self) -> Turn | None:
        """The turn in flight, if any."""
        return self._current

    def _wire(self, history: list[Message]) -> list[WireMessage]:
        send = images_to_resend(self.images, history, self.max_history_images)
        return wire_history(self.system, history, send)

    # -- turns --------------------------------------------------------------------------

    def prompt(self, text: str, images: object = None, **options: object) -> Turn:
        """Ask ``text`` after the last message on screen, about ``images`` if given;
        returns a lazy :class:`Turn`. A refused image raises here, before any request."""
        given = listed(images)
        content = check_text("message", text, allow_empty=bool(given))
        parts = take_images(self.images, given, self.max_image_side)
        return self._new_turn("prompt", options, cut=len, ask=content, images=parts)

    def regenerate(self, message_id: str | None = None, **options: object) -> Turn:
        """Answer again: a new version of the reply ``message_id`` (default: the last
        one; a question left unanswered at the end gets its first). The earlier reply is
        kept as a sibling; the new one is shown from the moment it ends."""
        return self._new_turn("regenerate", options, cut=regenerate_cut(message_id))

    def resume(self, **options: object) -> Turn:
        """Continue the last reply (after a stop or a cut-off), appending to it."""
        return self._new_turn("resume", options, cut=resume_cut)

    def edit(
        self,
        text: str,
        message_id: str | None = None,
        images: object = None,
        **options: object,
    ) -> Turn:
        """Ask ``text`` in place of the question ``message_id`` (default: the last one),
        with a fresh reply. The earlier question and all that followed it are kept as a
        sibling branch. The question keeps its images unless ``images`` are given
        (``[]``: none)."""
        given = listed(images) if images is not None else None
        content = check_text("message", text, allow_empty=bool(given))
        parts = take_images(self.images, given, self.max_image_side) if given is not None else None
        return self._new_turn("edit", options, cut=edit_cut(message_id), ask=content, images=parts)

    def _new_turn(
        self,
        action: TurnAction,
        options: Mapping[str, object],
        *,
        cut: Cut,
        ask: str | None = None,
        images: list[ImagePart] | None = None,
    ) -> Turn:
        """The one way a turn is made, while the conversation is idle.

        ``cut(history)`` says where on the branch on screen the turn's messages will go
        (it raises if the action makes no sense here); the messages before it are what
        the model reads, and the turn's first message follows the last of them — beside
        whatever is at ``at`` now, which stays as a sibling (``resume`` alone replaces the
        message it continues). With ``ask``, the turn asks it as a new user message;
        without, it answers the question already there — and ``resume`` sends the reply
        it continues (its steps, when it called tools) as the last
        messages (the turn adds them). ``images`` go with ``ask`` (``None``: an edit
        keeps those of the question it replaces).
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
                if images is None:  # an edit: the images of the question it replaces
                    images = image_parts(history[at]) if at < len(history) else []
                user, asked = question(ask, images, parent, self._tree.ids(), self.images)
                parent = user["id"]
                wire.append(asked)
            else:
                check_has_question(wire)
            if action == "resume":
                base = copy.deepcopy(history[at])
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
            self._save(Autosave.clear)

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
            new: list[Message] = []
            if turn._user_message is not None:
                new.append(copy.deepcopy(turn._user_message))
                self._tree.add(new[-1])
            new.append(copy.deepcopy(turn.message))
            if new[-1]["id"] in self._tree:
                self._tree.replace(new[-1])  # a continued reply
            else:
                self._tree.add(new[-1])
            self._tree.select(new[-1]["id"])
            self._version += 1
            self._save(lambda saver: saver.put(new))
            if self._current is turn:
                self._current = None

    # -- transcripts --------------------------------------------------------------------

    def to_json(self) -> str:
        """The conversation as JSON: every message of every branch, which branch is on
        screen, system, model, options — never the key."""
        return _saving.to_json(self)

    @classmethod
    def from_json(cls, text: str, **kwargs: typing.Any) -> Conversation:
        """Restore a conversation saved with :meth:`to_json`; ``kwargs`` override what was
        saved. The saved server is used only if it is the one configured, or passed as
        ``base_url=`` (a file must not send your key elsewhere): else a warning says so."""
        return restore(cls, transcript.loads(text), "The saved conversation", kwargs)

    def to_markdown(self) -> str:
        """A Markdown transcript, readable on GitHub (math and code intact; images as
        their embedded thumbnails)."""
        return transcript.to_markdown(self.messages, system=self.system, thumbnails=True)

    def to_html(self) -> str:
        """A self-contained static HTML transcript (escaped, no script; images as their
        embedded thumbnails)."""
        return transcript.to_html(self.messages, system=self.system, thumbnails=True)

    def save(self, path: str) -> None:
        """Write the conversation to ``path``: ``.md`` Markdown, ``.html`` HTML, else JSON
        — with the images' bytes beside it, unchanged (``talk.json.images/<id>.png``)."""
        _saving.save(self, path)

    @classmethod
    def load(cls, path: str, **kwargs: typing.Any) -> Conversation:
        """Read a JSON conversation written by :meth:`save` (or autosaved: its journal is
        read too); ``kwargs`` as for :meth:`from_json`. To go on saving into the file,
        use ``Conversation(file=path)`` instead."""
        restored = autosave.read(path)
        if restored is None:
            raise ConversationFileError(f"There is no conversation file {path}.")
        conversation = restore(cls, restored.transcript, os.path.basename(path), kwargs)
        where = pathlib.Path(path)
        missing = autosave.read_images(where, restored.transcript.messages, conversation.images)
        if missing:
            conversation._notify(
                f"{len(missing)} image(s) of {where.name} are missing from "
                f"{where.name}.images; their thumbnails are kept.",
                warn=True,
            )
        return conversation

    def __repr__(self) -> str:
        with self._lock:
            shown, stored = len(self._tree.branch()), len(self._tree)
        more = f" ({stored} in all branches)" if stored > shown else ""
        return f"<Conversation {self.model}: {shown} messages{more}>"
