"""How nbchat's errors show in IPython: as one line, not a traceback.

The widget and the magics show an error where it happened already (in the chat, in the
cell); a traceback under it would only repeat it, and nothing in it helps with a server's
answer. The cell still fails, so "Run All" stops where it would for any other error.
"""

from __future__ import annotations

import typing

__all__ = ["STOPPED", "one_line", "stopped"]

#: What an interrupted reply leaves in its cell: the whole of IPython's report.
STOPPED = "Stopped: the partial reply is kept."

E = typing.TypeVar("E", bound=BaseException)


def one_line(exc: E, *extra: str) -> E:
    """Have IPython show ``exc`` as one line (``Name: message — hint``), plus ``extra``
    lines, instead of a traceback; returns ``exc`` to be raised.

    IPython asks an exception for ``_render_traceback_`` before formatting one. The name is
    red, as in IPython's own tracebacks.
    """
    text = str(exc)
    lines = [f"\x1b[0;31m{type(exc).__name__}\x1b[0m{': ' if text else ''}{text}", *extra]
    exc._render_traceback_ = lambda: lines  # type: ignore[attr-defined]
    return exc


def stopped(exc: KeyboardInterrupt | None = None) -> KeyboardInterrupt:
    """The ``KeyboardInterrupt`` that ends an interrupted reply, shown as :data:`STOPPED`.

    It still propagates, so "Run All" stops at that cell; but the traceback, which would only
    walk through nbchat's own frames down to where the signal happened to land, is dropped
    (IPython shows the one line; plain Python shows only the caller's frames).
    """
    exc = KeyboardInterrupt() if exc is None else exc
    exc.__traceback__ = None
    exc.__suppress_context__ = True
    exc._render_traceback_ = lambda: [STOPPED]  # type: ignore[attr-defined]
    return exc
