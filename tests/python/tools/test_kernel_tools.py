"""Tool approval in a real kernel: a card answered from the UI, a blocking ask on the cell's
stdin (or a no where the front end has none), and cards answered while a cell awaits."""

from __future__ import annotations

import queue
import time
import typing

import pytest
from tests.python.test_widget import KernelRig

pytestmark = pytest.mark.kernel

SETUP = (
    "import json, threading, nbchat\n"
    "from nbchat import testing\n"
    "from nbchat.providers.base import ToolCall\n"
    "ran = []\n"
    "def weather(city: str) -> str:\n"
    "    '''Current weather.'''\n"
    "    ran.append((city, threading.current_thread() is threading.main_thread()))\n"
    "    return '21 C'\n"
    "call = ToolCall(0, 'weather', json.dumps({'city': 'Paris'}), 'c1')\n"
)


def reply_to(kernel: KernelRig, msg_id: str) -> dict[str, typing.Any]:
    """The execute_reply to ``msg_id`` (iopub is pumped meanwhile)."""
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "no reply"
        kernel.pump_until(lambda: True)
        try:
            msg: dict[str, typing.Any] = kernel.kc.get_shell_msg(timeout=0.2)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return typing.cast(dict[str, typing.Any], msg["content"])


def waiting(kernel: KernelRig) -> bool:
    return any(m["kind"] == "part" and m["part"].get("status") == "waiting" for m in kernel.custom)


def test_a_card_answered_from_the_ui_runs_the_tool_in_the_kernel(kernel: KernelRig) -> None:
    kernel.execute(
        SETUP
        + "s = testing.script([call], 'Done.')\nchat = nbchat.Chat(s.model, tools=[weather])\nchat"
    )
    kernel.send_from_ui(kind="submit", text="Weather?")
    kernel.pump_until(lambda: waiting(kernel))
    kernel.send_from_ui(kind="approve", call_id="c1", allow=True)
    kernel.pump_until(lambda: kernel.count("done") == 1)
    check = kernel.execute(
        "assert ran == [('Paris', True)], ran\nassert chat.messages[-1]['content'] == 'Done.'"
    )
    assert check["status"] == "ok", check


def test_a_blocking_ask_with_no_stdin_declines_with_the_reason(kernel: KernelRig) -> None:
    kernel.execute(SETUP)
    # As nbclient runs a notebook: the front end takes no input.
    msg_id = kernel.kc.execute(
        "s = testing.script([call], 'Understood.')\n"
        "chat = nbchat.Chat(s.model, tools=[weather])\n"
        "assert chat.ask('Weather?') == 'Understood.'\n"
        "assert ran == []\n"
        "result = chat.messages[-1]['parts'][1]\n"
        "assert result['status'] == 'declined', result\n"
        "assert 'nobody can approve' in result['content'], result",
        allow_stdin=False,
    )
    reply = reply_to(kernel, msg_id)
    assert reply["status"] == "ok", reply


def test_a_blocking_ask_reads_the_answer_on_the_cell_s_stdin(kernel: KernelRig) -> None:
    kernel.execute(SETUP)
    code = (
        "s = testing.script([call], 'Done.')\n"
        "chat = nbchat.Chat(s.model, tools=[weather])\n"
        "assert chat.ask('Weather?') == 'Done.'\n"
        "assert ran == [('Paris', True)], ran"
    )
    msg_id = kernel.kc.execute(code, allow_stdin=True)
    request = kernel.kc.get_stdin_msg(timeout=30)
    assert request["msg_type"] == "input_request"
    assert "the model wants to call weather" in request["content"]["prompt"]
    kernel.kc.input("y")
    reply = reply_to(kernel, msg_id)
    assert reply["status"] == "ok", reply


def test_cards_are_answered_while_a_cell_awaits_ask_async(kernel: KernelRig) -> None:
    kernel.execute(
        SETUP
        + "s = testing.script([call], 'Done.')\nchat = nbchat.Chat(s.model, tools=[weather])\nchat"
    )
    kernel.send_from_ui(kind="hello")  # the view is there
    msg_id = kernel.kc.execute("answer = await chat.ask_async('Weather?')")
    kernel.pump_until(lambda: waiting(kernel))
    kernel.send_from_ui(kind="approve", call_id="c1", allow=True)
    kernel.pump_until(lambda: kernel.count("done") == 1)
    assert reply_to(kernel, msg_id)["status"] == "ok"
    check = kernel.execute("assert answer == 'Done.'\nassert ran == [('Paris', True)], ran")
    assert check["status"] == "ok", check
