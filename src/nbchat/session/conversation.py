"""Conversation: a history of messages with one model; runs turns one at a time."""

from __future__ import annotations

import copy
import os
import pathlib
import threading
import typing
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence

from .. import resolve, settings, transcript
from ..errors import ConversationBusy, ConversationFileError, InvalidRequest
from ..images import MAX_SIDE, Image, MemoryImageStore, Mime, to_image
from ..messages import ImagePart, Message, Part, new_id
from ..providers.base import Provider, Timeouts, WireMessage
from ..tools import Approval, ApprovePolicy, ToolLike, Tools
from . import autosave
from ._history import has_tool_parts, image_parts, wire_messages
from ._input import check_messages, check_text
from ._loop import DEFAULT_MAX_STEPS
from ._saved import server_notice
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
            self._setup(
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
                missing = writer.load_images(self.images, self._tree)
                if missing:
                    self._notify(
                        f"{len(missing)} image(s) of {writer.path.name} are missing "
                        f"from {writer.path.name}.images; their thumbnails are kept."
                    )
                writer.start(self._snapshot, self.images)
                self._autosave = writer
        except BaseException:
            if writer is not None:
                writer.close()
            raise

    def _setup(
        self,
        model: str | None,
        *,
        system: str | None,
        base_url: str | None,
        api_key: str | None,
        headers: Mapping[str, str] | None,
        timeouts: Timeouts | None,
        messages: Iterable[Message] | None,
        options: Mapping[str, object],
        saved: transcript.Transcript | None,
        source: str,
        tools: Iterable[ToolLike] = (),
        approve: ApprovePolicy = "ask",
        max_steps: int = DEFAULT_MAX_STEPS,
        max_image_side: int = MAX_SIDE,
        max_history_images: int | None = None,
        image_store: MemoryImageStore | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._notices = []
        self._autosave = None
        self.images = MemoryImageStore() if image_store is None else image_store
        active: Mapping[str, str] = {}
        leaf: str | None = None
        saved_url: str | None = None
        if saved is not None:
            if messages is not None:
                raise InvalidRequest(
                    f"Pass either messages= or a file= to restore, not both: {source} exists.",
                    hint="Leave messages= out to restore the file, or use another file=.",
                )
            if model is None:
                model = saved.model
            saved_url = None if base_url is not None else saved.base_url
            system = saved.system if system is None else system
            options = {**saved.options, **options}
            messages, active, leaf = saved.messages, saved.active, saved.leaf
        self.resolution = resolve.resolve(model, base_url, api_key)
        notice = server_notice(source, saved_url, self.resolution.base_url)
        if notice:
            self._notify(notice, warn=True)
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
        if not _whole(max_image_side) or max_image_side < 16:
            raise InvalidRequest(
                f"max_image_side must be a whole number of pixels from 16, not {max_image_side!r}.",
                hint=f"Images are scaled to it on their longest side (default {MAX_SIDE}).",
            )
        self.max_image_side = max_image_side
        if max_history_images is not None and (
            not _whole(max_history_images) or max_history_images < 0
        ):
            raise InvalidRequest(
                f"max_history_images must be None or a whole number from 0, not "
                f"{max_history_images!r}.",
                hint="It is how many past images each request sends again (None: all).",
            )
        self.max_history_images = max_history_images
        loaded, loaded_system = check_messages(messages or ())
        given = system if system is not None else loaded_system
        if given is None:
            given = settings.settings().system
        self.system = check_text("system prompt", given, allow_empty=True) if given else None
        last = loaded[-1]["id"] if loaded else None
        self._tree = Tree.of(loaded, active=active, leaf=leaf or last)
        self._current = None
        self._version = 0

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
        send = self._images_to_resend(history)
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
            # A reply that called tools: its steps. A question: its text and images.
            wire.extend(wire_messages(message, lambda part: send.get(part["id"])))
        return wire

    def _images_to_resend(self, history: list[Message]) -> dict[str, Image]:
        """The images sent, by id: those of the question being answered (when it ends
        ``history``), and of the past ones the ``max_history_images`` most recent (all
        with ``None``) — those whose bytes the store has (a file's missing ones are not)."""
        send: dict[str, Image] = {}
        past = history
        if history and history[-1]["role"] == "user":
            # The question this turn answers (a regenerate, a resume): not a past one.
            for part in image_parts(history[-1]):
                image = self._image(part)
                if image is not None:
                    send[part["id"]] = image
            past = history[:-1]
        limit = self.max_history_images
        counted = 0
        for message in reversed(past):
            if message["role"] != "user":
                continue
            for part in reversed(image_parts(message)):
                if limit is not None and counted >= limit:
                    return send
                image = self._image(part)
                if image is not None:
                    send.setdefault(part["id"], image)
                    counted += 1
        return send

    def _image(self, part: ImagePart) -> Image | None:
        try:
            data = self.images.get(part["id"])
        except KeyError:
            return None
        mime: Mime = "image/jpeg" if part["mime"] == "image/jpeg" else "image/png"
        return Image(data, mime, part["width"], part["height"])

    def _take_images(self, images: Sequence[object]) -> list[ImagePart]:
        """``images`` turned into images, kept in the store, described (before anything
        is sent: one refused input refuses the message)."""
        made = [to_image(given, max_side=self.max_image_side) for given in images]
        return [self.images.add(image) for image in made]

    # -- turns --------------------------------------------------------------------------

    def prompt(self, text: str, images: object = None, **options: object) -> Turn:
        """Ask ``text`` after the last message on screen, about ``images`` if given;
        returns a lazy :class:`Turn`. A refused image raises here, before any request."""
        given = _listed(images)
        content = check_text("message", text, allow_empty=bool(given))
        parts = self._take_images(given)
        return self._new_turn("prompt", options, cut=len, ask=content, images=parts)

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
        given = _listed(images) if images is not None else None
        content = check_text("message", text, allow_empty=bool(given))
        parts = self._take_images(given) if given is not None else None

        def cut(history: list[Message]) -> int:
            if message_id is not None:
                return _place(history, message_id, "user", "edit")
            users = [i for i, m in enumerate(history) if m["role"] == "user"]
            if not users:
                raise InvalidRequest("There is no message to edit.", hint="Ask something first.")
            return users[-1]

        return self._new_turn("edit", options, cut=cut, ask=content, images=parts)

    def _new_turn(
        self,
        action: TurnAction,
        options: Mapping[str, object],
        *,
        cut: Callable[[list[Message]], int],
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
                taken = self._tree.ids()
                user = {"id": new_id(taken), "role": "user", "content": ask, "parent": parent}
                if images:
                    parts: list[Part] = [{"type": "text", "text": ask}] if ask else []
                    user["parts"] = [*parts, *images]
                parent = user["id"]
                asked: WireMessage = {"role": "user", "content": ask}
                sent = [i for i in map(self._image, images) if i is not None]
                if sent:
                    asked["images"] = sent
                wire.append(asked)
            else:
                _check_has_question(wire)
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
        """Restore a conversation saved with :meth:`to_json`; ``kwargs`` override what was
        saved. The saved server is used only if it is the one configured, or passed as
        ``base_url=`` (a file must not send your key elsewhere): else a warning says so."""
        return cls._restore(transcript.loads(text), "The saved conversation", kwargs)

    @classmethod
    def _restore(
        cls, saved: transcript.Transcript, source: str, kwargs: dict[str, typing.Any]
    ) -> Conversation:
        conversation = cls.__new__(cls)
        options = {**kwargs.pop("options", {})}
        known = ("model", "system", "base_url", "api_key", "headers", "timeouts")
        given = {name: kwargs.pop(name, None) for name in known}
        # Tools are the caller's functions, never saved: given again on each load.
        tools = kwargs.pop("tools", ())
        approve = kwargs.pop("approve", "ask")
        max_steps = kwargs.pop("max_steps", DEFAULT_MAX_STEPS)
        max_image_side = kwargs.pop("max_image_side", MAX_SIDE)
        max_history_images = kwargs.pop("max_history_images", None)
        image_store = kwargs.pop("image_store", None)
        if kwargs.pop("messages", None) is not None:
            raise InvalidRequest("Restoring takes the saved messages; pass no messages=.")
        conversation._setup(
            given["model"],
            system=given["system"],
            base_url=given["base_url"],
            api_key=given["api_key"],
            headers=given["headers"],
            timeouts=given["timeouts"],
            messages=None,
            options={**options, **kwargs},
            saved=saved,
            source=source,
            tools=tools,
            approve=approve,
            max_steps=max_steps,
            max_image_side=max_image_side,
            max_history_images=max_history_images,
            image_store=image_store,
        )
        return conversation

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
        saver = self._autosave
        if (
            saver is not None
            and saver.writing
            and os.path.realpath(path) == os.path.realpath(saver.path)
        ):
            with self._lock:
                saver.compact()  # its own file: rewritten the crash-safe way, journal folded in
            return
        lowered = str(path).lower()
        if lowered.endswith((".md", ".markdown")):
            data = self.to_markdown()
        elif lowered.endswith((".html", ".htm")):
            data = self.to_html()
        else:
            data = self.to_json()
            with self._lock:
                messages = list(self._tree)
            autosave.write_images(pathlib.Path(path), _image_parts_of(messages), self.images)
        with open(path, "w", encoding="utf-8") as file:
            file.write(data)

    @classmethod
    def load(cls, path: str, **kwargs: typing.Any) -> Conversation:
        """Read a JSON conversation written by :meth:`save` (or autosaved: its journal is
        read too); ``kwargs`` as for :meth:`from_json`. To go on saving into the file,
        use ``Conversation(file=path)`` instead."""
        restored = autosave.read(path)
        if restored is None:
            raise ConversationFileError(f"There is no conversation file {path}.")
        conversation = cls._restore(restored.transcript, os.path.basename(path), kwargs)
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


def _listed(images: object) -> list[object]:
    """The images given, as a list: one image may come without one."""
    if images is None:
        return []
    if isinstance(images, (str, bytes, bytearray, os.PathLike)) or not isinstance(images, Sequence):
        return [images]
    return list(images)


def _image_parts_of(messages: Iterable[Message]) -> list[ImagePart]:
    return [part for message in messages for part in image_parts(message)]


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _said_nothing(message: Message) -> bool:
    return not message["content"] and not has_tool_parts(message)


def _check_has_question(wire: list[WireMessage]) -> None:
    if not any(m["role"] == "user" for m in wire):
        raise InvalidRequest("There is no question to answer.", hint="Ask something first.")
