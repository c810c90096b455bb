"""Models side by side: one prompt, one column per model, all streaming at once.

Each column is a whole :class:`~nbchat.widget.Chat` (its conversation, turns, delta channel
and per-message state); the :class:`Compare` widget references them (``columns``, as
``IPY_MODEL_<id>``) and draws them with the Chat's own view code, plus one input, a status
line per column and "Continue with this one". So a column's stop, regenerate and continue
are the Chat's own commands, sent to its model, and follow-ups go to every column with its
own history.

The comm stays lean however many models stream: each column's delta channel waits
N / :data:`DELTAS_PER_S` seconds between deltas (``Turns.interval``), so N columns
together send at most 18 deltas a second (one chat: 20). That leaves room in the
30-a-second budget for the two messages each reply sends as it starts and as it ends.
Coalescing all columns into one tick would need a second channel protocol; scaling the
interval keeps the one the front end already checks (offsets, seq, snapshots per reply).
"""

from __future__ import annotations

import logging
import typing
import uuid
from collections.abc import Callable, Sequence

import anywidget
import ipywidgets
import traitlets

from .._ipython import one_line
from ..errors import ConversationBusy, InvalidRequest, NbchatError
from ..session import Conversation, Turn
from . import BUSY_NOTICE, Chat, _display, _runtime
from ._channel import MIN_INTERVAL
from ._compare_text import history_markdown
from ._runtime import Runtime
from ._static import TRANSCRIPT_MIME
from ._together import Job, run_together

__all__ = ["DELTAS_PER_S", "Compare"]

#: Deltas a second of all columns together (measured: 3 x 200 tok/s peaks at 27 messages
#: in a second, with the starts and ends; 20 a second peaks at 30).
DELTAS_PER_S = 18

_log = logging.getLogger(__name__)  # nbchat.widget holds its NullHandler


class _Column(Chat):
    """A Chat that tells its comparison when one of its replies has ended."""

    _owner: Compare | None = None

    def _refresh_static(self) -> None:
        super()._refresh_static()
        if self._owner is not None:
            self._owner._column_ended()


