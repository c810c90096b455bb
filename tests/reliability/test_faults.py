"""Faults: each ends with a one-line error in the UI, the conversation intact, the next turn
working.

The widget runs its UI path as in a kernel (a task on the running loop, commands delivered
as the front end sends them); servers are the project's emulators on 127.0.0.1, a real
llama.cpp server, and processes killed by their PID. The kernel tests at the end drive a
real IPython kernel over jupyter_client.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import random
import signal
import typing
from collections.abc import Iterator

import httpx
import pytest
from tests.reliability.harness import (
    WAIT,
    KernelSession,
    RawReply,
    RawServer,
    assert_one_line,
    custom,
    free_port,
    from_ui,
    plan_bytes,
    submit_and_wait,
    trickle,
    until,
    widget_custom,
)
from tests.servers import (
    DEFAULT_TEXT,
    Behaviour,
    EmulatorProcess,
    EmulatorServer,
    Reply,
    parse_behaviour,
)
from tests.servers import llamacpp as llamacpp_module
from tests.servers.llamacpp import LlamaCppServer, LlamaCppUnavailable, ServedModel
from tests.servers.ollama_native import chat_plan
from tests.servers.tiny_gguf import write_tiny_llama

from nbchat import Conversation
from nbchat.messages import Message
from nbchat.providers.base import Timeouts
from nbchat.widget import BUSY_NOTICE, Chat

EmulatorFactory = typing.Callable[..., EmulatorServer]
RawFactory = typing.Callable[..., RawServer]

#: What was said before the fault; it must survive every fault and be sent afterwards.
HISTORY: list[Message] = [
    {"id": "h1", "role": "user", "content": "What is a closure?"},
    {"id": "h2", "role": "assistant", "content": "A function that keeps its scope."},
]
HISTORY_WIRE = [{"role": m["role"], "content": m["content"]} for m in HISTORY]


def chat_on(
    base_url: str,
    model: str = "ollama:llama3.2",
    *,
    idle: float | None = 60.0,
    messages: list[Message] | None = None,
) -> Chat:
    conversation = Conversation(
        model, base_url=base_url, timeouts=Timeouts(idle=idle), messages=messages
    )
    return Chat(conversation=conversation)


def contents(chat: Chat) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in chat.messages]


def reply_text(chat: Chat, reply_id: str) -> str:
    """The reply as the front end rebuilt it from deltas (offsets checked on the way)."""
    text = ""
    for msg in custom(chat):
        if msg.get("id") != reply_id:
            continue
        if msg["kind"] == "start":
            text = msg["text"]
        elif msg["kind"] == "delta" and "text" in msg:  # a delta carries only what changed
            assert msg["offset"] == len(text.encode("utf-16-le")) // 2
            text += msg["text"]
    return text


def last_reply_id(chat: Chat) -> str:
    return str(custom(chat, "start")[-1]["id"])


async def client_left(server: EmulatorServer, index: int = 0) -> bool:
    """Whether the client closed chat request ``index`` before its answer ended."""
    record = server.chat_requests[index]
    await until(record.done.is_set, "the server to finish the request")
    return record.client_left


def sent_history(request: typing.Any) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in request.json()["messages"]]


def assert_failed_in_one_line(chat: Chat, end: dict[str, typing.Any], *words: str) -> None:
    """The reply ended with an error the UI shows as one line; the chat says "error"."""
    assert end["kind"] == "error", end
    assert_one_line(end["message"], end["hint"])
    for word in words:
        assert word in f"{end['message']} {end['hint']}", end
    assert chat.status == "error"
    last = chat.messages[-1]
    assert last["role"] == "assistant"
    assert last["meta"]["error"] == end["message"]


@pytest.fixture(autouse=True)
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A fault is the user's news, not a log of tracebacks (nor a task that died unseen)."""
    with caplog.at_level(logging.WARNING):
        yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert bad == [], [r.getMessage() for r in bad]


# ---------------------------------------------------------------------------------------
# The server goes away.


def start_process(port: int, behaviour: str | None = None) -> EmulatorProcess:
    process = EmulatorProcess("ollama", behaviour=behaviour)
    process.argv += ["--port", str(port)]  # the restarted server must be where the first was
    return process.start()


