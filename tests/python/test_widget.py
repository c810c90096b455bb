"""The Chat widget with a real Conversation on the demo provider, and a comm that records.

ipywidgets opens its comm through ``comm.create_comm``; here that makes a comm which keeps
every message the widget sends (with the sending thread), and lets a test deliver messages
as the front end would.
"""

from __future__ import annotations

import json
import pathlib
import secrets
import threading
import time
import traceback
import typing
from collections.abc import Callable

import pytest
import traitlets
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from tests.comms import branch, custom, from_ui, states, synced, timeline, wire
from tests.interrupts import sigint_when
from tests.python.widget_rig import WAIT, ui_turn, until

from nbchat import testing
from nbchat.errors import AuthenticationFailed, ConversationBusy, InvalidRequest, ServerError
from nbchat.session import Conversation
from nbchat.widget import BUSY_NOTICE, Chat
from nbchat.widget._static import TRANSCRIPT_MIME

VIEW = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.usefixtures("recording_comm")


def contents(chat: Chat) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in chat.messages]


# ---------------------------------------------------------------------------------------
# Construction and traits.


def test_traits_describe_the_chat_and_each_has_a_docstring() -> None:
    chat = Chat("demo:showcase", theme="dark", height=300, compact=True, placeholder="Ask")
    state = wire(chat).log[0].data["state"]
    assert wire(chat).log[0].msg_type == "comm_open"
    assert state["model"] == "demo:showcase"
    assert (state["theme"], state["height"], state["compact"]) == ("dark", "300px", True)
    assert (state["placeholder"], state["status"], state["leaf"], state["c:"]) == (
        "Ask",
        "idle",
        "",
        [],
    )
    for name in ("leaf", "status", "model", "theme", "height", "compact", "placeholder"):
        trait = chat.traits()[name]
        assert trait.metadata.get("sync") is True
        assert trait.help, f"{name} has no docstring"


def test_view_options_are_validated() -> None:
    chat = Chat("demo:showcase")
    chat.height = "60vh"
    with pytest.raises(traitlets.TraitError, match="CSS length"):
        chat.height = "1px; background: red"
    with pytest.raises(traitlets.TraitError):
        chat.theme = "purple"
    with pytest.raises(traitlets.TraitError):
        chat.model = "ollama:llama3.2"  # read-only: a new Chat talks to another model


def test_a_conversation_can_be_shown_as_it_is_but_not_with_other_settings() -> None:
    script = testing.script("Hi")
    conversation = Conversation(script.model)
    conversation.prompt("Hello").result()
    chat = Chat(conversation=conversation)
    assert chat.conversation is conversation
    assert contents(chat) == [("user", "Hello"), ("assistant", "Hi")]
    with pytest.raises(InvalidRequest, match="either conversation"):
        Chat("demo:echo", conversation=conversation)


def test_unknown_options_fail_before_any_widget_exists() -> None:
    with pytest.raises(InvalidRequest):
        Chat("demo:showcase", temprature=0.2)


# ---------------------------------------------------------------------------------------
# Turns from the UI.


async def test_submit_streams_deltas_then_messages_once_then_done() -> None:
    script = testing.script(["Hel", "lo ", "wor", "ld"])
    chat = Chat(script.model)
    await ui_turn(chat, kind="submit", text="Say hello")

    assert contents(chat) == [("user", "Say hello"), ("assistant", "Hello world")]
    assert chat.status == "idle"
    start = custom(chat, "start")[0]
    assert (start["id"], start["model"]) == (chat.messages[-1]["id"], script.model)
    streamed = "".join(d["text"] for d in custom(chat, "delta"))
    assert streamed == "Hello world"
    # The prompt shows at once (with its final id); the reply is written once, at the end.
    order = timeline(chat)
    assert order[0] == "update:history,leaf,status"
    assert order[1] == "start"
    assert order[-2:] == ["update:history,leaf,status", "done"]
    assert order.count("update:history,leaf,status") == 2
    assert set(order[2:-2]) == {"delta"}
    first_update = states(chat)[0]
    assert branch(synced(chat, upto=1)) == chat.messages[:1]
    assert first_update["status"] == "streaming"
    # Each update holds only what changed: the prompt (and the list it joins), then the reply.
    prompt, reply = chat.messages
    assert set(first_update) == {f"m:{prompt['id']}", "c:", "leaf", "status"}
    assert set(states(chat)[-1]) == {f"m:{reply['id']}", f"c:{prompt['id']}", "leaf", "status"}
    assert branch(synced(chat)) == chat.messages


