"""The chat widget: the traits the front end draws, and the commands it sends back.

History lives in a :class:`~nbchat.session.Conversation`; this module only shows it. The
committed messages travel in the ``messages`` trait (saved with the notebook); the reply in
flight travels over the delta channel (:mod:`nbchat._channel`).

Two ways a turn runs:

- **From the UI** (``submit``, ``regenerate``, …): as an asyncio task on the kernel's loop,
  so the cell is free and a ``stop`` message reaches us while the reply streams.
- **From code** (``chat.ask``): the calling thread waits for events and sends them on
  itself (ipykernel 7 does not like widget updates from other threads); the provider runs
  on nbchat's worker loop.

Either way there is one turn at a time, and a turn ends the same way: the tail of the text,
then ``messages`` and ``status`` in one update, then ``done`` (or ``error``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import pathlib
import re
import typing
import uuid
from collections.abc import Callable

import anywidget
import traitlets

from .. import _worker
from ..errors import ConversationBusy, InvalidRequest, NbchatError, redact
from ..messages import Message
from ..providers.base import ReasoningDelta, StreamEvent, TextDelta
from ..session import Conversation, Turn
from . import _display
from ._channel import Channel, PollingScheduler, Scheduler
from ._protocol import ClientMessage, ErrorMsg, NoticeMsg, ServerMessage, SnapshotMsg

__all__ = ["BUSY_NOTICE", "Chat"]

_STATIC = pathlib.Path(__file__).parent.parent / "static"
_log = logging.getLogger(__name__)
# Unexpected failures are logged for whoever configures logging; without that, Python would
# print them (traceback and all) to stderr, which in a kernel is the cell's output.
_log.addHandler(logging.NullHandler())

BUSY_NOTICE = "A reply is still streaming — press Stop first."
_CSS_LENGTH = re.compile(r"^(auto|none|\d+(\.\d+)?(px|em|rem|vh|%))$")


class Chat(anywidget.AnyWidget):
    """A chat with one model, drawn in the notebook: type, watch it stream, stop, redo.

    ``Chat("ollama:llama3.2")``, ``Chat("openai:gpt-4o-mini", base_url=…, api_key=…)``,
    ``Chat()`` for whatever is configured (else the offline demo), or
    ``Chat(conversation=existing)``. Extra keyword arguments are model options
    (``temperature=0.2``…). The API key stays in the kernel: no trait holds it.
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    messages = traitlets.List(
        traitlets.Dict(),
        read_only=True,
        help="The conversation: ``{id, role, content, reasoning?, meta?}`` dicts, oldest first. "
        "While a reply streams it also holds the prompt being answered; the reply itself "
        "arrives here once, when it ends.",
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
        **options: typing.Any,
    ) -> None:
        if conversation is None:
            conversation = Conversation(
                model, system=system, base_url=base_url, api_key=api_key, **options
            )
        elif model is not None or base_url or api_key or system or options:
            raise InvalidRequest(
                "Pass either conversation= or model settings, not both.",
                hint="Chat(conversation=c) shows c; Chat('provider:model', …) starts anew.",
            )
        # Set before the traits: their defaults (sent when the comm opens) read it.
        self._conversation = conversation
        self._turn: Turn | None = None
        self._channel: Channel | None = None
        self._task: asyncio.Task[NbchatError | None] | None = None
        self._display_id: str | None = None
        if isinstance(height, int) and not isinstance(height, bool):
            height = f"{height}px"  # height=400 means 400 pixels
        view: dict[str, object] = {"theme": theme, "height": height, "compact": compact}
        if placeholder is not None:
            view["placeholder"] = placeholder
        super().__init__(**view)
        self.on_msg(self._on_custom)

    @traitlets.default("messages")
    def _default_messages(self) -> list[Message]:
        return self._conversation.messages

    @traitlets.default("model")
    def _default_model(self) -> str:
        return self._conversation.model

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
    def conversation(self) -> Conversation:
        """The history and model this widget shows (shared, not copied)."""
        return self._conversation

    def ask(self, text: str, **options: object) -> str:
        """Send ``text``, stream the reply into the widget while waiting, and return it.

        Raises the turn's :class:`~nbchat.errors.NbchatError` if it failed (the widget shows
        it too, and the partial reply is kept). A kernel interrupt stops the reply, keeps
        the partial text marked stopped, and propagates.
        """
        turn = self._claim(lambda: self._conversation.prompt(text, **options))
        error = self._run_blocking(turn, prompt=text)
        if error is not None:
            raise _one_line(error)
        return turn.text

    async def ask_async(self, text: str, **options: object) -> str:
        """:meth:`ask` for async code: streams on the running loop."""
        turn = self._claim(lambda: self._conversation.prompt(text, **options))
        channel = self._open(turn, asyncio.get_running_loop(), prompt=text)
        error = await self._run_async(turn, channel)
        if error is not None:
            raise _one_line(error)
        return turn.text

    def stop(self) -> None:
        """Stop the reply in flight, if any; its partial text is kept, marked stopped."""
        turn = getattr(self, "_turn", None)  # None too in a half-built widget being collected
        if turn is not None:
            turn.stop()

    def to_markdown(self) -> str:
        """The conversation as Markdown."""
        return self._conversation.to_markdown()

    def save(self, path: str) -> None:
        """Write the conversation to ``path`` as JSON (no key, no secret header)."""
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
        """Stop the reply in flight (kept, marked stopped) and close the widget."""
        self.stop()
        super().close()

    def __repr__(self) -> str:
        count = _display.count(len(self.messages), "message")
        return f"<Chat {self.model} · {count} · {self.status}>"

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
        if self._display_id is None:
            self._display_id = f"nbchat-{uuid.uuid4().hex}"
        markdown = _display.static_markdown(self._conversation)
        _display.publish({"text/markdown": markdown}, display_id=self._display_id)

    def _refresh_static(self) -> None:
        if self._display_id is None or self.comm is None:
            return
        markdown = _display.static_markdown(self._conversation)
        _display.publish({"text/markdown": markdown}, display_id=self._display_id, update=True)

    # -----------------------------------------------------------------------------------
    # Commands from the front end.

    def _on_custom(self, _widget: object, content: object, _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        msg = typing.cast(ClientMessage, content)
        kind = msg.get("kind")
        try:
            if kind in ("hello", "resync"):
                self._answer_hello()
            elif kind == "stop":
                self.stop()
            elif kind == "submit":
                text = _text_field(content)
                self._start_from_ui(lambda: self._conversation.prompt(text), prompt=text)
            elif kind == "regenerate":
                self._start_from_ui(self._conversation.regenerate)
            elif kind == "continue":
                self._start_from_ui(self._conversation.resume)
            elif kind == "edit":
                text = _text_field(content)
                self._start_from_ui(lambda: self._conversation.edit(text), prompt=text)
            elif kind == "clear":
                self._clear()
            else:
                _log.debug("nbchat: ignoring unknown front-end message %r", kind)
        except NbchatError as exc:
            self._refuse(exc)
        except Exception:  # a bug: log it for us, show one line to the user
            _log.exception("nbchat: front-end command %r failed", kind)
            self._refuse(NbchatError("Something went wrong in nbchat.", hint=_BUG_HINT))

    def _answer_hello(self) -> None:
        if self._channel is not None:
            self._channel.request_snapshot()
        else:
            self._send_custom(
                SnapshotMsg(
                    kind="snapshot", id=None, seq=0, text="", reasoning="", model="", tokens=0
                )
            )

    def _start_from_ui(self, make_turn: Callable[[], Turn], prompt: str | None = None) -> None:
        turn = self._claim(make_turn)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:  # no event loop (not a kernel): run it here, to the end
            self._run_blocking(turn, prompt=prompt)
            return
        # Shown as started at once; the stream itself runs in a task on the kernel's loop.
        channel = self._open(turn, loop, prompt)
        self._task = loop.create_task(self._run_async(turn, channel))
        self._task.add_done_callback(_log_task_failure)

    def _clear(self) -> None:
        if self._turn is not None:
            raise ConversationBusy("A reply is still streaming.", hint="Press Stop first.")
        self._conversation.clear()
        with self.hold_sync():
            self.set_trait("messages", self._conversation.messages)
            self.set_trait("status", "idle")
        self._refresh_static()

    def _refuse(self, exc: NbchatError) -> None:
        if isinstance(exc, ConversationBusy):
            self._send_custom(NoticeMsg(kind="notice", text=BUSY_NOTICE))
        else:
            message, hint = self._redacted(exc)
            self._send_custom(ErrorMsg(kind="error", id=None, message=message, hint=hint))

    # -----------------------------------------------------------------------------------
    # Running a turn.

    def _claim(self, make_turn: Callable[[], Turn]) -> Turn:
        """Create the turn (the conversation validates input here), one at a time."""
        if self._turn is not None:
            raise ConversationBusy("A reply is still streaming in this chat.")
        turn = make_turn()
        self._turn = turn
        return turn

    def _open(self, turn: Turn, scheduler: Scheduler, prompt: str | None) -> Channel:
        try:
            with self.hold_sync():
                shown = _history_during(self._conversation.messages, turn, prompt)
                self.set_trait("messages", shown)
                self.set_trait("status", "streaming")
            channel = Channel(self._send_custom, scheduler)
            channel.start(turn.id, model=turn.model, text=turn.text, reasoning=turn.reasoning)
        except BaseException:
            # Never started (an interrupt, a closed comm): do not leave the chat busy.
            self._turn = None
            turn.stop()
            with contextlib.suppress(Exception):
                self.set_trait("messages", self._conversation.messages)
                self.set_trait("status", "idle")
            raise
        self._channel = channel
        return channel

    def _finish(self, channel: Channel, error: NbchatError | None) -> None:
        channel.flush()
        self._channel = None
        self._turn = None
        with self.hold_sync():
            self.set_trait("messages", self._conversation.messages)
            self.set_trait("status", "idle" if error is None else "error")
        if error is None:
            channel.done()
        else:
            channel.fail(*self._redacted(error))
        self._refresh_static()

    async def _run_async(self, turn: Turn, channel: Channel) -> NbchatError | None:
        error: NbchatError | None = None
        try:
            async for event in turn:
                _feed(channel, event)
        except NbchatError as exc:
            error = exc
        except asyncio.CancelledError:
            turn.stop()
            self._finish(channel, None)
            raise
        except Exception as exc:
            _log.exception("nbchat: the reply failed unexpectedly")
            error = _unexpected(exc)
        self._finish(channel, error)
        return error

    def _run_blocking(self, turn: Turn, prompt: str | None) -> NbchatError | None:
        """Stream ``turn`` from this thread; the provider runs on nbchat's worker loop, and
        the channel's timers (trailing flushes) run here between events."""
        scheduler = PollingScheduler()
        channel = self._open(turn, scheduler, prompt)
        error: NbchatError | None = None
        try:
            for event in _worker.iterate(turn.__aiter__, cancel=turn.stop, timers=scheduler):
                _feed(channel, event)
        except NbchatError as exc:
            error = exc
        except Exception as exc:
            _log.exception("nbchat: the reply failed unexpectedly")
            error = _unexpected(exc)
        except BaseException:
            # A kernel interrupt, wherever it lands once the turn is shown: the bridge has
            # stopped the reply and waited for it to be recorded as stopped; show that.
            self._finish(channel, None)
            raise
        self._finish(channel, error)
        return error

    # -----------------------------------------------------------------------------------

    def _send_custom(self, msg: ServerMessage) -> None:
        self.send(dict(msg))

    def _redacted(self, exc: NbchatError) -> tuple[str, str]:
        # Providers keep keys out of their errors; this is the second lock on that door.
        key = getattr(self._conversation.provider, "_api_key", None)
        return redact(exc.message, key), redact(exc.hint, key)


_BUG_HINT = "This is a bug in nbchat; the conversation so far is kept."


def _feed(channel: Channel, event: StreamEvent) -> None:
    if isinstance(event, TextDelta):
        channel.add_text(event.text)
    elif isinstance(event, ReasoningDelta):
        channel.add_reasoning(event.text)


def _one_line(exc: NbchatError) -> NbchatError:
    """Have IPython show ``exc`` as its one line (message — hint), not a traceback: the
    widget already shows it, and nothing in the traceback helps with a server's answer."""
    line = f"{type(exc).__name__}: {exc}"
    exc._render_traceback_ = lambda: [line]  # type: ignore[attr-defined]
    return exc


def _unexpected(exc: BaseException) -> NbchatError:
    return NbchatError(f"The reply failed: {type(exc).__name__}.", hint=_BUG_HINT)


def _log_task_failure(task: asyncio.Task[NbchatError | None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.error("nbchat: a turn task failed", exc_info=task.exception())


def _history_during(history: list[Message], turn: Turn, prompt: str | None) -> list[Message]:
    """What ``messages`` shows while ``turn`` streams: the history as the turn sees it.

    The reply being produced is drawn live, so a reply being regenerated or continued
    leaves the list; an edited prompt replaces the last one; a new prompt is added (with
    the id it will keep, so the view does not redraw it when the turn ends).
    """
    shown = [m for m in history if m["id"] != turn.id]
    if turn.action in ("regenerate", "resume") and shown and shown[-1]["role"] == "assistant":
        if len(shown) == len(history):  # the turn has a new id: drop the reply it redoes
            shown = shown[:-1]
    elif turn.action == "edit":
        users = [i for i, m in enumerate(shown) if m["role"] == "user"]
        if users:
            shown = shown[: users[-1]]
    if turn.action in ("prompt", "edit"):
        user = turn.user_message
        if user is None and prompt is not None:
            user = Message(id=f"pending-{next(_pending_ids)}", role="user", content=prompt)
        if user is not None:
            shown.append(user)
    return shown


_pending_ids = itertools.count(1)


def _text_field(content: dict[str, object]) -> str:
    text = content.get("text")
    if not isinstance(text, str):
        raise InvalidRequest("The message has no text.", hint="Type something, then send it.")
    return text