@pytest.mark.usefixtures("recording_comm")
async def test_a_server_killed_mid_reply_then_down_then_restarted() -> None:
    port = free_port()
    process = start_process(port)
    try:
        chat = chat_on(process.root_url, model="ollama:llama3.2@tps=20")
        assert (await submit_and_wait(chat, "Hello?"))["kind"] == "done"

        from_ui(chat, kind="submit", text="Tell me more.")
        await until(lambda: bool(reply_text(chat, last_reply_id(chat))), "some text")
        os.kill(process.pid, signal.SIGKILL)
        end = await until_end(chat)
    finally:
        process.stop()
    assert_failed_in_one_line(chat, end, "broke")
    partial = chat.messages[-1]["content"]
    assert partial
    assert DEFAULT_TEXT.startswith(partial)
    assert partial != DEFAULT_TEXT
    assert partial == reply_text(chat, last_reply_id(chat))  # what was shown is what is kept

    # The server is gone: refused, in one line, before anything streams.
    end = await submit_and_wait(chat, "Are you there?")
    assert_failed_in_one_line(chat, end, "connection refused", f"127.0.0.1:{port}")

    # Restarted where it was: the next turn works and carries everything said so far
    # (the partial reply included; the exchange that never reached a server left out).
    with EmulatorServer("ollama", port=port) as restarted:
        end = await submit_and_wait(chat, "Now?")
        assert end["kind"] == "done"
        assert sent_history(restarted.chat_requests[0]) == [
            {"role": "user", "content": "Hello?"},
            {"role": "assistant", "content": DEFAULT_TEXT},
            {"role": "user", "content": "Tell me more."},
            {"role": "assistant", "content": partial},
            {"role": "user", "content": "Now?"},
        ]
    assert contents(chat) == [
        ("user", "Hello?"),
        ("assistant", DEFAULT_TEXT),
        ("user", "Tell me more."),
        ("assistant", partial),
        ("user", "Are you there?"),
        ("assistant", ""),
        ("user", "Now?"),
        ("assistant", DEFAULT_TEXT),
    ]
    assert chat.status == "idle"


async def until_end(chat: Chat) -> dict[str, typing.Any]:
    reply_id = last_reply_id(chat)
    await until(
        lambda: any(m.get("id") == reply_id for m in custom(chat, "done") + custom(chat, "error")),
        "the reply to end",
    )
    await until(lambda: chat.status != "streaming", "the chat to leave 'streaming'")
    return next(
        m for m in reversed(custom(chat)) if m["kind"] in ("done", "error") and m["id"] == reply_id
    )


@pytest.mark.llamacpp
@pytest.mark.usefixtures("recording_comm")
async def test_a_real_llama_cpp_server_killed_mid_reply_then_restarted(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = write_tiny_llama(tmp_path)
    served = [ServedModel("tiny", model, n_ctx=4096)]
    server = LlamaCppServer(served, workdir=tmp_path)
    try:
        server.start()
    except LlamaCppUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)  # a missing server is a failure, never a skip
    try:
        conversation = Conversation(
            # The tiny model never stops on its own: 2,000 tokens last about a second here.
            "openai:tiny",
            base_url=server.base_url,
            temperature=0.0,
            seed=7,
            max_tokens=2000,
        )
        chat = Chat(conversation=conversation)
        from_ui(chat, kind="submit", text="Tell me about llamas.")
        await until(lambda: len(reply_text(chat, last_reply_id(chat))) >= 3, "some text")
        assert server.pid is not None
        os.kill(server.pid, signal.SIGKILL)
        end = await until_end(chat)
    finally:
        server.stop()
    assert_failed_in_one_line(chat, end)
    assert end["message"].startswith("The connection to the OpenAI-compatible server broke")
    partial = chat.messages[-1]["content"]
    assert len(partial) >= 3

    # Restarted on the same port: the next turn is answered from the whole history, which a
    # deterministic non-streamed request with that history spelled out proves.
    port = server.port
    monkeypatch.setattr(llamacpp_module, "_free_port", lambda: port)
    chat.conversation.options["max_tokens"] = 64  # the next replies need not be long
    with LlamaCppServer(served, workdir=tmp_path) as again:
        end = await submit_and_wait(chat, "And now?")
        assert end["kind"] == "done"
        history = [
            {"role": "user", "content": "Tell me about llamas."},
            {"role": "assistant", "content": partial},
            {"role": "user", "content": "And now?"},
        ]
        async with httpx.AsyncClient(timeout=WAIT) as client:
            answer = await client.post(
                f"{again.base_url}/chat/completions",
                json={
                    "model": "tiny",
                    "messages": history,
                    "temperature": 0.0,
                    "seed": 7,
                    "max_tokens": 64,
                },
            )
    assert chat.messages[-1]["content"] == answer.json()["choices"][0]["message"]["content"]
    assert chat.messages[-1]["content"]
    assert contents(chat)[:2] == [("user", "Tell me about llamas."), ("assistant", partial)]


