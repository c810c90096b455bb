"""The view's code travels once per kernel (issue 15 part 3): every Chat references one runtime
model, and its own ``_esm`` is a small loader. The browser side (loading it, a notebook
reopened without a kernel) is in tests/e2e/test_saved_notebook.py."""

from __future__ import annotations

import threading
import typing

import comm
import ipywidgets
import pytest
from tests.comms import RecordingComm, wire

from nbchat import testing
from nbchat.widget import Chat, _runtime

pytestmark = pytest.mark.usefixtures("recording_comm")

LOADER_BUDGET = 20_000  # bytes a chat's own _esm may take (issue 15: ≤ 20 KB per chat)


def opened_state(widget: ipywidgets.Widget) -> dict[str, object]:
    """The state the widget's comm_open carried."""
    first = wire(widget).log[0]
    assert first.msg_type == "comm_open"
    return dict(first.data["state"])


def test_every_chat_references_one_runtime_that_carries_the_code_once() -> None:
    chats = [Chat(testing.script("x").model) for _ in range(3)]
    runtime = chats[0].runtime
    assert all(chat.runtime is runtime for chat in chats)

    code = (_runtime._STATIC / "widget.js").read_text(encoding="utf-8")
    shared = opened_state(runtime)
    assert shared["code"] == code
    assert shared["css"] == (_runtime._STATIC / "widget.css").read_text(encoding="utf-8")
    assert len(str(shared["version"])) == 16

    for chat in chats:
        state = opened_state(chat)
        # ipywidgets' reference; the front end strips the prefix for the model manager.
        assert state["runtime"] == f"IPY_MODEL_{runtime.model_id}"
        assert "code" not in state
        assert "_css" not in state
        assert len(str(state["_esm"]).encode()) < LOADER_BUDGET
        assert code not in str(state)


def test_the_runtime_opens_before_the_chat_that_needs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # The front end resolves the reference when the chat's model opens: the runtime's must
    # have arrived first.
    _runtime._runtimes.clear()
    opened: list[str] = []

    def create_comm(*args: typing.Any, **kwargs: typing.Any) -> RecordingComm:
        state = kwargs.get("data", {}).get("state", {})
        if "code" in state or "runtime" in state:  # not the layouts both carry
            opened.append("runtime" if "code" in state else "chat")
        return RecordingComm(*args, **kwargs)

    monkeypatch.setattr(comm, "create_comm", create_comm)
    Chat(testing.script("x").model)
    assert opened == ["runtime", "chat"]


def test_a_closed_runtime_is_replaced_on_next_use() -> None:
    first = Chat(testing.script("x").model).runtime
    first.close()
    second = Chat(testing.script("x").model).runtime
    assert second is not first
    assert second.comm is not None


def test_each_thread_has_its_runtime() -> None:
    # marimo's run mode hosts each session as a thread of one process: its page knows only
    # the models opened in that session.
    here = _runtime.shared()
    there: list[_runtime.Runtime] = []
    thread = threading.Thread(target=lambda: there.append(_runtime.shared()))
    thread.start()
    thread.join()
    assert there[0] is not here
    assert _runtime.shared() is here
