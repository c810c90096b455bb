"""What the reliability suite drives nbchat with: a recording comm, a raw-body emulator, a kernel.

- :class:`RecordingComm` stands in for the kernel's comm: every message the widget sends goes
  through JSON (as on the wire) into a log, and :func:`from_ui` delivers what the front end
  would send. The UI path of the widget then runs as in a kernel: a task on the running loop.
- :class:`RawServer` is the project's emulator plus one knob it lacks: a chat request can be
  answered with exact bytes at an exact pace (binary noise, a truncated line, a byte trickle),
  from a queue; anything else is the emulator's ordinary answer.
- :class:`KernelSession` is a real IPython kernel driven over jupyter_client, with every iopub
  message kept (by a reader thread) so comm traffic can be counted while cells run.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import os
import pathlib
import queue
import threading
import time
import typing
from collections.abc import Callable, Iterable, Sequence

from tests.comms import RecordingComm, custom, from_ui, wire
from tests.ports import free_port
from tests.servers.plan import Plan
from tests.servers.server import EmulatorServer, RecordedRequest
from tests.servers.wire import Request, Responder

if typing.TYPE_CHECKING:
    from nbchat.widget import Chat

__all__ = [
    "NBCHAT_ENV",
    "WAIT",
    "KernelSession",
    "Msg",
    "RawReply",
    "RawServer",
    "RecordingComm",
    "assert_one_line",
    "custom",
    "free_port",
    "from_ui",
    "kernel_env",
    "plan_bytes",
    "submit_and_wait",
    "trickle",
    "until",
    "widget_custom",
    "wire",
]

WAIT = 20.0  # seconds any single condition may take on a loaded 2-core machine

#: Every variable through which nbchat could find a model server or a key.
NBCHAT_ENV = (
    "NBCHAT_MODEL",
    "NBCHAT_BASE_URL",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


def kernel_env() -> dict[str, str]:
    """The environment of a test kernel: nothing that reaches a real server or holds a key."""
    env = {k: v for k, v in os.environ.items() if k not in NBCHAT_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    return env


# ---------------------------------------------------------------------------------------
# The widget's comm, as the front end sees it.


async def until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Let the running loop work until ``condition()`` holds (polled), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def _ends(chat: Chat) -> list[dict[str, typing.Any]]:
    return [m for m in custom(chat) if m["kind"] in ("done", "error") and m.get("id")]


async def submit_and_wait(chat: Chat, text: str, kind: str = "submit") -> dict[str, typing.Any]:
    """Send a command from the UI and wait for the reply it starts to end; return the
    ``done`` or ``error`` message that ended it."""
    before = len(_ends(chat))
    if kind in ("submit", "edit"):
        from_ui(chat, kind=kind, text=text)
    else:
        from_ui(chat, kind=kind)
    await until(lambda: len(_ends(chat)) > before, f"the reply to {kind!r} to end")
    await until(lambda: chat.status != "streaming", "the chat to leave 'streaming'")
    return _ends(chat)[-1]


def assert_one_line(message: str, hint: str = "", *, limit: int = 400) -> None:
    """What the UI shows for an error: one short line each for message and hint."""
    for text in (message, hint):
        assert not {"\n", "\r"} & set(text), f"not one line: {text!r}"
        assert "Traceback" not in text, text
        assert len(text) <= limit, f"{len(text)} characters: {text[:120]!r}…"
    assert message.strip(), "an empty error message"


# ---------------------------------------------------------------------------------------
# An emulator that can also answer with exact bytes.


@dataclasses.dataclass
class RawReply:
    """An answer as bytes: ``chunks`` are ``(delay_before, data)``, each its own HTTP chunk.

    ``end=False`` drops the connection after the last chunk instead of ending the body.
    """

    chunks: Sequence[tuple[float, bytes]]
    status: int = 200
    media: str = "application/x-ndjson"
    end: bool = True


def plan_bytes(plan: Plan) -> bytes:
    """The body an emulator plan would send, as one byte string."""
    return plan.body if plan.body is not None else b"".join(f.data for f in plan.frames)


def trickle(data: bytes, *, every: float, step: int = 1) -> list[tuple[float, bytes]]:
    """``data`` cut into ``step``-byte chunks, one every ``every`` seconds."""
    return [(every, data[i : i + step]) for i in range(0, len(data), step)]


class RawServer(EmulatorServer):
    """The emulator, with a queue of :class:`RawReply` answers for chat requests."""

    def __init__(self, flavour: str = "ollama", **kwargs: typing.Any) -> None:
        super().__init__(flavour, **kwargs)
        self.raw: collections.deque[RawReply] = collections.deque()

    def enqueue_raw(self, *replies: RawReply) -> None:
        self.raw.extend(replies)

    async def _handle(self, request: Request, responder: Responder) -> None:
        is_chat = request.path.endswith(("/chat", "/chat/completions"))
        if not (is_chat and self.raw):
            await super()._handle(request, responder)
            return
        raw = self.raw.popleft()
        record = RecordedRequest(request.method, request.path, request.headers, request.body)
        with self._changed:
            self.requests.append(record)
            self._changed.notify_all()
        try:
            await responder.head(raw.status, {"Content-Type": raw.media})
            for delay, data in raw.chunks:
                if delay and await responder.conn.wait_gone(delay):
                    return
                await responder.chunk(data)
            if raw.end:
                await responder.end()
            else:
                responder.drop()
        finally:
            record.client_left = responder.conn.gone.is_set() and not responder.finished
            with self._changed:
                record.done.set()
                self._changed.notify_all()


# ---------------------------------------------------------------------------------------
# A real kernel.

Msg = dict[str, typing.Any]


class KernelSession:
    """An IPython kernel on jupyter_client; a reader thread keeps every iopub message.

    ``execute`` waits for the cell's reply; ``iopub`` holds what the kernel published, each
    message stamped with ``received`` (monotonic seconds in this process).
    """

    def __init__(self, cwd: pathlib.Path, env: dict[str, str] | None = None) -> None:
        from jupyter_client.manager import KernelManager

        self.cwd = cwd
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.iopub: list[Msg] = []
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, name="iopub-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                # The channel's own sync read: the client's get_iopub_msg would give this
                # thread an event loop of its own that nobody closes.
                msg = self.client.iopub_channel.get_msg(timeout=0.2)
            except queue.Empty:
                continue
            msg["received"] = time.monotonic()
            with self._lock:
                self.iopub.append(msg)
                self._lock.notify_all()

    def stop(self) -> None:
        self._stop.set()
        self._reader.join(5)
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    # -- running code -------------------------------------------------------------------

    def send_execute(self, code: str) -> str:
        return typing.cast(str, self.client.execute(code))

    def reply(self, msg_id: str, timeout: float = 60.0) -> Msg:
        """The shell reply to ``msg_id`` (replies to other requests are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self.client.get_shell_msg(timeout=max(0.05, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def execute(self, code: str, timeout: float = 60.0) -> tuple[Msg, list[Msg]]:
        """Run ``code``: its execute_reply content, and its iopub messages up to idle."""
        msg_id = self.send_execute(code)
        reply = self.reply(msg_id, timeout)
        self.wait(lambda: any(_is_idle(m, msg_id) for m in self.children(msg_id)), timeout)
        return reply["content"], self.children(msg_id)

    def value(self, code: str) -> typing.Any:
        """The JSON value a cell prints (``code`` must print exactly one JSON document)."""
        reply, messages = self.execute(code)
        assert reply["status"] == "ok", reply
        out = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        return json.loads(out)

    def children(self, msg_id: str) -> list[Msg]:
        with self._lock:
            return [m for m in self.iopub if m["parent_header"].get("msg_id") == msg_id]

    def wait(self, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        """Block until ``condition()`` holds (checked at every iopub message)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting on the kernel")
                self._lock.wait(min(left, 0.5))

    # -- comms ----------------------------------------------------------------------------

    def to_widget(self, comm_id: str, content: dict[str, object]) -> None:
        """What a front end sends a widget: a custom message on its comm."""
        data = {"method": "custom", "content": content}
        msg = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.client.shell_channel.send(msg)

    def comm_messages(self, comm_ids: Iterable[str] | None = None) -> list[Msg]:
        wanted = None if comm_ids is None else set(comm_ids)
        with self._lock:
            return [
                m
                for m in self.iopub
                if m["msg_type"] == "comm_msg"
                and (wanted is None or m["content"].get("comm_id") in wanted)
            ]


def _is_idle(msg: Msg, msg_id: str) -> bool:
    return bool(
        msg["msg_type"] == "status"
        and msg["content"]["execution_state"] == "idle"
        and msg["parent_header"].get("msg_id") == msg_id
    )


def widget_custom(msg: Msg) -> dict[str, typing.Any] | None:
    """The custom content of a widget's comm message, if it is one."""
    data = msg["content"].get("data", {})
    content = data.get("content") if data.get("method") == "custom" else None
    return content if isinstance(content, dict) else None
