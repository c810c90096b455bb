"""Running one tool call: awaited or called where user code belongs, its output kept.

An async tool is awaited on the turn's loop (a stop cancels it). A sync tool runs on the
thread that consumes the turn (:func:`nbchat._worker.on_consumer`): the kernel's main
thread, where it can touch the user's namespace and matplotlib; a stop lands after it
returns. For a turn started from the widget there is no cell to print into, so
``capture`` keeps what the tool prints and the figures it draws, for its card.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import inspect
import io
import sys
import time
import typing

from .. import _worker
from ._results import DEFAULT_CAP, cap, error_line, result_text, traceback_text
from ._tool import Tool

__all__ = ["OUTPUT_CAP", "Outcome", "StoppedAfter", "run_tool"]

#: Characters of captured output kept for a card.
OUTPUT_CAP = 8 * 1024
#: Figures kept per call, and the resolution they are drawn at (small: they live in the
#: widget's state and the saved notebook).
MAX_FIGURES = 4
FIGURE_DPI = 50


@dataclasses.dataclass
class Outcome:
    status: typing.Literal["done", "failed", "stopped"]
    content: str  # what the model is told
    elapsed_s: float
    truncated: bool = False
    detail: str = ""  # a traceback, for the user
    output: str = ""  # what it printed (captured)
    figures: list[str] = dataclasses.field(default_factory=list)  # PNG data: URLs


async def run_tool(
    tool: Tool, arguments: dict[str, typing.Any], *, capture: bool, limit: int = DEFAULT_CAP
) -> Outcome:
    """Run ``tool`` with ``arguments``; a raised exception is a ``failed`` outcome.

    A cancellation (Stop) of an async tool propagates after the caller has been told
    nothing: the loop records that call as stopped.
    """
    started = time.perf_counter()
    sink = _Capture() if capture else None
    try:
        if tool.is_async:
            with _redirected(sink):
                value = await tool.function(**arguments)
        else:
            value = await _returned(_worker.on_consumer(lambda: _call(tool, arguments, sink)))
            if inspect.isawaitable(value):  # a sync function that returned a coroutine
                with _redirected(sink):
                    value = await value
    except asyncio.CancelledError:
        raise
    except _Cancelled as stopped:
        outcome = _settled(stopped.job, started, sink, limit)
        raise StoppedAfter(outcome) from None
    except _worker.Interrupted:
        return _outcome("stopped", "Stopped by a kernel interrupt while it ran.", started, sink)
    except Exception as exc:
        failed = _outcome("failed", error_line(exc), started, sink)
        failed.detail = traceback_text(exc)
        return failed
    return _done(value, started, sink, limit)


def _done(value: object, started: float, sink: _Capture | None, limit: int) -> Outcome:
    text, truncated = result_text(value, limit)
    done = _outcome("done", text, started, sink)
    done.truncated = truncated
    return done


def _settled(
    job: asyncio.Future[typing.Any], started: float, sink: _Capture | None, limit: int
) -> Outcome:
    error = job.exception()
    if error is None:
        return _done(job.result(), started, sink, limit)
    failed = _outcome("failed", error_line(error), started, sink)
    failed.detail = traceback_text(error)
    return failed


class StoppedAfter(Exception):
    """A stop arrived while a sync tool ran: it returned anyway (``outcome``); the turn
    records that, then stops."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("stopped after the tool returned")
        self.outcome = outcome


async def _returned(call: typing.Awaitable[typing.Any]) -> typing.Any:
    """What a sync tool returns, even when a stop cancels the wait for it: it runs on
    another thread and cannot be stopped, and what it did must not be lost."""
    job = asyncio.ensure_future(call)
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        while not job.done():
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                continue
        raise _Cancelled(job) from None


class _Cancelled(Exception):
    def __init__(self, job: asyncio.Future[typing.Any]) -> None:
        super().__init__("cancelled")
        self.job = job


def _outcome(status: typing.Any, content: str, started: float, sink: _Capture | None) -> Outcome:
    outcome = Outcome(status, content, round(time.perf_counter() - started, 3))
    if sink is not None:
        outcome.output = cap(sink.buffer.getvalue(), OUTPUT_CAP)[0]
        outcome.figures = sink.figures
    return outcome


def _call(tool: Tool, arguments: dict[str, typing.Any], sink: _Capture | None) -> typing.Any:
    before = _figure_numbers() if sink is not None else set()
    try:
        with _redirected(sink):
            return tool.function(**arguments)
    finally:
        if sink is not None:
            sink.figures = _take_figures(before)


class _Capture:
    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.figures: list[str] = []


@contextlib.contextmanager
def _redirected(sink: _Capture | None) -> typing.Iterator[None]:
    if sink is None:
        yield
        return
    with contextlib.redirect_stdout(sink.buffer), contextlib.redirect_stderr(sink.buffer):
        yield


def _pyplot() -> typing.Any:
    # Only if the user's code has imported it: a tool that draws nothing costs nothing.
    return sys.modules.get("matplotlib.pyplot")


def _figure_numbers() -> set[int]:
    plt = _pyplot()
    return set(plt.get_fignums()) if plt is not None else set()


def _take_figures(before: set[int]) -> list[str]:
    """The figures a call opened, as small PNG data URLs; closed, so that no cell shows
    them later (the inline backend would, in whatever cell runs next)."""
    plt = _pyplot()
    if plt is None:
        return []
    out: list[str] = []
    for number in sorted(set(plt.get_fignums()) - before):
        figure = plt.figure(number)
        if len(out) < MAX_FIGURES:
            with contextlib.suppress(Exception):
                png = io.BytesIO()
                figure.savefig(png, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
                out.append("data:image/png;base64," + base64.b64encode(png.getvalue()).decode())
        plt.close(figure)
    return out