@pytest.mark.usefixtures("recording_comm")
async def test_connection_refused_then_the_server_comes_up_and_regenerate_retries() -> None:
    port = free_port()
    chat = chat_on(f"http://127.0.0.1:{port}", messages=HISTORY)

    end = await submit_and_wait(chat, "Still there?")
    assert_failed_in_one_line(chat, end, "connection refused", "ollama serve")
    assert contents(chat)[-2:] == [("user", "Still there?"), ("assistant", "")]

    with EmulatorServer("ollama", port=port) as server:
        end = await submit_and_wait(chat, "", kind="regenerate")
        assert end["kind"] == "done"
        assert sent_history(server.chat_requests[0]) == [
            *HISTORY_WIRE,
            {"role": "user", "content": "Still there?"},
        ]
    assert contents(chat) == [
        *[(m["role"], m["content"]) for m in HISTORY],
        ("user", "Still there?"),
        ("assistant", DEFAULT_TEXT),
    ]


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("dns", ("host name not found", "nbchat-reliability.invalid")),
        ("tls", ("TLS", "http://")),
    ],
)
@pytest.mark.usefixtures("recording_comm")
async def test_a_wrong_address_fails_in_one_line_and_the_history_moves_to_a_good_one(
    emulator: EmulatorFactory, fault: str, words: tuple[str, ...]
) -> None:
    server = emulator("ollama")
    bad = {
        "dns": "http://nbchat-reliability.invalid:11434",
        "tls": f"https://127.0.0.1:{server.port}",  # TLS spoken to a plain-HTTP port
    }[fault]
    chat = chat_on(bad, messages=HISTORY)

    end = await submit_and_wait(chat, "Still there?")
    assert_failed_in_one_line(chat, end, *words)
    assert server.chat_requests == []

    # The fix is the address: the saved conversation, pointed at the right one, goes on.
    fixed = Conversation.from_json(chat.conversation.to_json(), base_url=server.root_url)
    moved = Chat(conversation=fixed)
    end = await submit_and_wait(moved, "Still there?")
    assert end["kind"] == "done"
    assert sent_history(server.chat_requests[0]) == [
        *HISTORY_WIRE,
        {"role": "user", "content": "Still there?"},
    ]


# ---------------------------------------------------------------------------------------
# Stalls.


@pytest.mark.parametrize("flavour", ["ollama", "openai"])
@pytest.mark.usefixtures("recording_comm")
async def test_a_slow_first_token_is_waited_for_visibly_and_never_timed_out(
    emulator: EmulatorFactory, flavour: str
) -> None:
    # A model load: nothing (Ollama: not even the headers) for far longer than the idle
    # timeout, which only applies between tokens once the reply has started.
    server = emulator(flavour, behaviour="first_delay=1.5")
    chat = chat_on(server.base_url, f"{flavour}:llama3.2", idle=0.3)

    from_ui(chat, kind="submit", text="Load the model first.")
    await until(lambda: bool(server.chat_requests), "the request")
    # The waiting state: the reply has started (the view shows its typing indicator for a
    # started reply with no text), nothing has arrived, and the chat says "streaming".
    assert [m["kind"] for m in custom(chat)] == ["start"]
    assert chat.status == "streaming"

    end = await until_end(chat)
    assert end["kind"] == "done"
    reply = chat.messages[-1]
    assert reply["content"] == DEFAULT_TEXT
    assert reply["meta"]["ttft_s"] >= 1.4  # it waited 1.5 s; the idle timeout is 0.3 s


