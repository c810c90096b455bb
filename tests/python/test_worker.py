"""The worker-loop bridge: async iterators driven from blocking code, interrupts included."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator

import pytest
from tests.interrupts import sigint_when
from tests.servers.process import REPO_ROOT

from nbchat import _worker


class Source:
    """An async iterator that yields ``count`` items, then waits forever if ``stall``."""

    def __init__(self, count: int, *, stall: bool = False, fail: Exception | None = None):
        self.count, self.stall, self.fail = count, stall, fail
        self.stalled = threading.Event()
        self.cleaned_up = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    async def __call__(self) -> AsyncIterator[int]:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.current_thread()
        try:
            for i in range(self.count):
                yield i
            if self.fail is not None:
                raise self.fail
            if self.stall:
                self.stalled.set()
                await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # cleanup that needs the loop, like closing a response
            self.cleaned_up.set()


def test_iterate_yields_every_item_in_order_on_the_worker_thread() -> None:
    source = Source(1000)
    assert list(_worker.iterate(source)) == list(range(1000))
    assert source.thread is not threading.current_thread()
    assert source.thread is not None
    assert source.thread.name == "nbchat-worker"
    assert source.cleaned_up.is_set()


def test_iterate_raises_what_the_async_side_raised() -> None:
    source = Source(2, fail=ValueError("broken"))
    got: list[int] = []
    with pytest.raises(ValueError, match="broken"):
        got.extend(_worker.iterate(source))
    assert got == [0, 1]


async def test_iterate_works_inside_a_running_loop_without_touching_it() -> None:
    # A Jupyter kernel's thread runs a loop; blocking code in a cell must still work.
    mine = asyncio.get_running_loop()
    source = Source(3)
    assert list(_worker.iterate(source)) == [0, 1, 2]
    assert source.loop is not None
    assert source.loop is not mine
    assert source.loop is _worker.worker_loop()


def test_leaving_early_cancels_and_waits_for_cleanup() -> None:
    source = Source(2, stall=True)
    items = _worker.iterate(source)
    assert next(items) == 0
    items.close()
    assert source.cleaned_up.is_set()  # close() returned only after the cleanup ran


def test_keyboard_interrupt_cancels_the_async_side_then_propagates() -> None:
    source = Source(3, stall=True)
    got: list[int] = []
    three = threading.Event()

    def consume() -> None:
        for item in _worker.iterate(source):
            got.append(item)
            if len(got) == 3:
                three.set()  # the next wait blocks on the stalled source

    with sigint_when(three), pytest.raises(KeyboardInterrupt):
        consume()
    assert got == [0, 1, 2]
    assert source.stalled.is_set()
    assert source.cleaned_up.is_set()


def test_cancel_callback_is_used_instead_of_cancelling_the_task() -> None:
    source = Source(1, stall=True)
    called = threading.Event()
    loop = _worker.worker_loop()
    tasks: list[asyncio.Task[object]] = []

    async def tracked() -> AsyncIterator[int]:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        async for item in source():
            yield item

    def cancel() -> None:
        called.set()
        loop.call_soon_threadsafe(tasks[0].cancel)

    items = _worker.iterate(tracked, cancel=cancel)
    assert next(items) == 0
    items.close()
    assert called.is_set()
    assert source.cleaned_up.is_set()


def test_due_timers_run_on_the_caller_s_thread_while_it_waits() -> None:
    class Timer:
        def __init__(self) -> None:
            self.deadline: float | None = None
            self.ran: list[tuple[int, int]] = []  # (items seen so far, thread)

        def timeout(self) -> float | None:
            return None if self.deadline is None else max(self.deadline - time.monotonic(), 0)

        def run_due(self) -> None:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.deadline = None
                self.ran.append((len(got), threading.get_ident()))

    async def slow() -> AsyncIterator[int]:
        yield 1
        await asyncio.sleep(0.3)
        yield 2

    timer = Timer()
    got: list[int] = []
    for item in _worker.iterate(slow, timers=timer):
        got.append(item)
        if item == 1:
            timer.deadline = time.monotonic() + 0.05  # due long before item 2 arrives
    assert got == [1, 2]
    assert timer.ran == [(1, threading.get_ident())]


def test_run_returns_the_result_and_raises_errors() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def fail() -> int:
        raise LookupError("nope")

    assert _worker.run(answer) == 42
    with pytest.raises(LookupError, match="nope"):
        _worker.run(fail)


def test_run_interrupted_cancels_the_coroutine() -> None:
    started = threading.Event()
    cleaned = threading.Event()

    async def forever() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    with sigint_when(started), pytest.raises(KeyboardInterrupt):
        _worker.run(forever)
    assert cleaned.is_set()


def test_blocking_from_the_worker_loop_itself_is_refused() -> None:
    async def nested() -> object:
        try:
            _worker.run(lambda: asyncio.sleep(0))
        except RuntimeError as exc:
            return exc
        return None

    error = _worker.run(nested)
    assert isinstance(error, RuntimeError)
    assert "worker loop" in str(error)


# Bug 4 (issue 9): a process that streamed replies, failed ones and one it left unfinished
# printed "Task was destroyed but it is pending!" and "Exception ignored … Event loop is
# closed" at exit: the loop closed with tasks and async generators still alive.
_EXIT_SCRIPT = textwrap.dedent(
    """
    import atexit, sys

    held = {}

    def report():  # registered before nbchat's own exit hook, so it runs after it
        print("held turn:", held["turn"].status, flush=True)

    atexit.register(report)

    import nbchat
    from nbchat import testing
    from nbchat.errors import ServerError
    from tests.servers.server import EmulatorServer

    failing = testing.script(["Hel", "lo", ServerError("boom")])
    try:
        for _ in nbchat.stream("hi", failing.model):
            pass
    except ServerError:
        print("failed as scripted")
    finished = testing.script("Hello there", "Again")
    for _ in range(3):
        nbchat.ask("hi", finished.model)
    with EmulatorServer("ollama") as server:
        for model in ("ollama:llama3.2", "ollama:llama3.2@error=server", "ollama:x@drop_after=3"):
            try:
                nbchat.ask("hi", model, base_url=server.base_url)
            except nbchat.NbchatError:
                pass
        for _ in nbchat.stream("hi", "ollama:llama3.2", base_url=server.base_url):
            break  # left early over HTTP
    # Left suspended at exit: a stream the caller never finished.
    stalled = testing.script(["Hi", testing.STALL])
    conversation = nbchat.Conversation(stalled.model)
    held["turn"] = conversation.prompt("hi")
    held["events"] = iter(held["turn"])
    next(held["events"])
    print("exiting")
    """
)


def test_the_process_exits_cleanly_after_failed_finished_and_unfinished_streams() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", _EXIT_SCRIPT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for symptom in (
        "Task was destroyed",
        "Exception ignored",
        "unclosed",
        "Event loop is closed",
        "ResourceWarning",
        "Traceback",
    ):
        assert symptom not in done.stderr, done.stderr
    assert "failed as scripted" in done.stdout
    assert "exiting" in done.stdout
    # The stream left unfinished was stopped at exit, and recorded as such.
    assert "held turn: stopped" in done.stdout
