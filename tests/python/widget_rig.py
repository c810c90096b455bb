"""What the widget tests share: waiting on a condition, and one turn sent from the UI.

A module of widget tests also marks itself ``pytest.mark.usefixtures("recording_comm")``, so
each widget it makes gets a :class:`tests.comms.RecordingComm`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tests.comms import custom, from_ui

from nbchat.widget import Chat

__all__ = ["WAIT", "ui_turn", "until"]

WAIT = 15.0  # a failure's timeout only: a loaded 2-core machine streams slowly


async def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Let the loop run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.002)


async def ui_turn(chat: Chat, **content: object) -> None:
    """Send a command from the UI and wait until the reply it starts has ended."""
    ends = len(custom(chat, "done")) + len(custom(chat, "error"))
    from_ui(chat, **content)
    await until(lambda: len(custom(chat, "done")) + len(custom(chat, "error")) > ends)
    await until(lambda: chat.status != "streaming")
