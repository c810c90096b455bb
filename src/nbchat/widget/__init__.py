"""The chat widget: the traits the front end draws, and the commands it sends back.

History lives in a :class:`~nbchat.session.Conversation`; this module only shows it. The
committed messages travel as one state key per message plus the ``leaf`` trait
(:mod:`._history`: a turn sends only its own messages; all of them are saved with the
notebook); the reply in flight travels over the delta channel (:mod:`._channel`). Running
a turn — from the UI or from code, one at a time — is :mod:`._turns`; publishing the view
and its static transcript is :mod:`._display`; the view's code, sent once per kernel for
every chat, is :mod:`._runtime`.
"""

from __future__ import annotations

import logging
import os
import pathlib
import re
import typing
import uuid
from collections.abc import Callable

import anywidget
import traitlets
from ipywidgets import widget_serialization

from .._ipython import one_line, stopped
from ..errors import ConversationBusy, InvalidRequest, NbchatError, redact_error
from ..images import MAX_SIDE
from ..messages import Message
from ..session import Conversation, Turn
from ..tools import ApprovePolicy, Decision, ToolLike, Tools
from ..transcript import count
from . import _display, _runtime
from ._channel import idle_snapshot as _idle_snapshot
from ._export import exported
from ._history import History, is_history_key
from ._images import full_image, submitted_images
from ._protocol import ClientMessage, ErrorMsg, NoticeMsg, ServerMessage
from ._runtime import Runtime
from ._static import StaticTranscript
from ._turns import BUG_HINT, Turns

__all__ = ["BUSY_NOTICE", "SWITCH_BUSY", "Chat"]

_STATIC = pathlib.Path(__file__).parent.parent / "static"
_log = logging.getLogger(__name__)
# Unexpected failures are logged for whoever configures logging; without that, Python would
# print them (traceback and all) to stderr, which in a kernel is the cell's output.
_log.addHandler(logging.NullHandler())

BUSY_NOTICE = "A reply is still streaming — press Stop first."
SWITCH_BUSY = "A reply is still streaming — switch versions once it has ended, or press Stop."
_CSS_LENGTH = re.compile(r"^(auto|none|\d+(\.\d+)?(px|em|rem|vh|%))$")