async def test_a_second_submit_while_streaming_is_refused_with_a_notice() -> None:
    script = testing.script(["Thinking", testing.STALL], "unused")
    chat = Chat(script.model)
    from_ui(chat, kind="submit", text="first")
    await until(script.stalled.is_set)

    from_ui(chat, kind="submit", text="second")
    assert custom(chat, "notice") == [{"kind": "notice", "text": BUSY_NOTICE}]
    for kind in ("regenerate", "continue", "clear"):
        from_ui(chat, kind=kind)
    from_ui(chat, kind="edit", text="changed")
    assert len(custom(chat, "notice")) == 5
    assert len(script.requests) == 1
    with pytest.raises(ConversationBusy):
        chat.ask("from code")

    from_ui(chat, kind="stop")
    await until(lambda: chat.status == "idle")
    assert contents(chat) == [("user", "first"), ("assistant", "Thinking")]


async def test_stop_keeps_the_partial_reply_marked_stopped_and_continue_appends() -> None:
    script = testing.script(["Once ", "upon", testing.STALL], [" a time", "."])
    chat = Chat(script.model)
    from_ui(chat, kind="submit", text="Tell a story")
    await until(script.stalled.is_set)
    await until(lambda: "".join(d["text"] for d in custom(chat, "delta")) == "Once upon")

    from_ui(chat, kind="stop")
    await until(lambda: bool(custom(chat, "done")))
    reply = chat.messages[-1]
    assert reply["content"] == "Once upon"
    assert reply["meta"]["stopped"] is True
    assert chat.status == "idle"

    await ui_turn(chat, kind="continue")
    assert contents(chat) == [("user", "Tell a story"), ("assistant", "Once upon a time.")]
    assert chat.messages[-1]["id"] == reply["id"]  # the same message, appended to
    start = custom(chat, "start")[-1]
    assert (start["id"], start["text"]) == (reply["id"], "Once upon")
    assert custom(chat, "delta")[-1]["offset"] + len(custom(chat, "delta")[-1]["text"]) == len(
        "Once upon a time."
    )
    assert script.requests[-1].messages[-1] == {"role": "assistant", "content": "Once upon"}


async def test_a_stop_before_the_turn_task_first_runs_keeps_the_prompt() -> None:
    script = testing.script("never sent")
    chat = Chat(script.model)
    from_ui(chat, kind="submit", text="Do not lose me")
    # No await in between: the turn's task is created but has not taken its first step.
    assert chat.conversation.current is None
    from_ui(chat, kind="stop")
    await until(lambda: bool(custom(chat, "done")))
    await until(lambda: chat.status == "idle")

    assert contents(chat) == [("user", "Do not lose me"), ("assistant", "")]
    assert chat.messages[-1]["meta"]["stopped"] is True
    assert chat.messages[-1]["id"] == custom(chat, "start")[-1]["id"]
    assert chat.conversation.messages == chat.messages
    assert not script.requests
    # The prompt keeps the id it was shown with, so the view does not redraw it.
    assert branch(synced(chat, upto=1))[0] == chat.messages[0]