class Compare(anywidget.AnyWidget):
    """Several models answering the same prompts side by side, in one widget.

    ``Compare(["ollama:llama3.2", "openai:gpt-4o-mini"], system="Be brief.")``: each entry
    is a ``"provider:model"`` string, resolved as ``Chat(model)`` resolves it (so each
    provider gets its own server and key), or a :class:`~nbchat.session.Conversation`
    with its own server, key, system prompt and options (``system`` and ``options`` here
    apply to the strings only). A model listed twice is told apart as ``"… #2"``.
    """

    # The Chat's loader and the kernel's one runtime model: the comparison view is part of
    # the same bundle (js/widget.ts tells the two apart by the ``columns`` key).
    _esm = Chat._esm

    runtime = traitlets.Instance(
        Runtime, read_only=True, help="The model carrying the view's code and CSS."
    ).tag(sync=True, **ipywidgets.widget_serialization)

    columns = traitlets.List(
        traitlets.Instance(Chat), read_only=True, help="One Chat per model, in order."
    ).tag(sync=True, **ipywidgets.widget_serialization)
    labels = traitlets.List(
        traitlets.Unicode(), read_only=True, help="The columns' names: the results' keys."
    ).tag(sync=True)
    chosen = traitlets.Int(
        -1,
        read_only=True,
        help="The column continued with ('Continue with this one'), or -1 while comparing.",
    ).tag(sync=True)
    theme = traitlets.Enum(("auto", "light", "dark"), "auto").tag(sync=True)
    height = traitlets.Unicode("420px", help="Largest height of a column, as CSS.").tag(sync=True)
    placeholder = traitlets.Unicode(
        "Ask every model (Enter to send, Shift+Enter for a new line)"
    ).tag(sync=True)

    @traitlets.default("runtime")
    def _default_runtime(self) -> Runtime:
        return _runtime.shared()

    def __init__(
        self,
        models: Sequence[str | Conversation],
        *,
        system: str | None = None,
        theme: str = "auto",
        height: str | int = "420px",
        **options: typing.Any,
    ) -> None:
        if isinstance(models, (str, Conversation)) or not models:
            raise InvalidRequest(
                "Compare takes a list of models.",
                hint='e.g. Compare(["ollama:llama3.2", "ollama:qwen3:4b"])',
            )
        chats: list[Chat] = []
        labels: list[str] = []
        for entry in models:
            if isinstance(entry, Conversation):
                conversation = entry
                label = entry.model
            elif isinstance(entry, str):
                conversation = Conversation(entry, system=system, **options)
                label = entry
            else:
                raise InvalidRequest(
                    f"{entry!r} is not a model.",
                    hint='Each entry is a "provider:model" string or a Conversation.',
                )
            seen = sum(1 for other in labels if other == label or other.startswith(label + " #"))
            labels.append(label if seen == 0 else f"{label} #{seen + 1}")
            chat = _Column(conversation=conversation, height=height, theme=theme)
            chat._owner = self
            chat._turns.interval = max(MIN_INTERVAL, len(models) / DELTAS_PER_S)
            chats.append(chat)
        self._chats = chats
        self._static_id: str | None = None
        if isinstance(height, int) and not isinstance(height, bool):
            height = f"{height}px"
        super().__init__(theme=theme, height=height)
        self.set_trait("columns", chats)
        self.set_trait("labels", labels)
        self.on_msg(self._on_custom)

    # -- public API ------------------------------------------------------------------------

    @property
    def models(self) -> list[str]:
        """The columns' names, in order (the keys of :meth:`ask`'s result)."""
        return list(self.labels)

    def chat(self, model: str) -> Chat:
        """The column of ``model`` as a Chat: its history, its model; display it to go on
        with that model alone (the comparison keeps the column)."""
        return self._chats[self._index(model)]

    def choose(self, model: str) -> Chat:
        """ "Continue with this one" from code: the widget turns into that column's chat,
        in place (the other columns' replies in flight are stopped). Returns the Chat."""
        index = self._index(model)
        for i, chat in enumerate(self._chats):
            if i != index:
                chat.stop()
        self.set_trait("chosen", index)
        return self._chats[index]

    def ask(self, text: str, **options: object) -> dict[str, str | NbchatError]:
        """Send ``text`` to every model at once, stream the replies into the widget, and
        wait for all of them: ``{model: reply}``, where a model that failed maps to its
        :class:`~nbchat.errors.NbchatError` (``partial`` holds what it said before) rather
        than raising, so the others' replies are never lost. A kernel interrupt stops
        every reply (each kept, marked stopped) and propagates."""
        jobs = self._claim(text, options)
        errors = run_together(jobs)
        results: dict[str, str | NbchatError] = {}
        for label, job, error in zip(self.labels, jobs, errors, strict=True):
            if error is None:
                results[label] = job.turn.text
            else:
                if not error.partial:
                    error.partial = job.turn.text
                results[label] = one_line(error)
        return results

    def stop(self) -> None:
        """Stop every reply in flight; each keeps its partial text, marked stopped."""
        for chat in getattr(self, "_chats", ()):
            chat.stop()

    @property
    def conversations(self) -> dict[str, Conversation]:
        """Each column's conversation (shared, not copied)."""
        return {label: chat.conversation for label, chat in self._labelled()}

    def to_markdown(self) -> str:
        """Every column's conversation as Markdown, one after another."""
        return history_markdown(
            [(label, chat.conversation.messages) for label, chat in self._labelled()]
        )

    def close(self) -> None:
        """Stop every reply in flight and close the widget and its columns."""
        self.stop()
        for chat in getattr(self, "_chats", ()):
            chat.close()
        super().close()

    def __repr__(self) -> str:
        return f"<Compare {', '.join(self.labels)}>"

    # -- running turns ---------------------------------------------------------------------

    def _labelled(self) -> list[tuple[str, Chat]]:
        return list(zip(self.labels, self._chats, strict=True))

    def _index(self, model: str) -> int:
        try:
            return self.labels.index(model)
        except ValueError:
            raise InvalidRequest(
                f"No column {model!r} in this comparison.",
                hint=f"One of: {', '.join(self.labels)}.",
            ) from None

    def _check_idle(self) -> None:
        if any(chat._turns.current is not None for chat in self._chats):
            raise ConversationBusy(
                "A reply is still streaming in this comparison.", hint="Press Stop first."
            )

    def _claim(self, text: str, options: dict[str, object]) -> list[Job]:
        """Claim one turn per column (each conversation validates here), or none."""
        self._check_idle()
        jobs: list[Job] = []
        try:
            for chat in self._chats:
                turn = chat._turns.claim(_prompting(chat.conversation, text, options))
                jobs.append(Job(chat, turn, text))
        except BaseException:
            for job in jobs:
                job.turn.stop()
                job.chat._turns.current = None
            raise
        return jobs

    def _submit(self, text: str) -> None:
        """The input's prompt, to every column at once (each a task on the kernel's loop)."""
        self._check_idle()
        for chat in self._chats:
            try:
                chat._turns.start_from_ui(_prompting(chat.conversation, text, {}), prompt=text)
            except NbchatError as exc:
                chat._refuse(exc)  # shown in its own column; the others go on

    def _column_ended(self) -> None:
        if all(chat._turns.current is None for chat in self._chats):
            self._refresh_static()

    # -- display ---------------------------------------------------------------------------

    def _static_bundle(self) -> dict[str, object]:
        from ._static import STATIC_MARKER

        head = f"**nbchat** · comparing {', '.join(f'`{label}`' for label in self.labels)}"
        text = f"{STATIC_MARKER}\n\n{head}\n\n{self.to_markdown()}".rstrip() + "\n"
        return {"text/markdown": text, TRANSCRIPT_MIME: {"version": 1, "part": 1}}

    def _repr_mimebundle_(self, **kwargs: object) -> tuple[dict[str, object], dict[str, object]]:
        bundle, metadata = _display.view_bundle(self)
        bundle["text/markdown"] = self._static_bundle()["text/markdown"]
        return bundle, metadata

    def _ipython_display_(self) -> None:
        _display.publish(*_display.view_bundle(self))
        if self.comm is None:
            return
        if self._static_id is None:
            self._static_id = f"nbchat-compare-{uuid.uuid4().hex}"
        _display.publish(self._static_bundle(), display_id=self._static_id)

    def _refresh_static(self) -> None:
        if self._static_id is not None and self.comm is not None:
            _display.publish(self._static_bundle(), display_id=self._static_id, update=True)

    # -- commands from the front end ---------------------------------------------------

    def _on_custom(self, _widget: object, content: object, _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        try:
            if kind == "submit":
                text = content.get("text")
                if not isinstance(text, str):
                    raise InvalidRequest("The message has no text.")
                self._submit(text)
            elif kind == "stop":
                self.stop()
            elif kind == "choose":
                index = content.get("column")
                if isinstance(index, int) and 0 <= index < len(self._chats):
                    self.choose(self.labels[index])
            else:
                _log.debug("nbchat: ignoring unknown front-end message %r", kind)
        except ConversationBusy:
            self.send({"kind": "notice", "text": BUSY_NOTICE})
        except NbchatError as exc:
            self.send({"kind": "error", "id": None, "message": exc.message, "hint": exc.hint})
        except Exception:
            _log.exception("nbchat: front-end command %r failed", kind)


def _prompting(
    conversation: Conversation, text: str, options: dict[str, object]
) -> Callable[[], Turn]:
    """What makes one column's turn (bound now, not when a loop variable has moved on)."""
    return lambda: conversation.prompt(text, **options)