@pytest.mark.usefixtures("recording_comm")
async def test_a_stall_mid_reply_fires_the_idle_timeout_keeps_the_partial_and_continue_ends_it(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("ollama")
    stalled = Reply(tokens=["One", " two", " three", " four"], behaviour=Behaviour(stall_after=3))
    server.enqueue(stalled, Reply(text=" four."))
    chat = chat_on(server.root_url, idle=0.3)

    end = await submit_and_wait(chat, "Count.")
    assert_failed_in_one_line(chat, end, "sent nothing for 0.3 s", "text so far is kept")
    assert chat.messages[-1]["content"] == "One two three"
    assert await client_left(server)  # the stalled response was closed

    end = await submit_and_wait(chat, "", kind="continue")
    assert end["kind"] == "done"
    assert sent_history(server.chat_requests[1])[-1] == {
        "role": "assistant",
        "content": "One two three",
    }
    assert contents(chat) == [("user", "Count."), ("assistant", "One two three four.")]
    assert chat.status == "idle"


@pytest.mark.usefixtures("recording_comm")
async def test_a_byte_trickle_faster_than_the_idle_timeout_never_fires_it(
    raw_server: RawFactory,
) -> None:
    # One byte every 12.5 ms against an idle timeout of 250 ms (the "one byte a second
    # against a minute" case, scaled down): the first line alone takes longer than the
    # timeout to complete, so a timer per line or per token would fire; one per byte must not.
    body = plan_bytes(chat_plan(Reply(text="Slow but steady wins."), Behaviour(), "llama3.2"))
    server = raw_server("ollama")
    server.enqueue_raw(RawReply([*trickle(body[:160], every=0.0125), (0.0, body[160:])]))
    chat = chat_on(server.root_url, idle=0.25)

    end = await submit_and_wait(chat, "Go slowly.")

    assert end["kind"] == "done", end
    assert chat.messages[-1]["content"] == "Slow but steady wins."
    assert chat.messages[-1]["meta"]["ttft_s"] >= 1.0  # the first line took 8 idle timeouts


# ---------------------------------------------------------------------------------------
# Garbage.


def _good_lines(*pieces: str) -> bytes:
    """Complete NDJSON lines of an Ollama reply carrying ``pieces``, without the final line."""
    plan = chat_plan(Reply(tokens=list(pieces)), Behaviour(no_done=True), "llama3.2")
    return plan_bytes(plan)


def _noise() -> bytes:
    return random.Random(6).randbytes(8192)  # includes NULs, newlines and invalid UTF-8


TEN_MB = 10 * 1024 * 1024

GARBAGE: dict[str, tuple[str, RawReply | str, tuple[str, ...]]] = {
    # name: (flavour, the answer (raw bytes, or an emulator behaviour), words in the error)
    "binary noise": (
        "ollama",
        RawReply([(0, _good_lines("Kept", " text")), (0, _noise())]),
        ("Expected a JSON object per line",),
    ),
    "a truncated JSON line": (
        "ollama",
        RawReply([(0, _good_lines("Kept", " text")), (0, b'{"model":"llama3.2","message":{"con')]),
        ("Expected a JSON object per line",),
    ),
    "an HTML page with status 200 (NDJSON)": ("ollama", "html", ("Sign in · Corporate Proxy",)),
    "an HTML page with status 200 (SSE)": ("openai", "html", ("Sign in · Corporate Proxy",)),
    "a 10 MB line (NDJSON)": (
        "ollama",
        RawReply([(0, _good_lines("Kept", " text")), (0, b"A" * TEN_MB)]),
        ("AAAA",),
    ),
    "a 10 MB line (SSE)": (
        "openai",
        RawReply(
            [
                (0, b'data: {"choices":[{"index":0,"delta":{"content":"Kept text"}}]}\n\n'),
                (0, b"data: " + b"A" * TEN_MB + b"\n\n"),
            ],
            media="text/event-stream",
        ),
        ("Expected a JSON object in an event",),
    ),
    "an SSE stream with no [DONE] and no finish_reason": (
        "openai",
        "no_done,no_finish",
        ("ended before it was complete",),
    ),
    "an NDJSON stream with no done:true": ("ollama", "no_done", ("no final line",)),
}


@pytest.mark.parametrize("case", list(GARBAGE))
@pytest.mark.usefixtures("recording_comm")
async def test_garbage_is_one_line_keeps_what_came_and_the_next_turn_works(
    raw_server: RawFactory, case: str
) -> None:
    flavour, answer, words = GARBAGE[case]
    server = raw_server(flavour)
    if isinstance(answer, RawReply):
        server.enqueue_raw(answer)
        kept = "Kept text"
    else:
        server.enqueue(Reply(behaviour=parse_behaviour(answer)))
        kept = "" if answer == "html" else DEFAULT_TEXT
    chat = chat_on(server.base_url, f"{flavour}:llama3.2")

    end = await submit_and_wait(chat, "Hello?")

    assert_failed_in_one_line(chat, end, *words)
    assert chat.messages[-1]["content"] == kept
    end = await submit_and_wait(chat, "Again?")
    assert end["kind"] == "done"
    assert chat.messages[-1]["content"] == DEFAULT_TEXT
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "user", "assistant"]