async def test_edit_forks_the_last_prompt_and_redoes_its_reply() -> None:
    script = testing.script("First answer", "Second answer")
    chat = Chat(script.model)
    await ui_turn(chat, kind="submit", text="What is 2+2?")
    await ui_turn(chat, kind="edit", text="What is 3+3?")
    assert contents(chat) == [("user", "What is 3+3?"), ("assistant", "Second answer")]
    assert script.requests[-1].messages[-1] == {"role": "user", "content": "What is 3+3?"}
    # While it streamed, the list showed the edited prompt without the old reply.
    updates = states(chat)
    last_start = max(i for i, u in enumerate(updates) if u.get("status") == "streaming")
    during = branch(synced(chat, upto=last_start + 1))
    assert [(m["role"], m["content"]) for m in during] == [("user", "What is 3+3?")]
    # The earlier prompt and its reply stay, as a sibling branch (#12): the roots list both.
    state = synced(chat)
    assert branch(state) == chat.messages
    assert sum(1 for k, v in state.items() if k.startswith("m:") and v is not None) == 4
    assert state["c:"] == chat.conversation.tree.children()
    assert len(state["c:"]) == 2


async def test_regenerate_shows_the_new_reply() -> None:
    script = testing.script("Answer one", "Answer two")
    chat = Chat(script.model)
    await ui_turn(chat, kind="submit", text="Pick a number")
    await ui_turn(chat, kind="regenerate")
    assert contents(chat) == [("user", "Pick a number"), ("assistant", "Answer two")]


async def test_clear_forgets_everything() -> None:
    script = testing.script("Hi")
    chat = Chat(script.model)
    await ui_turn(chat, kind="submit", text="Hello")
    from_ui(chat, kind="clear")
    assert chat.messages == []
    assert chat.conversation.messages == []
    assert chat.status == "idle"


async def test_invalid_input_is_refused_with_an_error_and_changes_nothing() -> None:
    script = testing.script("Hi")
    chat = Chat(script.model)
    from_ui(chat, kind="continue")  # nothing to continue yet
    await ui_turn(chat, kind="submit", text="Hello")
    before = chat.messages
    from_ui(chat, kind="submit", text="   ")
    from_ui(chat, kind="submit")  # no text at all
    from_ui(chat, kind="edit", text="a\x00b")
    errors = [e for e in custom(chat, "error") if e["id"] is None]
    assert [e["message"] for e in errors] == [
        "There is no reply to continue.",
        "The message is empty.",
        "The message has no text.",
        "The message contains a NUL character.",
    ]
    assert all(e["hint"] for e in errors)
    assert chat.messages == before
    assert chat.status == "idle"
    assert len(script.requests) == 1
    from_ui(chat, kind="bogus")  # unknown commands are ignored
    assert len(custom(chat, "error")) == 4


async def test_a_failed_reply_keeps_its_text_and_shows_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = testing.script(["Hel", "lo", ServerError("The server fell over.", hint="Retry.")])
    chat = Chat(script.model)
    await ui_turn(chat, kind="submit", text="Hi")
    assert chat.status == "error"
    reply = chat.messages[-1]
    assert (reply["content"], reply["meta"]["error"]) == ("Hello", "The server fell over.")
    assert custom(chat, "error")[-1] == {
        "kind": "error",
        "id": reply["id"],
        "message": "The server fell over.",
        "hint": "Retry.",
    }
    assert not custom(chat, "done")
    assert timeline(chat)[-2:] == ["update:history,leaf,status", "error"]
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err

    await ui_turn(chat, kind="regenerate")  # the last reply repeats: fails again
    assert chat.status == "error"


async def test_hello_mid_stream_gets_a_snapshot_of_the_reply_so_far() -> None:
    pause = testing.Pause()
    script = testing.script(["Hello ", "world", pause, "!"])
    chat = Chat(script.model)
    from_ui(chat, kind="hello")
    assert custom(chat, "snapshot")[-1]["id"] is None  # nothing in flight yet

    from_ui(chat, kind="submit", text="Greet")
    await until(pause.reached.is_set)
    from_ui(chat, kind="hello")  # a second view opens
    await until(lambda: len(custom(chat, "snapshot")) == 2)
    snapshot = custom(chat, "snapshot")[-1]
    assert snapshot["text"] == "Hello world"
    assert snapshot["id"] == custom(chat, "start")[-1]["id"]
    pause.release()
    await until(lambda: bool(custom(chat, "done")))
    assert chat.messages[-1]["content"] == "Hello world!"
    deltas_after = custom(chat, "delta")[-1]
    assert deltas_after["seq"] > snapshot["seq"]
    assert deltas_after["offset"] == len("Hello world")


