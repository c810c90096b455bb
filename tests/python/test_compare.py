"""nbchat.Compare: several models answering one prompt at once, over real HTTP to the
loopback emulators (different speeds, one failing mid-reply, one unreachable), with a comm
that records what each widget sends and when."""

from __future__ import annotations

import time
import typing
from collections.abc import Callable

import pytest
from tests.comms import custom, from_ui, wire
from tests.ports import free_port
from tests.python.widget_rig import until

import nbchat
from nbchat.errors import InvalidRequest, NbchatError, ServerError, ServerUnreachable
from nbchat.session import Conversation
from nbchat.widget import Chat
from nbchat.widget._compare import DELTAS_PER_S
from nbchat.widget._compare_text import exchange_markdown, figures, marks

if typing.TYPE_CHECKING:
    from tests.servers.server import EmulatorServer

TEXT = "one two three four five six seven eight nine ten eleven twelve"


@pytest.fixture(autouse=True)
def _recorded(recording_comm: None) -> None:
    """Every widget in this module gets a :class:`tests.comms.RecordingComm`."""


@pytest.fixture
def server(
    emulator: Callable[..., EmulatorServer], monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    """An Ollama emulator that ``"ollama:<model>"`` resolves to, as ``Chat(model)`` would."""
    srv = emulator("ollama")
    monkeypatch.setenv("OLLAMA_HOST", srv.root_url)
    return srv


def sent(widget: typing.Any) -> list[float]:
    """When each comm message after comm_open went out."""
    return [s.time for s in wire(widget).log if s.msg_type == "comm_msg"]


def max_per_second(times: list[float]) -> int:
    """The most messages in any one-second window."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_ask_streams_every_model_at_once_and_returns_each_reply(server: EmulatorServer) -> None:
    text = f"text={TEXT.replace(' ', '%20')}"
    cmp = nbchat.Compare(
        [f"ollama:llama3.2@tps=30,{text}", f"ollama:qwen3@tps=10,{text}"], system="Be brief."
    )
    assert cmp.models == [f"ollama:llama3.2@tps=30,{text}", f"ollama:qwen3@tps=10,{text}"]
    started = time.monotonic()
    out = cmp.ask("Count.")
    took = time.monotonic() - started
    assert list(out.values()) == [TEXT, TEXT]
    # Together, not one after the other (that takes 12/30 + 12/10 s).
    assert took < 12 / 30 + 12 / 10
    slow, fast = cmp.columns[1], cmp.columns[0]
    # The slow column was already streaming when the fast one finished.
    fast_done = next(
        s.time for s in wire(fast).log if s.data.get("content", {}).get("kind") == "done"
    )
    slow_deltas = [
        s.time for s in wire(slow).log if s.data.get("content", {}).get("kind") == "delta"
    ]
    assert slow_deltas[0] < fast_done < slow_deltas[-1]
    # Each request went to its own model with the system prompt; each column keeps its history.
    bodies = [r.json() for r in server.chat_requests]
    assert sorted(b["model"].split("@")[0] for b in bodies) == ["llama3.2", "qwen3"]
    assert all(b["messages"][0] == {"role": "system", "content": "Be brief."} for b in bodies)
    for column in cmp.columns:
        assert [m["role"] for m in column.messages] == ["user", "assistant"]
        meta = column.messages[-1]["meta"]
        assert meta["tokens"] > 0
        assert meta["ttft_s"] > 0
        assert meta["elapsed_s"] > 0


def test_a_failure_mid_reply_and_an_unreachable_server_stay_in_their_columns(
    server: EmulatorServer,
) -> None:
    dead = Conversation("ollama:llama3.2", base_url=f"http://127.0.0.1:{free_port()}")
    cmp = nbchat.Compare(["ollama:llama3.2@tps=40", "ollama:qwen3@tps=40,error_after=3", dead])
    out = cmp.ask("Hello")
    good, failed, unreachable = (out[label] for label in cmp.models)
    assert isinstance(good, str)
    assert good.startswith("Hello from the")
    assert isinstance(failed, ServerError)
    assert failed.partial == "".join(failed.partial)
    assert len(failed.partial.split()) >= 2
    assert isinstance(unreachable, ServerUnreachable)
    # Each column shows its own end: done, error (partial text kept), error.
    assert [len(custom(c, "done")) for c in cmp.columns] == [1, 0, 0]
    assert [len(custom(c, "error")) for c in cmp.columns] == [0, 1, 1]
    kept = cmp.columns[1].messages[-1]
    assert kept["content"] == failed.partial
    assert kept["meta"]["error"]
    assert [c.status for c in cmp.columns] == ["idle", "error", "error"]
    # A follow-up goes to every model, each with its own history.
    again = cmp.ask("Again")
    assert isinstance(again[cmp.models[0]], str)
    history = server.chat_requests[-1].json()["messages"]
    assert [m["role"] for m in history][-3:] == ["user", "assistant", "user"]


def test_entries_labels_and_columns_as_chats(server: EmulatorServer) -> None:
    own = Conversation("demo:echo")
    cmp = nbchat.Compare(["demo:echo", own, "demo:echo", "demo:math"])
    assert cmp.models == ["demo:echo", "demo:echo #2", "demo:echo #3", "demo:math"]
    assert cmp.conversations["demo:echo #2"] is own
    out = cmp.ask("ping")
    assert out["demo:echo"] == out["demo:echo #3"] == "ping"
    chat = cmp.chat("demo:echo #2")
    assert isinstance(chat, Chat)
    assert chat.conversation is own
    assert [m["content"] for m in chat.messages] == ["ping", "ping"]
    assert cmp.choose("demo:math") is cmp.chat("demo:math")
    assert cmp.chosen == 3
    with pytest.raises(InvalidRequest):
        cmp.chat("demo:nope")
    with pytest.raises(InvalidRequest):
        nbchat.Compare("demo:echo")
    with pytest.raises(InvalidRequest):
        nbchat.Compare([])
    # Four columns: each delta channel waits 4/18 s between deltas (18 a second in all).
    assert all(c._turns.interval == pytest.approx(4 / DELTAS_PER_S) for c in cmp.columns)
    assert "## `demo:math`" in cmp.to_markdown()


def test_three_fast_streams_stay_under_30_comm_messages_a_second(server: EmulatorServer) -> None:
    # 600 tokens each at 200 a second: three seconds of three streams.
    models = [f"ollama:llama3.2@tps=200,repeat=200,text=w{i}%20x%20y%20" for i in range(3)]
    cmp = nbchat.Compare(models)
    out = cmp.ask("Go")
    assert all(isinstance(v, str) and len(v.split()) == 600 for v in out.values()), out
    times = sent(cmp) + [t for c in cmp.columns for t in sent(c)]
    assert max_per_second(times) <= 30, max_per_second(times)
    # And every column's text still arrived in many deltas, not one at the end.
    assert all(len(custom(c, "delta")) >= 4 for c in cmp.columns)


async def test_the_input_asks_every_column_at_once_and_stop_stops_all(
    server: EmulatorServer,
) -> None:
    cmp = nbchat.Compare(["ollama:llama3.2@tps=20", "ollama:qwen3@tps=20", "demo:long"])
    from_ui(cmp, kind="submit", text="Tell me")
    await until(lambda: all(len(custom(c, "delta")) > 0 for c in cmp.columns))
    assert [c.status for c in cmp.columns] == ["streaming"] * 3
    from_ui(cmp, kind="submit", text="again")  # refused: replies are streaming
    assert custom(cmp) == [{"kind": "notice", "text": nbchat.widget.BUSY_NOTICE}]
    from_ui(cmp, kind="stop")
    await until(lambda: all(len(custom(c, "done")) == 1 for c in cmp.columns))
    await until(lambda: all(c.status == "idle" for c in cmp.columns))
    assert all(c.messages[-1]["meta"]["stopped"] for c in cmp.columns)


async def test_a_column_stops_alone_and_continue_with_this_one(server: EmulatorServer) -> None:
    cmp = nbchat.Compare(["ollama:llama3.2@tps=20", "ollama:qwen3@tps=30"])
    from_ui(cmp, kind="submit", text="Tell me")
    await until(lambda: all(len(custom(c, "delta")) > 0 for c in cmp.columns))
    from_ui(cmp.columns[0], kind="stop")  # the column's own Stop
    await until(lambda: len(custom(cmp.columns[0], "done")) == 1)
    assert cmp.columns[1].status == "streaming"
    await until(lambda: len(custom(cmp.columns[1], "done")) == 1)
    partial = cmp.columns[0].messages[-1]
    assert partial["meta"]["stopped"]
    assert not cmp.columns[1].messages[-1]["meta"]["stopped"]
    from_ui(cmp.columns[0], kind="continue")  # and its own Continue
    await until(lambda: len(custom(cmp.columns[0], "done")) == 2)
    continued = cmp.columns[0].messages[-1]
    assert continued["id"] == partial["id"]
    assert continued["content"].startswith(partial["content"])
    assert len(continued["content"]) > len(partial["content"])
    from_ui(cmp, kind="choose", column=1)
    assert cmp.chosen == 1


def test_figures_marks_and_the_exchange_transcript() -> None:
    fast = {"ttft_s": 0.1, "tokens": 10, "tokens_per_s": 50.0, "elapsed_s": 0.5}
    slow = {"ttft_s": 0.3, "tokens": 10, "tokens_per_s": 20.0, "elapsed_s": 0.4}
    failed = {"ttft_s": 0.01, "elapsed_s": 0.02, "error": "boom"}
    assert figures(fast) == "first token 0.10 s · 10 tokens · 50.0 tok/s · 0.5 s total"  # type: ignore[arg-type]
    assert marks([fast, slow, failed, None]) == [  # type: ignore[list-item]
        ["fastest first token"],
        ["fastest finish"],
        [],
        [],
    ]
    assert marks([fast, None]) == [[], []]  # type: ignore[list-item]
    md = exchange_markdown(
        "Hi *there*",
        [
            ("a:one", {"id": "1", "role": "assistant", "content": "A", "meta": fast}),  # type: ignore[list-item]
            ("b:two", {"id": "2", "role": "assistant", "content": "B", "meta": slow}),  # type: ignore[list-item]
            ("c:three", None),
        ],
    )
    assert md.index("#### `a:one`") < md.index("\nA\n") < md.index("#### `b:two`")
    assert "fastest first token" in md
    assert "0.4 s total · fastest finish" in md
    assert "*no reply*" in md


def test_an_error_keeps_the_partial_text_on_the_error(server: EmulatorServer) -> None:
    cmp = nbchat.Compare(["ollama:qwen3@error_after=2"])
    error = cmp.ask("Hi")["ollama:qwen3@error_after=2"]
    assert isinstance(error, NbchatError)
    assert error.partial
    assert error.partial == cmp.columns[0].messages[-1]["content"]


def test_the_magic_with_several_models_streams_then_leaves_replies_one_after_another(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from nbchat import magics

    ip: typing.Any = InteractiveShell.instance()
    magics.load_ipython_extension(ip)
    try:
        chat_magics = ip.magics_manager.registry["ChatMagics"]
        monkeypatch.setattr(chat_magics, "output", "widget")
        cell = "%%chat ollama:llama3.2@tps=50,ollama:qwen3@error_after=2\nExplain a monad."
        with capture_output() as cap:
            result = ip.run_cell(cell)
        assert result.error_in_exec is None  # one model failing does not fail the cell
        live, final = cap.outputs
        assert live.data["application/vnd.jupyter.widget-view+json"]["model_id"]
        assert final.update
        markdown = final.data["text/markdown"]
        first = markdown.index("#### `ollama:llama3.2@tps=50`")
        second = markdown.index("#### `ollama:qwen3@error_after=2`")
        assert markdown.index("Explain a monad.") < first < second
        assert "first token" in markdown[first:second]
        assert "tok/s" in markdown[first:second]
        assert "**Error:**" in markdown[second:]
        # The same models in the next cell go on with the same comparison.
        compare = chat_magics.session.compare
        with capture_output():
            ip.run_cell("%%chat ollama:llama3.2@tps=50,ollama:qwen3@error_after=2\nAnd?")
        assert chat_magics.session.compare is compare
        assert len(compare.columns[0].conversation.messages) == 4
    finally:
        magics.unload_ipython_extension(ip)
