"""Fixtures shared with tests/python: the magics' IPython shell (test_magics.py) and a real
kernel with a widget comm (test_widget.py)."""

from __future__ import annotations

from tests.python.test_magics import ip, shell
from tests.python.test_widget import kernel

__all__ = ["ip", "kernel", "shell"]
