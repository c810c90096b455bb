"""The magics' IPython shell fixtures, shared with tests/python/test_magics.py."""

from __future__ import annotations

from tests.python.test_magics import ip, shell

__all__ = ["ip", "shell"]