class Chat(anywidget.AnyWidget):
    """A chat with one model, drawn in the notebook: type, watch it stream, stop, redo.

    ``Chat("ollama:llama3.2")``, ``Chat("openai:gpt-4o-mini", base_url=…, api_key=…)``,
    ``Chat()`` for whatever is configured (else the offline demo), or
    ``Chat(conversation=existing)``. Extra keyword arguments are model options
    (``temperature=0.2``…). The API key stays in the kernel: no trait holds it.

    ``tools=[fn, …]`` lets the model call those functions; each call shows as a card in
    the reply and runs only if ``approve`` allows: ``"ask"`` (the card's Allow / Deny /
    Always allow; ``chat.ask`` asks on the cell's stdin), ``"always"``, or a function
    ``approve(name, arguments) -> bool | (bool, reason)``. ``chat.tools`` adds and
    removes them at any time; ``max_steps`` bounds the model requests of one reply.

    Images go with a message: paste, drop or pick them in the widget, or
    ``chat.ask(text, images=[fig, "photo.jpg", array, …])`` from code. They are scaled to
    at most ``max_image_side`` pixels a side (in the browser, before they are sent); later
    turns send them again, at most ``max_history_images`` of them (``None``: all).
    """

    # A small loader: the view's code and CSS come once per kernel from the runtime model
    # (see _runtime.py), not once per chat.
    _esm = _STATIC / "loader.js"

    runtime = traitlets.Instance(
        Runtime,
        read_only=True,
        help="The model carrying the view's code and CSS, shared by every chat of the kernel.",
    ).tag(sync=True, **widget_serialization)

    leaf = traitlets.Unicode(
        "",
        read_only=True,
        help='Id of the last message of the branch on screen ("": none). The messages '
        "themselves are synced as one state key each, ``m:<id>``, with ``c:<id>`` listing a "
        "message's children (see :mod:`nbchat.widget._history`).",
    ).tag(sync=True)
    status = traitlets.Enum(
        ("idle", "streaming", "error"),
        "idle",
        read_only=True,
        help='"streaming" while a reply is in flight; "error" when the last one failed.',
    ).tag(sync=True)
    model = traitlets.Unicode(
        "", read_only=True, help='The model, as "provider:name" (e.g. "demo:showcase").'
    ).tag(sync=True)
    theme = traitlets.Enum(
        ("auto", "light", "dark"),
        "auto",
        help='"auto" follows the notebook\'s theme; "light" or "dark" forces one.',
    ).tag(sync=True)
    height = traitlets.Unicode(
        "520px", help='Largest height of the message list, as CSS ("520px", "60vh").'
    ).tag(sync=True)
    compact = traitlets.Bool(False, help="Show only the messages: no input box or toolbar.").tag(
        sync=True
    )
    placeholder = traitlets.Unicode(
        "Send a message (Enter to send, Shift+Enter for a new line)",
        help="Text shown in the empty input box.",
    ).tag(sync=True)
    max_image_side = traitlets.Int(
        MAX_SIDE,
        read_only=True,
        help="Longest side, in pixels, an image is scaled to before it is sent (the "
        "browser scales attached images to it; the conversation scales the rest).",
    ).tag(sync=True)

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        system: str | None = None,
        theme: str = "auto",
        height: str | int = "520px",
        compact: bool = False,
        placeholder: str | None = None,
        conversation: Conversation | None = None,
        tools: typing.Iterable[ToolLike] = (),
        approve: ApprovePolicy = "ask",
        max_steps: int | None = None,
        max_image_side: int = MAX_SIDE,
        max_history_images: int | None = None,
        file: str | os.PathLike[str] | None = None,
        **options: typing.Any,
    ) -> None:
        owned = conversation is None
        if conversation is None:
            if max_steps is not None:
                options["max_steps"] = max_steps
            conversation = Conversation(
                model,
                system=system,
                base_url=base_url,
                api_key=api_key,
                file=file,
                tools=tools,
                approve=approve,
                max_image_side=max_image_side,
                max_history_images=max_history_images,
                **options,
            )
        elif (
            model is not None
            or base_url
            or api_key
            or system
            or options
            or tools
            or approve != "ask"
            or max_steps is not None
            or max_image_side != MAX_SIDE
            or max_history_images is not None
            or file
        ):
            raise InvalidRequest(
                "Pass either conversation= or model settings, not both.",
                hint="Chat(conversation=c) shows c; Chat('provider:model', …) starts anew.",
            )
        # Set before the traits: their defaults (sent when the comm opens) read it.
        self._conversation = conversation
        self._owns_conversation = owned  # closing the chat releases its file
        self._turns = Turns(self)
        self._static: StaticTranscript | None = None
        self._history = History()
        tree, leaf = self._committed()
        self._history.sync(self._shown(tree))
        self._initial_leaf = leaf
        if isinstance(height, int) and not isinstance(height, bool):
            height = f"{height}px"  # height=400 means 400 pixels
        view: dict[str, object] = {"theme": theme, "height": height, "compact": compact}
        if placeholder is not None:
            view["placeholder"] = placeholder
        super().__init__(**view)
        self.on_msg(self._on_custom)

    @traitlets.default("leaf")
    def _default_leaf(self) -> str:
        return self._initial_leaf

    @traitlets.default("runtime")
    def _default_runtime(self) -> Runtime:
        return _runtime.shared()

    @traitlets.default("model")
    def _default_model(self) -> str:
        return self._conversation.model

    @traitlets.default("max_image_side")
    def _default_max_image_side(self) -> int:
        return self._conversation.max_image_side

    @traitlets.validate("height")
    def _validate_height(self, proposal: dict[str, typing.Any]) -> str:
        value = proposal["value"]
        if not _CSS_LENGTH.match(value):
            raise traitlets.TraitError(
                f"height must be a CSS length like '520px' or '60vh', not {value!r}"
            )
        return str(value)

    # -----------------------------------------------------------------------------------
    # Public API.

    @property
    def messages(self) -> list[Message]:
        """The branch on screen, oldest first: ``{id, role, content, parent, reasoning?,
        meta?}`` dicts (see :mod:`nbchat.messages`; copies). While a reply streams it holds
        the prompt being answered; the reply itself joins once it ends."""
        return self._history.branch(self.leaf)

    @property
    def conversation(self) -> Conversation:
        """The history and model this widget shows (shared, not copied)."""
        return self._conversation

    @property
    def tools(self) -> Tools:
        """The functions the model may call: ``chat.tools.add(fn)``, ``.remove("name")``."""
        return self._conversation.tools

    def ask(self, text: str, images: object = None, **options: object) -> str:
        """Send ``text`` (with ``images``: a list of paths, bytes, PIL images, matplotlib
        figures, arrays or ``data:`` URLs), stream the reply into the widget while waiting,
        and return it. A refused image raises :class:`~nbchat.errors.InvalidImage` before
        anything is sent.

        Raises the turn's :class:`~nbchat.errors.NbchatError` if it failed (the widget shows
        it too, and the partial reply is kept). A kernel interrupt stops the reply, keeps
        the partial text marked stopped, and propagates as a ``KeyboardInterrupt`` that
        IPython shows as one line (``Stopped: the partial reply is kept.``).

        The cell is busy until the reply ends, and the kernel hears nothing from the
        widget meanwhile: the widget says to interrupt the kernel to stop it. In async
        code, ``await chat.ask_async(…)`` keeps the widget's Stop button working.
        """
        prompt = self._conversation.prompt
        reply, error = self._run(lambda: prompt(text, images=images, **options), text)
        if error is not None:
            raise error  # from here: the traceback starts at the caller's line
        return reply

    def regenerate(self, message_id: str | None = None, **options: object) -> str:
        """Answer again (the reply ``message_id`` on the branch on screen, or the last
        one), streaming into the widget as :meth:`ask` does; returns the new reply. The
        earlier one stays as a version beside it (``chat.select(id)`` shows it again)."""
        reply, error = self._run(lambda: self._conversation.regenerate(message_id, **options))
        if error is not None:
            raise error
        return reply

    def edit(self, text: str, message_id: str | None = None, **options: object) -> str:
        """Ask ``text`` in place of the question ``message_id`` on the branch on screen
        (default: the last one) as :meth:`ask` does; returns the fresh reply. The earlier
        question and what followed it stay as a version beside it."""
        edit = self._conversation.edit
        reply, error = self._run(lambda: edit(text, message_id, **options), text)
        if error is not None:
            raise error
        return reply

    def _run(
        self, make_turn: Callable[[], Turn], prompt: str | None = None
    ) -> tuple[str, BaseException | None]:
        """Run a turn from code, shown as it streams: its reply, and what the public
        method raises (returned, not raised here, so no frame of nbchat's shows above it)."""
        turn = self._turns.claim(make_turn)
        try:
            error = self._turns.run_blocking(turn, prompt=prompt)
        except KeyboardInterrupt as exc:
            return turn.text, stopped(exc)
        return turn.text, None if error is None else one_line(error)

    async def ask_async(self, text: str, images: object = None, **options: object) -> str:
        """:meth:`ask` for async code: streams on the running loop."""
        prompt = self._conversation.prompt
        turn = self._turns.claim(lambda: prompt(text, images=images, **options))
        error = await self._turns.run_here(turn, prompt=text)
        if error is not None:
            raise one_line(error)
        return turn.text

    def stop(self) -> None:
        """Stop the reply in flight, if any; its partial text is kept, marked stopped."""
        turns = getattr(self, "_turns", None)  # None in a half-built widget being collected
        if turns is not None:
            turns.stop()

    def select(self, message_id: str) -> None:
        """Show the branch through ``message_id`` — another version of a reply or a
        question (``chat.conversation.tree.siblings(id)`` lists them) — with what followed
        it when it was last shown. Refused while a reply streams
        (:class:`~nbchat.errors.ConversationBusy`)."""
        if self._turns.current is not None:
            raise ConversationBusy(SWITCH_BUSY, hint="Press Stop first, or wait for it.")
        self._conversation.select(message_id)
        self._publish_committed()
        self._refresh_static()
        self._send_notices()

    def to_markdown(self) -> str:
        """The branch on screen as Markdown: role headings, a model · tokens line under each
        reply, text verbatim (math as TeX, code fenced)."""
        return self._conversation.to_markdown()

    def to_html(self) -> str:
        """The branch on screen as a static HTML fragment: every text escaped, code in
        ``<pre>``, no script — and no typesetting: math stays TeX source (``$x^2$``) and
        Markdown is not rendered. For a standalone page with typeset math, use the
        widget's **Export → HTML**, which builds it in the browser."""
        return self._conversation.to_html()

    def save(self, path: str) -> None:
        """Write the conversation (every branch) to ``path`` as JSON — no key, no secret
        header. To keep a file up to date as you chat, use ``Chat(..., file=path)``."""
        self._conversation.save(path)

    @classmethod
    def load(
        cls,
        path: str,
        *,
        theme: str = "auto",
        height: str | int = "520px",
        compact: bool = False,
        placeholder: str | None = None,
        **kwargs: typing.Any,
    ) -> Chat:
        """A widget for a conversation saved with :meth:`save`; ``kwargs`` go to
        :meth:`Conversation.load <nbchat.session.Conversation.load>` (``api_key``…)."""
        conversation = Conversation.load(path, **kwargs)
        return cls(
            conversation=conversation,
            theme=theme,
            height=height,
            compact=compact,
            placeholder=placeholder,
        )

    def close(self) -> None:
        """Stop the reply in flight (kept, marked stopped) and close the widget; a chat
        made with ``file=`` stops saving and releases the file."""
        self.stop()
        if getattr(self, "_owns_conversation", False):
            self._conversation.close()
        super().close()

    def __repr__(self) -> str:
        return f"<Chat {self.model} · {count(len(self.messages), 'message')} · {self.status}>"

    # -----------------------------------------------------------------------------------
    # Synced state: the traits, and one key per message (see :mod:`._history`).

    def get_state(
        self, key: str | typing.Iterable[str] | None = None, drop_defaults: bool = False
    ) -> dict[str, typing.Any]:
        """The widget's state: its traits, and the ``m:``/``c:`` keys of the messages."""
        if key is None:
            state: dict[str, typing.Any] = super().get_state(None, drop_defaults)
            state.update(self._history.state())
            return state
        keys = [key] if isinstance(key, str) else list(key)
        state = super().get_state([k for k in keys if not is_history_key(k)], drop_defaults)
        state.update((k, self._history.value(k)) for k in keys if is_history_key(k))
        return state

    def _committed(self) -> tuple[list[Message], str]:
        """Every committed message (the whole tree, parents first) and the leaf on screen."""
        tree = self._conversation.tree
        return list(tree), tree.leaf or ""

    def _publish_committed(self, status: str | None = None) -> None:
        tree, leaf = self._committed()
        self._publish(tree, leaf, status=status)

    def _shown(self, messages: list[Message]) -> list[Message]:
        """Which of ``messages`` this view shows (a subclass may show fewer)."""
        return messages

    def _publish(
        self, messages: list[Message], leaf: str | None = None, status: str | None = None
    ) -> None:
        """Show ``messages`` (the whole tree) with ``leaf`` ending the branch on screen (the
        last shown message if None): the changed keys, ``leaf`` and ``status`` in one update."""
        shown = self._shown(messages)
        changed = self._history.sync(shown)
        with self.hold_sync():
            self.set_trait("leaf", (shown[-1]["id"] if shown else "") if leaf is None else leaf)
            if status is not None:
                self.set_trait("status", status)
            # Sent when the outermost hold ends, together with the traits just set.
            self._states_to_send.update([*changed, "leaf"])

    # -----------------------------------------------------------------------------------
    # Display: the live view, and a static transcript for readers without widget JavaScript
    # (see :mod:`._display`).

    def _repr_mimebundle_(self, **kwargs: object) -> tuple[dict[str, object], dict[str, object]]:
        # For hosts that do not call _ipython_display_: the live view and a transcript as
        # of now, in one output.
        bundle, metadata = _display.view_bundle(self)
        bundle["text/markdown"] = _display.static_markdown(self._conversation)
        return bundle, metadata

    def _ipython_display_(self) -> None:
        _display.publish(*_display.view_bundle(self))
        if self.comm is None:
            return
        if self._static is None:
            self._static = StaticTranscript(f"nbchat-{uuid.uuid4().hex}")
        # Displayed again (another cell): every output anew, with the same display ids, so
        # an update rewrites each copy.
        for display_id, bundle in self._static.outputs(self._conversation):
            _display.publish(bundle, display_id=display_id)

    def _refresh_static(self) -> None:
        if self._static is None or self.comm is None:
            return
        for display_id, bundle in self._static.changed(self._conversation):
            _display.publish(bundle, display_id=display_id, update=True)

    # -----------------------------------------------------------------------------------
    # Commands from the front end.

    def _on_custom(self, _widget: object, content: object, buffers: object) -> None:
        if not isinstance(content, dict):
            return
        msg = typing.cast(ClientMessage, content)
        kind = msg.get("kind")
        try:
            if kind in ("hello", "resync"):
                self._turns.front_end = True
                self._answer_hello()
            elif kind == "approve":
                self._approve(content)
            elif kind == "stop":
                self.stop()
            elif kind == "submit":
                text = _text_field(content)
                images = submitted_images(content, buffers if isinstance(buffers, list) else [])
                prompt = self._conversation.prompt
                self._turns.start_from_ui(lambda: prompt(text, images=images or None), prompt=text)
            elif kind == "image":
                answer, data = full_image(self._conversation, content)
                self.send(dict(answer), buffers=[data] if data else None)
            elif kind == "regenerate":
                reply = _id_field(content)
                self._turns.start_from_ui(lambda: self._conversation.regenerate(reply))
            elif kind == "continue":
                self._turns.start_from_ui(self._conversation.resume)
            elif kind == "edit":
                text, question = _text_field(content), _id_field(content)
                self._turns.start_from_ui(
                    lambda: self._conversation.edit(text, question), prompt=text
                )
            elif kind == "switch":
                target = _id_field(content)
                if target is None:
                    raise InvalidRequest("Switch to which message?")
                self.select(target)
            elif kind == "export":
                self._send_custom(exported(self._conversation, content))
            elif kind == "clear":
                self._clear()
            else:
                _log.debug("nbchat: ignoring unknown front-end message %r", kind)
        except NbchatError as exc:
            self._refuse(exc)
        except Exception:  # a bug: log it for us, show one line to the user
            _log.exception("nbchat: front-end command %r failed", kind)
            self._refuse(NbchatError("Something went wrong in nbchat.", hint=BUG_HINT))

    def _approve(self, content: dict[str, object]) -> None:
        call_id, reason = content.get("call_id"), content.get("reason")
        if not isinstance(call_id, str):
            return
        decision = Decision(
            allow=content.get("allow") is True,
            reason=reason.strip()[:500] if isinstance(reason, str) else "",
            always=content.get("always") is True,
        )
        self._turns.approve(call_id, decision)

    def _send_notices(self) -> None:
        """What the conversation wants the user to read (a file it could not save, a saved
        server it did not use): one notice each."""
        for text in self._conversation._take_notices():
            self._send_custom(NoticeMsg(kind="notice", text=text))

    def _answer_hello(self) -> None:
        # Notices kept since the chat was made are shown to the first view that greets.
        self._send_notices()
        channel = self._turns.channel
        if channel is not None:
            channel.request_snapshot()
        else:
            self._send_custom(_idle_snapshot())

    def _clear(self) -> None:
        if self._turns.current is not None:
            raise ConversationBusy("A reply is still streaming.", hint="Press Stop first.")
        self._conversation.clear()
        self._publish_committed(status="idle")
        self._refresh_static()
        self._send_notices()

    def _refuse(self, exc: NbchatError) -> None:
        if isinstance(exc, ConversationBusy):
            busy = exc.message if exc.message == SWITCH_BUSY else BUSY_NOTICE
            self._send_custom(NoticeMsg(kind="notice", text=busy))
        else:
            message, hint = self._redacted(exc)
            self._send_custom(ErrorMsg(kind="error", id=None, message=message, hint=hint))

    # -----------------------------------------------------------------------------------

    def _send_custom(self, msg: ServerMessage) -> None:
        self.send(dict(msg))

    def _redacted(self, exc: NbchatError) -> tuple[str, str]:
        # Providers keep keys out of their errors; this is the second lock on that door.
        redact_error(exc, getattr(self._conversation.provider, "_api_key", None))
        return exc.message, exc.hint


def _id_field(content: dict[str, object]) -> str | None:
    value = content.get("id")
    return value if isinstance(value, str) and value else None


def _text_field(content: dict[str, object]) -> str:
    text = content.get("text")
    if not isinstance(text, str):
        raise InvalidRequest("The message has no text.", hint="Type something, then send it.")
    return text