async def test_the_ui_turn_runs_as_a_task_so_the_caller_is_not_blocked() -> None:
    script = testing.script(["slow ", testing.STALL])
    chat = Chat(script.model)
    from_ui(chat, kind="submit", text="Go")  # returns at once
    assert chat.status == "streaming"
    await until(script.stalled.is_set)
    assert chat.status == "streaming"
    chat.stop()
    await until(lambda: chat.status == "idle")


async def test_close_mid_stream_stops_the_turn_cleanly() -> None:
    script = testing.script(["partial", testing.STALL])
    chat = Chat(script.model)
    conversation = chat.conversation
    from_ui(chat, kind="submit", text="Go")
    await until(script.stalled.is_set)
    chat.close()
    await until(lambda: conversation.current is None and bool(conversation.messages))
    assert conversation.messages[-1]["content"] == "partial"
    assert conversation.messages[-1]["meta"]["stopped"] is True
    assert chat.comm is None


# ---------------------------------------------------------------------------------------
# Turns from code.


def test_ask_streams_from_the_calling_thread_and_returns_the_reply() -> None:
    script = testing.script(["The ", "answer ", "is ", "42."], tokens_per_second=200)
    chat = Chat(script.model)
    assert chat.ask("What is the answer?") == "The answer is 42."
    assert contents(chat) == [("user", "What is the answer?"), ("assistant", "The answer is 42.")]
    sent = [s for s in wire(chat).log if s.msg_type == "comm_msg"]
    assert {s.thread for s in sent} == {threading.get_ident()}
    assert "".join(d["text"] for d in custom(chat, "delta")) == "The answer is 42."
    assert timeline(chat)[-2:] == ["update:history,leaf,status", "done"]


def test_ask_sends_the_tail_after_a_pause_without_waiting_for_the_next_token() -> None:
    pause = testing.Pause()
    script = testing.script(["a", "b", "c", pause, "d"])
    chat = Chat(script.model)
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(chat.ask("go")))
    worker.start()
    try:
        assert pause.reached.wait(WAIT)
        deadline = time.monotonic() + WAIT
        while "".join(d["text"] for d in custom(chat, "delta")) != "abc":
            assert time.monotonic() < deadline, "the trailing flush never came"
            time.sleep(0.005)
    finally:
        pause.release()
        worker.join(WAIT)
    assert result == ["abcd"]


def test_ask_raises_the_error_after_showing_it_and_keeps_the_partial() -> None:
    script = testing.script(["Par", "tial", ServerError("Boom.")])
    chat = Chat(script.model)
    with pytest.raises(ServerError, match="Boom") as raised:
        chat.ask("Hi")
    # IPython renders it as this one line instead of a traceback, as the magics do.
    assert raised.value._render_traceback_() == ["\x1b[0;31mServerError\x1b[0m: Boom."]  # type: ignore[attr-defined]
    assert chat.status == "error"
    assert chat.messages[-1]["content"] == "Partial"
    assert custom(chat, "error")[-1]["message"] == "Boom."


def test_ask_with_bad_input_raises_before_anything_is_sent() -> None:
    chat = Chat(testing.script("x").model)
    sent_before = len(wire(chat).log)
    with pytest.raises(InvalidRequest):
        chat.ask("")
    assert len(wire(chat).log) == sent_before
    assert chat.status == "idle"


