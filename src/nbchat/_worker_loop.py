"""nbchat's one private event loop, in one daemon worker thread.

Started on first use and shared by every blocking caller (:mod:`nbchat._worker` bridges
them to it). At exit the loop shuts down the way :func:`asyncio.run` ends: tasks still
pending (a stream a caller never finished) are cancelled and their cleanup awaited, async
generators still alive are closed, and only then is the loop closed. Without that, a
process that streamed replies printed "Task was destroyed but it is pending!" as it
exited. A forked child starts afresh: it has the loop object but not its thread.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading

__all__ = ["CLEANUP_WAIT", "check_not_on_worker", "worker_loop"]

#: How long an interrupted caller waits for the async side to clean up (close the response).
CLEANUP_WAIT = 10.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_shut_down = False  # set at exit: a loop started after that would never be closed


def worker_loop() -> asyncio.AbstractEventLoop:
    """The shared worker loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _shut_down:
            raise RuntimeError("nbchat: the worker loop has shut down (the process is exiting)")
        if _loop is None or _thread is None or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=_run_forever, args=(loop, ready), name="nbchat-worker", daemon=True
            )
            thread.start()
            ready.wait()
            _loop, _thread = loop, thread
        return _loop


def _run_forever(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
    finally:
        try:
            loop.run_until_complete(_wind_down(loop))
        finally:
            loop.close()


async def _wind_down(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what still runs and let it clean up, then close the async generators left.

    A turn cancelled here records its reply as stopped and closes its HTTP response. The
    wait is bounded: the process is exiting, and a task that ignores its cancellation must
    not hold it up.
    """
    me = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks(loop) if task is not me]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=CLEANUP_WAIT)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: an error in a cleanup at exit is not news
    # Generators dropped mid-iteration (httpx's body readers among them) are otherwise
    # closed by the garbage collector, on a loop that is gone by then.
    await loop.shutdown_asyncgens()


def check_not_on_worker() -> None:
    if _thread is not None and threading.current_thread() is _thread:
        # Blocking the worker loop on itself would wait forever.
        raise RuntimeError("nbchat: blocking call made from nbchat's own worker loop")


def _stop_worker() -> None:
    # At exit, stop the loop so its thread winds it down and closes it (_run_forever)
    # rather than dying mid-callback.
    global _loop, _thread, _shut_down
    with _lock:
        loop, thread, _loop, _thread = _loop, _thread, None, None
        _shut_down = True
    if loop is not None and thread is not None and thread.is_alive():
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=CLEANUP_WAIT + 1.0)


def _forget_worker_after_fork() -> None:
    # A forked child has the loop object but not its thread; start afresh on next use.
    global _loop, _thread, _lock
    _loop, _thread, _lock = None, None, threading.Lock()


atexit.register(_stop_worker)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_worker_after_fork)
