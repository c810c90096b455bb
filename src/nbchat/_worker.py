"""Bridges to the async core: from blocking code (:func:`iterate`, :func:`run`) through one
private event loop in one daemon worker thread, and from async code (:func:`aiterate`).

Blocking callers (``for event in turn``, ``ask()``, the magics, model detection) must work
inside a running Jupyter kernel, whose thread already runs an event loop we must never touch
(``asyncio.run`` and ``run_until_complete`` refuse to nest). So the async side runs on a loop
of our own in a worker thread, started on first use and shared by every caller, and its
results are pumped back to the caller's thread.

Items cross threads through a C ``SimpleQueue``: the worker's ``put`` wakes the caller only
if it is asleep, and the caller takes whatever is ready without sleeping again. A
``KeyboardInterrupt`` (a kernel interrupt) in the caller cancels the async side, waits for
its cleanup (so an HTTP response really is closed) and then propagates.

The loop itself — started on first use, wound down at exit — is :mod:`._worker_loop`.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextvars
import queue
import time
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Generator

from ._worker_loop import CLEANUP_WAIT, check_not_on_worker, worker_loop

__all__ = [
    "CLEANUP_WAIT",
    "POLL",
    "Timers",
    "aiterate",
    "iterate",
    "on_consumer",
    "run",
    "worker_loop",
]

T = typing.TypeVar("T")

#: A blocked caller wakes this often to notice a signal that arrived just before it slept.
POLL = 0.25


class Timers(typing.Protocol):
    """Timed work a blocking caller runs on its own thread between items (the widget's
    channel flushes pending text this way); :class:`~nbchat.widget._scheduler.PollingScheduler`
    is one."""

    def timeout(self) -> float | None:
        """Seconds until the next timer is due (0: one is), ``None`` if none is set."""
        ...

    def run_due(self) -> None:
        """Run the timers that are due."""
        ...


class _End:
    """Marks the end of a pumped stream; ``error`` is what the async side raised, if anything."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class Interrupted(Exception):
    """A function run by :func:`on_consumer` was interrupted (a kernel interrupt) there."""


class _Call:
    """A function the async side wants run on the consumer's thread, and its result."""

    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[], typing.Any]) -> None:
        self.fn = fn
        self.future: concurrent.futures.Future[typing.Any] = concurrent.futures.Future()

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return  # the async side stopped waiting
        try:
            result = self.fn()
        except KeyboardInterrupt:
            # Not a value for an asyncio task to raise: the async side sees Interrupted,
            # and the interrupt goes on up in this thread (which stops the stream).
            self.future.set_exception(Interrupted("interrupted"))
            raise
        except BaseException as exc:
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


#: How the async side reaches its blocking consumer's thread (set by :func:`iterate`).
_CONSUMER: contextvars.ContextVar[Callable[[_Call], None] | None] = contextvars.ContextVar(
    "nbchat_consumer", default=None
)


async def on_consumer(fn: Callable[[], T]) -> T:
    """Run ``fn`` on the thread that consumes this stream, and return its result.

    A blocking consumer (:func:`iterate`: ``chat.ask``, ``for event in turn``) runs it
    between items, on its own thread — the kernel's main thread in a notebook, where
    user code (a tool, ``input()``, matplotlib) expects to run. Elsewhere (an async
    consumer on its own loop) ``fn`` runs right here.
    """
    put = _CONSUMER.get()
    if put is None:
        return fn()
    call = _Call(fn)
    put(call)
    result: T = await asyncio.wrap_future(call.future)
    return result


async def _pump(
    factory: Callable[[], AsyncIterator[T]],
    put: Callable[[T | _End], None],
    consumer: Callable[[_Call], None] | None = None,
) -> None:
    """Drive ``factory()`` to the end, handing each item to ``put``, then an :class:`_End`.

    Cancellation ends the stream quietly (``_End()``): the async side has cleaned up by then.
    With ``consumer``, :func:`on_consumer` calls made by the stream go there.
    """
    if consumer is not None:
        _CONSUMER.set(consumer)  # this task's own context, and the tasks it starts
    try:
        source = factory()
        try:
            async for item in source:
                put(item)
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()
    except asyncio.CancelledError:
        put(_End())
    except Exception as exc:
        put(_End(exc))
    else:
        put(_End())


class _Done:
    """A one-shot "finished" flag whose ``wait`` a KeyboardInterrupt cannot leave half-done.

    (``threading.Event`` waits in a Condition written in Python; an interrupt landing at the
    wrong bytecode there can leave its lock held. ``SimpleQueue`` does it in C.)
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._set = False

    def set(self) -> None:
        self._set = True
        self._queue.put(None)

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        if self._set:
            return True
        try:
            _get(self._queue, timeout)
        except queue.Empty:
            return self._set
        self._queue.put(None)  # pass it on to any other waiter
        return True


def _get(source: queue.SimpleQueue[T], timeout: float | None = None) -> T:
    """``source.get()``, waking every :data:`POLL` seconds so a SIGINT is never lost.

    A signal that lands after Python last checked for one but before the thread blocks
    only sets a flag; nothing looks at it until some bytecode runs. Waking up now and then
    is that bytecode, so a kernel interrupt always gets through.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        wait = POLL if deadline is None else min(POLL, deadline - time.monotonic())
        try:
            return source.get(timeout=max(wait, 0.0))
        except queue.Empty:
            if deadline is not None and time.monotonic() >= deadline:
                raise