def test_a_kernel_interrupt_during_ask_stops_the_reply_and_keeps_it() -> None:
    pause = testing.Pause()
    script = testing.script(["Par", "tial", pause, " never sent"])
    chat = Chat(script.model)

    try:
        with sigint_when(pause.reached), pytest.raises(KeyboardInterrupt) as raised:
            chat.ask("Go")
    finally:
        pause.release()
    # IPython shows one line; what traceback there is starts at ask(), not in nbchat's
    # internals where the signal landed (so "Run All" still stops at this cell).
    assert raised.value._render_traceback_() == ["Stopped: the partial reply is kept."]  # type: ignore[attr-defined]
    frames = traceback.extract_tb(raised.value.__traceback__)
    assert [f.name for f in frames if "nbchat" in pathlib.Path(f.filename).parts] == ["ask"]
    assert raised.value.__context__ is None or raised.value.__suppress_context__
    reply = chat.messages[-1]
    assert (reply["content"], reply["meta"]["stopped"]) == ("Partial", True)
    assert chat.status == "idle"
    assert timeline(chat)[-2:] == ["update:history,leaf,status", "done"]
    assert chat.ask("Again") == "Partial never sent"  # the chat is usable afterwards


async def test_only_a_turn_that_holds_its_cell_says_it_blocks() -> None:
    # chat.ask holds the cell: the kernel delivers no Stop until it ends, so the front end
    # must not offer one. A UI turn and ask_async leave the kernel free to hear it.
    chat = Chat(testing.script("a", "b", "c").model)
    chat.ask("Blocking")
    await chat.ask_async("Async")
    await ui_turn(chat, kind="submit", text="From the UI")
    assert [m["blocking"] for m in custom(chat, "start")] == [True, False, False]


async def test_ask_async_streams_on_the_running_loop() -> None:
    script = testing.script(["as", "ync"])
    chat = Chat(script.model)
    assert await chat.ask_async("Hi") == "async"
    assert contents(chat)[-1] == ("assistant", "async")
    assert custom(chat, "done")


# ---------------------------------------------------------------------------------------
# Keys stay in the kernel.

# Random, so no fragment can turn up in the JS bundle (which travels in comm_open) by chance.
GOOD_KEY = f"sk-test-{secrets.token_hex(16)}"
BAD_KEY = f"sk-test-{secrets.token_hex(16)}"


def assert_no_key(text: str, key: str) -> None:
    for piece in (key, key[:8], key[-8:]):
        assert piece not in text, f"{piece!r} leaked"


def test_no_key_in_any_trait_message_repr_transcript_or_file(tmp_path: pathlib.Path) -> None:
    from tests.servers import EmulatorServer

    with EmulatorServer("openai", api_key=GOOD_KEY) as server:
        server.enqueue("Keys stay home.")
        chat = Chat("openai:llama3.2:latest", base_url=server.base_url, api_key=GOOD_KEY)
        assert chat.ask("Where do keys live?") == "Keys stay home."
        # The key did reach the server: it is used, just never shown.
        assert server.chat_requests[-1].headers["authorization"] == f"Bearer {GOOD_KEY}"

        chat.save(str(tmp_path / "chat.json"))
        bundle, _ = chat._repr_mimebundle_()
        everything = json.dumps([s.data for s in wire(chat).log], ensure_ascii=False)
        for text in (
            everything,
            json.dumps(chat.get_state(), ensure_ascii=False, default=str),
            repr(chat),
            repr(chat.conversation.provider),
            json.dumps(bundle, ensure_ascii=False),
            chat.to_markdown(),
            (tmp_path / "chat.json").read_text(),
        ):
            assert_no_key(text, GOOD_KEY)


async def test_a_rejected_key_is_not_repeated_in_the_error_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.servers import EmulatorServer

    with EmulatorServer("openai", api_key=GOOD_KEY) as server:
        chat = Chat("openai:llama3.2:latest", base_url=server.base_url, api_key=BAD_KEY)
        await ui_turn(chat, kind="submit", text="Hello?")
        assert chat.status == "error"
        error = custom(chat, "error")[-1]
        assert error["message"]  # one line saying what happened
        assert_no_key(json.dumps([s.data for s in wire(chat).log], ensure_ascii=False), BAD_KEY)
        assert_no_key(json.dumps(chat.messages, ensure_ascii=False), BAD_KEY)
        assert_no_key(caplog.text, BAD_KEY)
        with pytest.raises(AuthenticationFailed) as raised:
            chat.ask("Again?")
        assert_no_key(str(raised.value) + repr(raised.value), BAD_KEY)


