"""How nbchat's errors show in IPython: as one line, not a traceback.

The widget and the magics show an error where it happened already (in the chat, in the
cell); a traceback under it would only repeat it, and nothing in it helps with a server's
answer. The cell still fails, so "Run All" stops where it would for any other error.
"""

from __future__ import annotations

import typing

__all__ = ["one_line"]

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