class _Job(typing.Generic[T]):
    """A task on the worker loop, with a thread-safe "fully finished" event and cancel."""

    def __init__(self) -> None:
        self.loop = worker_loop()
        self.finished = _Done()
        self.started = False
        self.task: asyncio.Task[T] | None = None

    def start(self, coro: Coroutine[typing.Any, typing.Any, T]) -> None:
        # Separate from __init__ so the caller holds the job before anything can run: an
        # interrupt right after scheduling still finds a job to cancel.
        self.started = True
        self.loop.call_soon_threadsafe(self._start, coro)

    def _start(self, coro: Coroutine[typing.Any, typing.Any, T]) -> None:
        self.task = self.loop.create_task(coro)
        # A done callback fires even for a task cancelled before its first step, which a
        # ``finally`` inside the coroutine would not.
        self.task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[T]) -> None:
        if not task.cancelled():
            task.exception()  # retrieved here, re-raised by result()
        self.finished.set()

    def cancel_and_wait(self) -> None:
        """Cancel the task (callbacks are FIFO, so it exists by then) and await its cleanup."""
        if self.started and not self.finished.is_set():
            self.loop.call_soon_threadsafe(self._cancel)
            self.finished.wait(CLEANUP_WAIT)

    def _cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def result(self) -> T:
        assert self.task is not None
        assert self.task.done()
        return self.task.result()


def iterate(
    factory: Callable[[], AsyncIterator[T]],
    *,
    cancel: Callable[[], None] | None = None,
    timers: Timers | None = None,
) -> Generator[T, None, None]:
    """Iterate ``factory()`` (an async iterator) on the worker loop, from blocking code.

    Items arrive in order; an exception raised by the async side is raised here. Closing
    this generator early (``break``, an exception in the loop body, a ``KeyboardInterrupt``)
    cancels the async side — by calling ``cancel`` (thread-safe) if given, else by
    cancelling its task — and waits up to :data:`CLEANUP_WAIT` seconds for it to finish.
    While it waits for the next item, due ``timers`` run on this thread.
    """
    check_not_on_worker()
    # SimpleQueue is C: a KeyboardInterrupt while blocked in get() leaves it consistent,
    # which a threading.Event (a Condition written in Python) does not guarantee.
    items: queue.SimpleQueue[T | _End | _Call] = queue.SimpleQueue()
    job: _Job[None] = _Job()
    left = False

    def consumer(call: _Call) -> None:
        if left:  # nobody will run it: do not leave the async side waiting
            call.future.set_exception(RuntimeError("nbchat: the caller stopped iterating"))
        else:
            items.put(call)

    try:
        job.start(_pump(factory, items.put, consumer))
        while True:
            try:
                item = items.get_nowait()  # a burst costs one C call per item
            except queue.Empty:
                item = _next(items, timers)  # nothing ready: sleep until something is
            if isinstance(item, _Call):
                item.run()  # user code, on this thread, between items
                continue
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        left = True
        _fail_calls(items)
        if cancel is not None and job.started and not job.finished.is_set():
            cancel()
            job.finished.wait(CLEANUP_WAIT)
        job.cancel_and_wait()


def _fail_calls(items: queue.SimpleQueue[typing.Any]) -> None:
    """Calls queued for a consumer that has left: fail them, so nothing waits on them."""
    while True:
        try:
            item = items.get_nowait()
        except queue.Empty:
            return
        if isinstance(item, _Call) and item.future.set_running_or_notify_cancel():
            item.future.set_exception(RuntimeError("nbchat: the caller stopped iterating"))


def _next(items: queue.SimpleQueue[T], timers: Timers | None) -> T:
    """The next item, running ``timers`` whenever one falls due first."""
    while True:
        due = None if timers is None else timers.timeout()
        try:
            return _get(items, due)
        except queue.Empty:
            assert timers is not None  # without a deadline, _get waits for an item
            timers.run_due()


def run(factory: Callable[[], Coroutine[typing.Any, typing.Any, T]]) -> T:
    """Run the coroutine ``factory()`` on the worker loop and return its result (blocking).

    A ``KeyboardInterrupt`` while waiting cancels the coroutine, waits for it to clean up,
    and propagates.
    """
    check_not_on_worker()
    job: _Job[T] = _Job()
    try:
        job.start(factory())
        job.finished.wait()
    finally:
        job.cancel_and_wait()
    return job.result()


async def aiterate(
    factory: Callable[[], AsyncIterator[T]], *, cancel: Callable[[], None]
) -> AsyncGenerator[T, None]:
    """Iterate ``factory()`` on the running loop, in a task of its own.

    ``cancel`` (thread-safe, e.g. a turn's stop) then ends the source without cancelling
    the consumer's task, which may be doing anything between items. Leaving early calls
    ``cancel`` and waits for the source to clean up. Items and errors as :func:`iterate`.
    """
    items: collections.deque[T | _End] = collections.deque()
    wake = asyncio.Event()

    def put(item: T | _End) -> None:
        items.append(item)
        wake.set()

    task = asyncio.get_running_loop().create_task(_pump(factory, put))
    try:
        while True:
            while items:
                item = items.popleft()
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
            wake.clear()
            await wake.wait()
    finally:
        if not task.done():
            cancel()
            await asyncio.wait([task])
