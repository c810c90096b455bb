"""Conversation and Turn: the history, and one reply being produced.

Semantics:

- ``Conversation.prompt(text)`` validates the input (empty or whitespace-only text, NUL or
  lone surrogates, unknown options) and raises :class:`~nbchat.errors.InvalidRequest` or
  :class:`~nbchat.errors.ConversationBusy` *before* any request. It returns a lazy
  :class:`Turn`; nothing is sent until the turn is iterated. A turn made but never
  iterated records nothing; if the conversation changed before it starts, starting it
  raises :class:`~nbchat.errors.InvalidRequest` (ask again).
- A turn streams :data:`~nbchat.providers.base.StreamEvent` values. Iterating a finished
  turn replays its events. Sync iteration (``for``) runs the async provider on a private
  loop in a worker thread, so it works inside a running kernel; async iteration runs on
  the caller's loop. Either way the provider runs in a task of its own, so :meth:`Turn.stop`
  can end it from any thread without touching the consumer.
- When a turn ends — done, stopped, or failed — the conversation records the user message
  (for ``prompt``/``edit``) and the assistant message with its ``meta`` (model, provider
  label, prompt_tokens, tokens, tokens_per_s, elapsed_s, ttft_s, finish_reason, stopped;
  ``error`` + ``hint``). Nothing is lost: a failed turn keeps the partial text, then the
  error is raised from the iteration. A stopped turn ends the iteration normally with
  ``status == "stopped"``.
- Leaving the iteration early (``break``, an exception in the loop body) stops the turn. A
  ``KeyboardInterrupt`` (kernel interrupt) during sync iteration stops the turn, records the
  partial reply as stopped, and then propagates so the cell still ends.
- ``Turn.stop()`` is thread-safe and closes the HTTP response (the server stops). A turn
  stopped before its first step sends nothing; iterated anyway, it ends at once and is
  recorded like any stopped turn (the prompt, an empty reply marked stopped), so a Stop
  racing a Send never loses what the user typed.
- ``regenerate()`` replaces the last assistant reply (retrying a failed one); ``resume()``
  continues the last assistant reply (stopped or cut off) by resending it as the final
  assistant message so the model carries on, appending to the same message; ``edit(text)``
  replaces the last user message and redoes the reply after it.

  How servers treat a trailing assistant message: Ollama's native ``/api/chat`` continues
  it (its templates leave the last assistant turn open). OpenAI-compatible servers vary:
  recent llama.cpp ``llama-server`` builds treat it as a prefill, vLLM continues it only
  with ``continue_final_message``, and others (OpenAI's own API among them) answer with a
  new reply. The new text is appended either way; a server that starts over leaves a seam
  the user can see, and regenerate.
- Failed or stopped exchanges with no text (e.g. server down) stay in ``messages`` for the
  user to see but are not sent to the model on later turns.
- Options: per-turn > conversation > :func:`nbchat.configure` defaults; the provider
  validates them before any request. ``None`` for an option drops it for that turn.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import secrets
import threading
import time
import typing
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Mapping

from . import _sync, config, transcript
from ._protocol import Message, MessageMeta
from .errors import ConversationBusy, InvalidRequest, NbchatError, StreamInterrupted, redact
from .providers.base import (
    ChatRequest,
    Finish,
    Provider,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    Timeouts,
    ToolCall,
    Usage,
    WireMessage,
)

if typing.TYPE_CHECKING:
    from .config import Resolution

__all__ = ["Conversation", "Turn", "TurnAction", "TurnStatus"]

TurnStatus = typing.Literal["pending", "streaming", "done", "stopped", "error"]
TurnAction = typing.Literal["prompt", "regenerate", "resume", "edit"]


def _new_id(taken: Collection[str] = ()) -> str:
    """A message id not in ``taken``. Short, because a reply's id travels in each of its
    deltas; it only has to be unique within one conversation."""
    while True:
        candidate = secrets.token_hex(4)
        if candidate not in taken:
            return candidate


class Turn:
    """One reply being produced; iterate it to stream, ``result()`` to wait for it."""

    id: str  # the id the assistant message has in ``Conversation.messages``
    action: TurnAction
    model: str  # "provider:name"
    status: TurnStatus
    usage: Usage | None
    finish_reason: str | None
    error: NbchatError | None
    tool_calls: list[ToolCall]  # carried, not executed

    def __init__(
        self,
        conversation: Conversation,
        *,
        action: TurnAction,
        wire: list[WireMessage],
        options: dict[str, object],
        replace_from: int,
        user_message: Message | None,
        base: Message | None = None,
    ) -> None:
        if base is not None:
            self.id = base["id"]
        else:
            taken = {m["id"] for m in conversation._messages}
            if user_message is not None:
                taken.add(user_message["id"])
            self.id = _new_id(taken)
        self.action = action
        self.model = conversation.model
        self.status = "pending"
        self.usage = None
        self.finish_reason = None
        self.error = None
        self.tool_calls = []
        self._conversation = conversation
        self._provider = conversation.provider
        self._label = conversation.resolution.label
        self._request = ChatRequest(
            model=conversation.resolution.model, messages=wire, options=options
        )
        self._replace_from = replace_from
        self._user_message = user_message
        self._base_meta = copy.deepcopy(base.get("meta", MessageMeta())) if base else MessageMeta()
        self._parts: list[str] = [base["content"]] if base is not None else []
        self._reasoning_parts: list[str] = [base.get("reasoning", "")] if base is not None else []
        self._version = conversation._version
        self._events: list[StreamEvent] = []
        self._deltas = 0
        self._t_start: float | None = None
        self._t_first: float | None = None
        self._t_last: float | None = None
        self._lock = threading.Lock()
        self._task: asyncio.Task[typing.Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        self._cancel_sent = False
        self._closing = False
        self._finished = False
        self._owner: object | None = None

    # -- state --------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The reply so far (a resumed reply includes its earlier part)."""
        return _joined(self._parts)

    @property
    def reasoning(self) -> str:
        """The model's reasoning so far, apart from the text."""
        return _joined(self._reasoning_parts)

    @property
    def user_message(self) -> Message | None:
        """The user message this turn answers, for ``prompt`` and ``edit`` (else ``None``)."""
        return copy.deepcopy(self._user_message)

    @property
    def request(self) -> ChatRequest:
        """What is (or will be) sent: model name, wire messages, validated options."""
        return self._request

    @property
    def message(self) -> Message:
        """The assistant message: as recorded, or as it stands while streaming."""
        message: Message = {"id": self.id, "role": "assistant", "content": self.text}
        if self.reasoning:
            message["reasoning"] = self.reasoning
        message["meta"] = self._meta()
        return message

    def _meta(self) -> MessageMeta:
        old = self._base_meta
        meta: MessageMeta = {"model": self.model, "provider": self._label}
        usage = self.usage
        if usage is not None and usage.prompt_tokens is not None:
            meta["prompt_tokens"] = usage.prompt_tokens
        elif "prompt_tokens" in old:
            meta["prompt_tokens"] = old["prompt_tokens"]
        counted = self._deltas
        if usage is not None and usage.completion_tokens is not None:
            counted = usage.completion_tokens
        meta["tokens"] = old.get("tokens", 0) + counted
        rate = self._rate()
        if rate is not None:
            meta["tokens_per_s"] = round(rate, 2)
        elif "tokens_per_s" in old:
            meta["tokens_per_s"] = old["tokens_per_s"]
        start = self._t_start
        if start is not None:
            end = (self._t_last or start) if self._finished else time.monotonic()
            meta["elapsed_s"] = round(old.get("elapsed_s", 0.0) + end - start, 3)
        elif "elapsed_s" in old:
            meta["elapsed_s"] = old["elapsed_s"]
        if "ttft_s" in old:
            meta["ttft_s"] = old["ttft_s"]  # the message's first token came in the first run
        elif start is not None and self._t_first is not None:
            meta["ttft_s"] = round(self._t_first - start, 3)
        if self._finished:
            meta["finish_reason"] = self.finish_reason if self.status == "done" else None
            meta["stopped"] = self.status == "stopped"
            if self.error is not None:
                meta["error"] = self.error.message
                if self.error.hint:
                    meta["hint"] = self.error.hint
        return meta

    def _rate(self) -> float | None:
        usage = self.usage
        if usage is not None and usage.tokens_per_second:
            return usage.tokens_per_second
        if usage is not None and usage.duration_s and usage.completion_tokens:
            return usage.completion_tokens / usage.duration_s
        first, last = self._t_first, self._t_last
        if first is not None and last is not None and last > first and self._deltas >= 2:
            # Deltas after the first, over the time they took: prompt processing excluded.
            return (self._deltas - 1) / (last - first)
        return None

    # -- control ------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the reply (thread-safe); the partial text is kept, marked stopped.

        A turn not started yet becomes ``stopped`` and sends nothing. If it is iterated
        after all, it ends at once and is recorded (the prompt, and an empty reply marked
        stopped): a Stop that lands before a turn's first step must not lose the prompt.
        A turn never iterated records nothing.
        """
        with self._lock:
            if self._finished:
                return
            self._stop_requested = True
            if self.status == "pending":
                self.status = "stopped"
                return
            loop = self._loop
            if loop is None or self._cancel_sent:
                return  # _run sees _stop_requested when it starts
            self._cancel_sent = True
        loop.call_soon_threadsafe(self._cancel_now)

    def _cancel_now(self) -> None:
        # On the turn's loop, so the task is suspended right now: inside the provider
        # while streaming, or in cleanup — which a cancel must not cut short.
        task = self._task
        if task is not None and not self._closing and not task.done():
            task.cancel()

    def _claim(self, owner: object) -> bool:
        """Start streaming for ``owner``: ``False`` means finished already (replay)."""
        with self._lock:
            if self._finished:
                return False
            if self._owner is not None:
                raise InvalidRequest(
                    "This turn is already being iterated.",
                    hint="Iterate a turn once; after it ends, iterating it again replays it.",
                )
            self._conversation._start(self)
            self._owner, self.status = owner, "streaming"
            return True

    # -- iteration ----------------------------------------------------------------------

    def __iter__(self) -> Iterator[StreamEvent]:
        owner = object()
        try:
            if self._claim(owner):
                yield from _sync.iterate(self._run, cancel=self.stop)
            else:
                yield from self._replay()
        finally:
            # Even an interrupt between the claim and the stream must not leave it open.
            if self._owner is owner:
                self._finish_if_unfinished()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._aiterate()

    async def _aiterate(self) -> AsyncIterator[StreamEvent]:
        if not self._claim(object()):
            for event in self._replay():
                yield event
            return
        items: collections.deque[StreamEvent | _sync.End] = collections.deque()
        wake = asyncio.Event()

        def put(item: StreamEvent | _sync.End) -> None:
            items.append(item)
            wake.set()

        # The provider runs in its own task so that stop() can cancel it without
        # cancelling the consumer's task (which may be doing anything between events).
        task = asyncio.get_running_loop().create_task(_sync.pump(self._run, put))
        try:
            while True:
                while items:
                    item = items.popleft()
                    if isinstance(item, _sync.End):
                        if item.error is not None:
                            raise item.error
                        return
                    yield item
                wake.clear()
                await wake.wait()
        finally:
            if not task.done():
                self.stop()
                await asyncio.wait([task])
            self._finish_if_unfinished()

    def _replay(self) -> Iterator[StreamEvent]:
        yield from self._events
        if self.error is not None:
            raise self.error

    def result(self) -> str:
        """Run to the end (blocking) and return the text; raise if the turn failed."""
        for _ in self:
            pass
        return self.text

    async def aresult(self) -> str:
        """Run to the end and return the text; raise if the turn failed."""
        async for _ in self:
            pass
        return self.text

    async def _run(self) -> AsyncIterator[StreamEvent]:
        task = asyncio.current_task()
        with self._lock:
            self._task = task
            self._loop = asyncio.get_running_loop()
            stop_first = self._stop_requested
        status: TurnStatus = "done"
        error: NbchatError | None = None
        stream: AsyncIterator[StreamEvent] | None = None
        self._t_start = time.monotonic()
        try:
            if stop_first:
                raise asyncio.CancelledError
            stream = self._provider.astream(self._request)
            async for event in stream:
                self._absorb(event)
                yield event
            if self.finish_reason is None:
                raise StreamInterrupted(
                    "The reply ended without the server saying it was complete.",
                    provider=self._provider.name,
                    model=self._request.model,
                )
        except asyncio.CancelledError:
            status = "stopped"
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()  # handled: the stop is the outcome, not an error
        except NbchatError as exc:
            status, error = "error", exc
        except Exception as exc:  # a bug below us: still keep the partial, then raise it
            status = "error"
            error = NbchatError(f"{type(exc).__name__}: {exc}", hint="This looks like a bug.")
            error.__cause__ = exc
        finally:
            self._closing = True
            try:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()  # closes the HTTP response: the server stops
            finally:
                if self._t_last is None:
                    self._t_last = time.monotonic()
                if error is not None:
                    self._scrub(error)
                self._finish(status, error)
        if error is not None:
            raise error

    def _absorb(self, event: StreamEvent) -> None:
        now = time.monotonic()
        self._events.append(event)
        if isinstance(event, TextDelta):
            self._parts.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self._reasoning_parts.append(event.text)
        elif isinstance(event, Usage):
            old = self.usage
            self.usage = event if old is None else _merge_usage(old, event)
            return
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
            self._t_last = now
            return
        elif isinstance(event, ToolCall):
            self.tool_calls.append(event)
            return
        self._deltas += 1
        if self._t_first is None:
            self._t_first = now
        self._t_last = now

    def _scrub(self, error: NbchatError) -> None:
        # Providers redact already; this keeps a key out even if one slipped through.
        key = self._provider._api_key
        error.message = redact(error.message, key)
        error.hint = redact(error.hint, key)
        error.args = (error.message,)
        error.partial = self.text

    def _finish(self, status: TurnStatus, error: NbchatError | None) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self.status = status
            self.error = error
            self._conversation._commit(self)

    def _finish_if_unfinished(self) -> None:
        # The task was cancelled before _run began (or its cleanup outlived the wait).
        if not self._finished:
            self._finish("stopped", None)

    def __repr__(self) -> str:
        return f"<Turn {self.action} {self.model} {self.status}: {len(self.text)} chars>"


def _joined(parts: list[str]) -> str:
    # Appending a piece per token is O(1); joining happens only when someone reads.
    if len(parts) > 1:
        parts[:] = ["".join(parts)]
    return parts[0] if parts else ""


def _merge_usage(old: Usage, new: Usage) -> Usage:
    def pick(a: typing.Any, b: typing.Any) -> typing.Any:
        return b if b is not None else a

    return Usage(
        prompt_tokens=pick(old.prompt_tokens, new.prompt_tokens),
        completion_tokens=pick(old.completion_tokens, new.completion_tokens),
        tokens_per_second=pick(old.tokens_per_second, new.tokens_per_second),
        duration_s=pick(old.duration_s, new.duration_s),
    )


class Conversation:
    """A history of messages with one model; runs turns one at a time.

    >>> conversation = Conversation("ollama:llama3.2", system="Be brief.")
    >>> for event in conversation.prompt("What is a closure?"): ...
    >>> conversation.messages[-1]["content"]
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
        self.resolution = config.resolve(model, base_url, api_key)
        self.provider = self.resolution.create_provider(headers=headers, timeouts=timeouts)
        self.model = self.resolution.spec
        self.options = self.provider.check_options(options)
        loaded, loaded_system = _check_messages(messages or ())
        given = system if system is not None else loaded_system
        if given is None:
            given = config.settings().system
        self.system = _check_text("system prompt", given, allow_empty=True) if given else None
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
        """Ask ``text``; returns a lazy :class:`Turn` (iterate it to stream)."""
        content = _check_text("message", text)
        with self._lock:
            self._check_idle()
            taken = {m["id"] for m in self._messages}
            user: Message = {"id": _new_id(taken), "role": "user", "content": content}
            wire = [*self._wire(self._messages), _wire_message(user)]
            return Turn(
                self,
                action="prompt",
                wire=wire,
                options=self._turn_options(options),
                replace_from=len(self._messages),
                user_message=user,
            )

    def regenerate(self, **options: object) -> Turn:
        """Redo the last reply (it is replaced when the new one ends)."""
        with self._lock:
            self._check_idle()
            history = self._messages
            if not history:
                raise InvalidRequest(
                    "There is no reply to regenerate.", hint="Ask something first."
                )
            cut = len(history) - 1 if history[-1]["role"] == "assistant" else len(history)
            wire = self._wire(history[:cut])
            _check_has_question(wire)
            return Turn(
                self,
                action="regenerate",
                wire=wire,
                options=self._turn_options(options),
                replace_from=cut,
                user_message=None,
            )

    def resume(self, **options: object) -> Turn:
        """Continue the last reply (after a stop or a cut-off), appending to it."""
        with self._lock:
            self._check_idle()
            history = self._messages
            if not history or history[-1]["role"] != "assistant":
                raise InvalidRequest(
                    "There is no reply to continue.", hint="Ask something, or regenerate."
                )
            last = history[-1]
            wire = self._wire(history[:-1])
            _check_has_question(wire)
            if last["content"]:
                wire.append({"role": "assistant", "content": last["content"]})
            return Turn(
                self,
                action="resume",
                wire=wire,
                options=self._turn_options(options),
                replace_from=len(history) - 1,
                user_message=None,
                base=copy.deepcopy(last),
            )

    def edit(self, text: str, **options: object) -> Turn:
        """Replace the last user message with ``text`` and redo the reply after it."""
        content = _check_text("message", text)
        with self._lock:
            self._check_idle()
            history = self._messages
            users = [i for i, m in enumerate(history) if m["role"] == "user"]
            if not users:
                raise InvalidRequest("There is no message to edit.", hint="Ask something first.")
            cut = users[-1]
            taken = {m["id"] for m in history}
            user: Message = {"id": _new_id(taken), "role": "user", "content": content}
            wire = [*self._wire(history[:cut]), _wire_message(user)]
            return Turn(
                self,
                action="edit",
                wire=wire,
                options=self._turn_options(options),
                replace_from=cut,
                user_message=user,
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
        merged = {**config.default_options(self.provider), **self.options, **options}
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


def _wire_message(message: Message) -> WireMessage:
    return {"role": message["role"], "content": message["content"]}


def _check_has_question(wire: list[WireMessage]) -> None:
    if not any(m["role"] == "user" for m in wire):
        raise InvalidRequest("There is no question to answer.", hint="Ask something first.")


def _check_text(what: str, text: object, *, allow_empty: bool = False) -> str:
    if not isinstance(text, str):
        raise InvalidRequest(f"The {what} must be a string, not {type(text).__name__}.")
    if not allow_empty and not text.strip():
        raise InvalidRequest(f"The {what} is empty.", hint="Type something to send.")
    if "\x00" in text:
        raise InvalidRequest(
            f"The {what} contains a NUL character.", hint="Remove the \\x00 characters."
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(
            f"The {what} contains invalid Unicode (a lone surrogate).",
            hint="Decode the text properly, e.g. bytes.decode('utf-8', 'replace').",
        ) from None
    return text


def _check_messages(messages: Iterable[Message]) -> tuple[list[Message], str | None]:
    """Validated copies of given messages; a system message becomes the system prompt."""
    checked: list[Message] = []
    system: str | None = None
    given_all = list(messages)
    taken = {str(m.get("id")) for m in given_all if isinstance(m, Mapping) and m.get("id")}
    for index, given in enumerate(given_all):
        where = f"messages[{index}]"
        if not isinstance(given, Mapping):
            raise InvalidRequest(
                f"{where} is not a dict.", hint="Use {'role': ..., 'content': ...}."
            )
        role = given.get("role")
        content = given.get("content")
        if role not in ("system", "user", "assistant"):
            raise InvalidRequest(
                f"{where} has role {role!r}.", hint="Use 'user', 'assistant' or 'system'."
            )
        content = _check_text(f"content of {where}", content, allow_empty=role != "user")
        if role == "system":
            system = content if system is None else f"{system}\n\n{content}"
            continue
        message: Message = {
            "id": str(given.get("id") or _new_id(taken)),
            "role": role,
            "content": content,
        }
        taken.add(message["id"])
        reasoning = given.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            message["reasoning"] = reasoning
        meta = given.get("meta")
        if isinstance(meta, Mapping):
            message["meta"] = copy.deepcopy(dict(meta))  # type: ignore[typeddict-item]
        checked.append(message)
    return checked, system
