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


# The budget the view's bundle must fit in, tool, image and compare views included (issue 15:
# 891 KB JS + 41 KB CSS when it was set; 933 KB + 40 KB with the virtual list). Within it, the
# runtime's saved state (the code JSON-escaped, ~1.08x) plus five chats stays under 1.2 MB.
BUNDLE_JS_BUDGET = 980_000
BUNDLE_CSS_BUDGET = 48_000
FIVE_CHATS_BUDGET = 1_200_000
FURTHER_CHAT_BUDGET = 20_000  # bytes a chat adds to a saved notebook beyond its conversation


def test_the_view_bundle_fits_its_budget() -> None:
    assert (_runtime._STATIC / "widget.js").stat().st_size <= BUNDLE_JS_BUDGET
    assert (_runtime._STATIC / "widget.css").stat().st_size <= BUNDLE_CSS_BUDGET
    assert (_runtime._STATIC / "loader.js").stat().st_size <= LOADER_BUDGET


def test_a_notebook_of_five_chats_saved_by_nbclient_stays_light() -> None:
    # A real kernel runs five chats, each asked once; nbclient saves every model's state.
    from benchmarks import weight

    figures = weight.measure(5, None)
    assert figures["file_bytes"] <= FIVE_CHATS_BUDGET, figures
    assert figures["last_chat_adds_beyond_conversation"] <= FURTHER_CHAT_BUDGET, figures
    assert figures["chat_esm_bytes"] <= LOADER_BUDGET, figures
    assert figures["runtime_state_bytes"] > BUNDLE_JS_BUDGET // 2  # the code, saved once