@pytest.mark.usefixtures("recording_comm")
async def test_an_sse_stream_with_a_finish_reason_but_no_done_is_complete(
    emulator: EmulatorFactory,
) -> None:
    # finish_reason is the terminal marker; [DONE] after it adds nothing.
    server = emulator("openai", behaviour="no_done")
    chat = chat_on(server.base_url, "openai:gpt-4o-mini", idle=0.5)

    end = await submit_and_wait(chat, "Hello?")

    assert end["kind"] == "done"
    assert chat.messages[-1]["content"] == DEFAULT_TEXT
    assert chat.messages[-1]["meta"]["finish_reason"] == "stop"


# ---------------------------------------------------------------------------------------
# The user acts mid-reply.


@pytest.mark.usefixtures("recording_comm")
async def test_stop_mid_reply_closes_the_request_and_continue_appends(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("ollama")
    # Two pieces, then the server waits until the client goes away.
    story = Reply(tokens=["Once", " upon", " a", " time"], behaviour=Behaviour(stall_after=2))
    server.enqueue(story, Reply(text=" a time."))
    chat = chat_on(server.root_url)

    from_ui(chat, kind="submit", text="Tell a story.")
    await until(lambda: reply_text(chat, last_reply_id(chat)) == "Once upon", "two pieces")
    from_ui(chat, kind="stop")
    end = await until_end(chat)

    assert end["kind"] == "done"
    assert await client_left(server)  # Stop closed the response: the server stops
    stopped = chat.messages[-1]
    assert (stopped["content"], stopped["meta"]["stopped"]) == ("Once upon", True)
    assert chat.status == "idle"

    end = await submit_and_wait(chat, "", kind="continue")
    assert end["kind"] == "done"
    assert sent_history(server.chat_requests[1]) == [
        {"role": "user", "content": "Tell a story."},
        {"role": "assistant", "content": "Once upon"},
    ]
    assert contents(chat) == [("user", "Tell a story."), ("assistant", "Once upon a time.")]
    assert chat.messages[-1]["meta"]["stopped"] is False


@pytest.mark.usefixtures("recording_comm")
async def test_stop_while_waiting_for_the_first_token(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", behaviour="first_delay=30")
    chat = chat_on(server.root_url)

    from_ui(chat, kind="submit", text="Load and answer.")
    await until(lambda: bool(server.chat_requests), "the request")
    from_ui(chat, kind="stop")
    end = await until_end(chat)

    assert end["kind"] == "done"
    assert await client_left(server)
    assert contents(chat) == [("user", "Load and answer."), ("assistant", "")]
    assert chat.messages[-1]["meta"]["stopped"] is True


@pytest.mark.usefixtures("recording_comm")
async def test_a_double_submit_sends_one_request_and_says_why(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", behaviour="tps=40")
    chat = chat_on(server.root_url)

    from_ui(chat, kind="submit", text="Once")
    from_ui(chat, kind="submit", text="Once")  # the same click, twice
    assert [m["text"] for m in custom(chat, "notice")] == [BUSY_NOTICE]
    await until_end(chat)

    assert len(server.chat_requests) == 1
    assert contents(chat) == [("user", "Once"), ("assistant", DEFAULT_TEXT)]
    assert reply_text(chat, last_reply_id(chat)) == DEFAULT_TEXT  # never interleaved


@pytest.mark.usefixtures("recording_comm")
async def test_closing_the_widget_mid_stream_closes_the_request_and_keeps_the_history(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("ollama")
    server.enqueue(Reply(tokens=["Half", " a", " reply"], behaviour=Behaviour(stall_after=2)))
    chat = chat_on(server.root_url)

    from_ui(chat, kind="submit", text="Go.")
    await until(lambda: reply_text(chat, last_reply_id(chat)) == "Half a", "two pieces")
    chat.close()
    await until(lambda: chat.conversation.current is None, "the turn to end")

    assert await client_left(server)
    kept = chat.conversation.messages
    assert [(m["role"], m["content"]) for m in kept] == [("user", "Go."), ("assistant", "Half a")]
    assert kept[-1]["meta"]["stopped"] is True

    # The conversation outlives its widget: a new one shows it and goes on.
    again = Chat(conversation=chat.conversation)
    end = await submit_and_wait(again, "And?")
    assert end["kind"] == "done"
    assert sent_history(server.chat_requests[1])[:2] == [
        {"role": "user", "content": "Go."},
        {"role": "assistant", "content": "Half a"},
    ]


# ---------------------------------------------------------------------------------------
# In a real kernel.


def _customs(kernel: KernelSession, comm_id: str) -> list[dict[str, typing.Any]]:
    out = []
    for msg in kernel.comm_messages([comm_id]):
        content = widget_custom(msg)
        if content is not None:
            out.append(content)
    return out


def _errors(messages: list[dict[str, typing.Any]]) -> list[dict[str, typing.Any]]:
    return [
        m
        for m in messages
        if m["msg_type"] == "error"
        or (m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
    ]


@pytest.mark.kernel
def test_a_kernel_interrupt_while_a_magic_waits_for_its_first_token(
    kernel: KernelSession,
) -> None:
    with EmulatorServer("ollama") as server:
        reply, _ = kernel.execute("%load_ext nbchat")
        assert reply["status"] == "ok"
        msg_id = kernel.send_execute(
            f"%%chat ollama:llama3.2@first_delay=60 --base-url {server.root_url}\nHello?"
        )
        assert server.wait_for(lambda: bool(server.chat_requests), WAIT)
        # The waiting state is on screen: the live view, with a reply started and no text.
        kernel.wait(
            lambda: any(
                (widget_custom(m) or {}).get("kind") == "start" for m in kernel.children(msg_id)
            )
        )
        kernel.manager.interrupt_kernel()
        reply = kernel.reply(msg_id)["content"]

        assert (reply["status"], reply["ename"]) == ("error", "KeyboardInterrupt")
        assert server.chat_requests[0].done.wait(WAIT)
        assert server.chat_requests[0].client_left  # the interrupt closed the request
        kernel.wait(lambda: any(m["msg_type"] == "error" for m in kernel.children(msg_id)))
        (error,) = [m["content"] for m in kernel.children(msg_id) if m["msg_type"] == "error"]
        assert len(error["traceback"]) == 1  # one line, no traceback

        reply, messages = kernel.execute("%chat ollama:llama3.2 And now?")
        assert reply["status"] == "ok"
        # The stopped exchange had no text: it is shown, but not sent again.
        assert sent_history(server.chat_requests[1]) == [{"role": "user", "content": "And now?"}]
        shown = [m for m in messages if m["msg_type"] == "update_display_data"]
        assert DEFAULT_TEXT in shown[-1]["content"]["data"]["text/markdown"]


@pytest.mark.kernel
def test_rerunning_the_cell_of_a_streaming_chat(kernel: KernelSession) -> None:
    seen = len(kernel.iopub)
    with EmulatorServer("ollama") as server:
        cell = (
            "import json, nbchat\n"
            f"chat = nbchat.Chat('ollama:llama3.2@tps=20', base_url='{server.root_url}')\n"
            "print(json.dumps(chat.model_id))"
        )
        first = kernel.value(cell)
        kernel.to_widget(first, {"kind": "submit", "text": "Hello?"})
        kernel.wait(lambda: any(m["kind"] == "delta" for m in _customs(kernel, first)))

        # Run the cell again while the reply streams: a new chat, at once.
        msg_id = kernel.send_execute(cell)
        assert kernel.reply(msg_id, timeout=5.0)["content"]["status"] == "ok"
        kernel.wait(lambda: any(m["msg_type"] == "stream" for m in kernel.children(msg_id)))
        (printed,) = [m for m in kernel.children(msg_id) if m["msg_type"] == "stream"]
        second = json.loads(printed["content"]["text"])
        assert second != first
        kernel.to_widget(second, {"kind": "submit", "text": "Hi again."})

        # The old reply runs to its end untouched; the new chat answers too.
        for comm_id in (first, second):
            kernel.wait(lambda c=comm_id: any(m["kind"] == "done" for m in _customs(kernel, c)))  # type: ignore[misc]
            deltas = [m for m in _customs(kernel, comm_id) if m["kind"] == "delta"]
            text = "".join(m.get("text", "") for m in deltas)
            assert text == DEFAULT_TEXT
        assert len(server.chat_requests) == 2
        assert _errors(kernel.iopub[seen:]) == []