# ---------------------------------------------------------------------------------------
# Transcripts, persistence, display.


def test_save_and_load_round_trip(tmp_path: pathlib.Path) -> None:
    script = testing.script("Paris.")
    chat = Chat(script.model, system="Be brief.")
    chat.ask("Capital of France?")
    path = tmp_path / "talk.json"
    chat.save(str(path))

    again = Chat.load(str(path), theme="dark")
    assert again.messages == chat.messages
    assert again.conversation.system == "Be brief."
    assert again.theme == "dark"
    assert again.to_markdown() == chat.to_markdown()
    assert "Paris." in chat.to_markdown()


def test_the_mimebundle_carries_a_static_transcript_for_readers_without_javascript() -> None:
    script = testing.script("Use $E = mc^2$.")
    chat = Chat(script.model)
    chat.ask("Physics?")
    bundle, _ = chat._repr_mimebundle_()
    view = typing.cast(dict[str, str], bundle["application/vnd.jupyter.widget-view+json"])
    assert view["model_id"] == chat.model_id
    assert "2 messages" in str(bundle["text/plain"])
    markdown = str(bundle["text/markdown"])
    assert "Physics?" in markdown
    assert "$E = mc^2$" in markdown


def test_in_colab_the_view_carries_anywidget_s_metadata_beside_the_static_transcript(
    colab: str,
) -> None:
    # Bug 2 (issue 9): Colab renders a third-party widget only with this metadata.
    chat = Chat(testing.script("x").model)
    want = {"colab": {"custom_widget_manager": {"url": colab}}}

    bundle, metadata = chat._repr_mimebundle_()
    assert metadata[VIEW] == want
    assert VIEW in bundle
    assert "text/markdown" in bundle

    InteractiveShell.instance()  # IPython's display needs a shell
    with capture_output() as cap:
        chat._ipython_display_()
    view, *static = cap.outputs
    assert view.data[VIEW]["model_id"] == chat.model_id
    assert view.metadata[VIEW] == want
    assert all("text/markdown" in out.data and VIEW not in out.data for out in static)


def test_repr_is_short_and_secret_free() -> None:
    chat = Chat(testing.script("x").model)
    assert repr(chat) == f"<Chat {chat.model} · 0 messages · idle>"


# ---------------------------------------------------------------------------------------
# In a real kernel: the UI's commands arrive as comm messages on the kernel's shell.


class KernelRig:
    """A real ipykernel, spoken to as a front end would (comm messages on the shell)."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name="python3")
        self.comm_id: str | None = None
        self.custom: list[dict[str, typing.Any]] = []
        self.outputs: list[dict[str, typing.Any]] = []

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def execute(self, code: str) -> dict[str, typing.Any]:
        """Run ``code``; return its execute_reply. iopub traffic is recorded meanwhile."""
        msg_id = self.kc.execute(code)
        reply: dict[str, typing.Any] | None = None
        idle = False
        deadline = time.monotonic() + 30
        while reply is None or not idle:
            assert time.monotonic() < deadline, f"no reply to {code!r}"
            if reply is None:
                with_reply = self.kc.get_shell_msg(timeout=0.05) if self._shell_ready() else None
                if with_reply is not None and with_reply["parent_header"].get("msg_id") == msg_id:
                    reply = with_reply["content"]
            msg = self._iopub(timeout=0.05)
            idle = idle or (
                msg is not None
                and msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            )
        return reply

    def _shell_ready(self) -> bool:
        return bool(self.kc.shell_channel.msg_ready())

    def _iopub(self, timeout: float) -> dict[str, typing.Any] | None:
        import queue as std_queue

        try:
            msg: dict[str, typing.Any] = self.kc.get_iopub_msg(timeout=timeout)
        except std_queue.Empty:
            return None
        kind, content = msg["msg_type"], msg["content"]
        if kind == "comm_open" and content["data"]["state"].get("_anywidget_id", "").endswith(
            "Chat"
        ):
            self.comm_id = content["comm_id"]
        elif kind == "comm_msg" and content["data"].get("method") == "custom":
            self.custom.append(content["data"]["content"])
        elif kind in ("display_data", "update_display_data", "execute_result", "error"):
            self.outputs.append(msg)
        return msg

    def pump_until(self, condition: Callable[[], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not met in time"
            self._iopub(timeout=0.05)

    def count(self, kind: str) -> int:
        return sum(1 for m in self.custom if m["kind"] == kind)

    def send_from_ui(self, **content: object) -> None:
        assert self.comm_id is not None
        msg = self.kc.session.msg(
            "comm_msg",
            {"comm_id": self.comm_id, "data": {"method": "custom", "content": content}},
        )
        self.kc.shell_channel.send(msg)


@pytest.fixture
def kernel() -> typing.Iterator[KernelRig]:
    rig = KernelRig()
    try:
        yield rig
    finally:
        rig.close()


@pytest.mark.kernel
def test_in_a_kernel_a_ui_turn_streams_while_cells_still_run_and_stop_arrives(
    kernel: KernelRig,
) -> None:
    kernel.execute(
        "import nbchat\nfrom nbchat import testing\n"
        "s = testing.script(['tick '] * 5000, tokens_per_second=100)\n"
        "chat = nbchat.Chat(s.model)\nchat"
    )
    assert kernel.comm_id is not None
    kernel.send_from_ui(kind="submit", text="Count")
    kernel.pump_until(lambda: kernel.count("delta") >= 3)

    # The kernel is free: a cell runs and answers while the reply streams on.
    reply = kernel.execute("assert chat.status == 'streaming', chat.status")
    assert reply["status"] == "ok", reply
    deltas_before = kernel.count("delta")
    kernel.pump_until(lambda: kernel.count("delta") > deltas_before)

    kernel.send_from_ui(kind="stop")
    kernel.pump_until(lambda: kernel.count("done") == 1)
    check = kernel.execute(
        "assert chat.status == 'idle', chat.status\n"
        "assert chat.messages[-1]['meta']['stopped'] is True\n"
        "assert 0 < len(chat.messages[-1]['content']) < len('tick ' * 5000)"
    )
    assert check["status"] == "ok", check


@pytest.mark.kernel
def test_in_a_kernel_the_static_transcript_follows_each_turn(kernel: KernelRig) -> None:
    kernel.execute(
        "import nbchat\nfrom nbchat import testing\n"
        "s = testing.script('Forty-two.')\nchat = nbchat.Chat(s.model)\nchat"
    )
    first = [m for m in kernel.outputs if m["msg_type"] == "display_data"]
    assert "application/vnd.jupyter.widget-view+json" in first[0]["content"]["data"]
    static = [m["content"] for m in first[1:]]
    ids = [out["transient"]["display_id"] for out in static]
    assert "0 messages" in static[0]["data"]["text/markdown"]
    assert all(TRANSCRIPT_MIME in out["data"] for out in static)

    kernel.execute("chat.ask('The answer?')")
    updates = [m["content"] for m in kernel.outputs if m["msg_type"] == "update_display_data"]
    # The head (its count) and the last segment (the new messages): nothing else.
    assert [u["transient"]["display_id"] for u in updates] == [ids[0], ids[-1]]
    assert "2 messages" in updates[0]["data"]["text/markdown"]
    markdown = updates[1]["data"]["text/markdown"]
    assert "The answer?" in markdown
    assert "Forty-two." in markdown
    assert all("application/vnd.jupyter.widget-view+json" not in u["data"] for u in updates)

    # A failed ask() shows as one line in the cell, not a traceback.
    reply = kernel.execute(
        "from nbchat.errors import ServerError\n"
        "s2 = testing.script(ServerError('The server is down.', hint='Start it.'))\n"
        "nbchat.Chat(s2.model).ask('Hello?')"
    )
    assert reply["status"] == "error"
    shown = [m["content"]["traceback"] for m in kernel.outputs if m["msg_type"] == "error"]
    assert shown == [["\x1b[0;31mServerError\x1b[0m: The server is down. — Start it."]]
