"""The tool loop in one turn, on scripted replies: call → approval → run → result → the next
request, until text; parallel calls, invalid calls, the step limit, Stop at every point,
Continue, and the whole exchange kept as history."""

from __future__ import annotations

import asyncio
import json
import pathlib
import threading
import typing
from collections.abc import Sequence

import pytest

import nbchat
from nbchat import testing, transcript
from nbchat.errors import InvalidRequest, StepLimitReached
from nbchat.messages import Message
from nbchat.providers.base import ToolCall
from nbchat.session import Conversation, ToolUpdate
from nbchat.session._loop import STOPPED_BEFORE, STOPPED_DURING
from nbchat.tools import Decision, PendingCall
from nbchat.tools.notebook import run_python

WAIT = 10.0


def call(
    name: str = "weather", arguments: object = None, id: str | None = "c1", index: int = 0
) -> ToolCall:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {"city": "Paris"})
    return ToolCall(index=index, name=name, arguments=text, id=id)


class Weather:
    """A tool that records its calls (and the thread it ran on)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, city: str) -> dict[str, object]:
        """Current weather for a city.

        Args:
            city: The city.
        """
        self.calls.append(city)
        self.threads.append(threading.current_thread())
        return {"city": city, "temp": 21}


def weather_tool() -> Weather:
    tool = Weather()
    tool.__name__ = "weather"  # type: ignore[attr-defined]
    return tool


class Answers:
    """An asker that answers from a list, and records what it was asked."""

    def __init__(self, *answers: Decision) -> None:
        self.answers = list(answers)
        self.asked: list[list[str]] = []

    async def ask(self, calls: Sequence[PendingCall]) -> list[Decision]:
        self.asked.append([c.id for c in calls])
        return [self.answers.pop(0) for _ in calls]


class Never:
    """An asker that never answers (a user who walked away)."""

    def __init__(self) -> None:
        self.waiting = threading.Event()

    async def ask(self, calls: Sequence[PendingCall]) -> list[Decision]:
        self.waiting.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def stop_when(event: threading.Event, turn: nbchat.Turn) -> None:
    """Press Stop (from another thread, as a user would) once ``event`` is set."""

    def stop() -> None:
        assert event.wait(WAIT)
        turn.stop()

    threading.Thread(target=stop, daemon=True).start()


def tool_messages(request: typing.Any) -> list[dict[str, object]]:
    return [dict(m) for m in request.messages if m["role"] == "tool"]


def parts(message: Message) -> list[tuple[str, str]]:
    out = []
    for part in message.get("parts", []):
        if part["type"] == "text":
            out.append(("text", part["text"]))
        elif part["type"] == "tool_call":
            out.append(("call", part["id"]))
        elif part["type"] == "tool_result":
            out.append(("result", f"{part['call_id']}:{part.get('status')}"))
    return out


# ---------------------------------------------------------------------------------------
# The loop.


def test_a_call_runs_and_its_result_goes_back_until_the_model_answers_in_text() -> None:
    weather = weather_tool()
    script = testing.script(["Let me look. ", call()], "It is 21 °C.")
    chat = Conversation(script.model, tools=[weather], approve="always")

    events = list(chat.prompt("Weather in Paris?"))

    assert weather.calls == ["Paris"]
    first, second = script.requests
    assert [t["name"] for t in first.tools] == ["weather"]
    assert [dict(m) for m in second.messages] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "Let me look. ",
            "tool_calls": [{"id": "c1", "name": "weather", "arguments": '{"city": "Paris"}'}],
        },
        {
            "role": "tool",
            "content": '{"city": "Paris", "temp": 21}',
            "tool_call_id": "c1",
            "tool_name": "weather",
        },
    ]
    reply = chat.messages[-1]
    assert reply["content"] == "Let me look. It is 21 °C."  # one message for the turn
    assert parts(reply) == [
        ("text", "Let me look. "),
        ("call", "c1"),
        ("result", "c1:done"),
        ("text", "It is 21 °C."),
    ]
    updates = [(e.status, e.at) for e in events if isinstance(e, ToolUpdate)]
    assert updates == [("running", 13), ("done", 13)]
    assert reply["meta"]["finish_reason"] == "stop"


def test_parallel_calls_are_all_decided_before_any_runs() -> None:
    weather = weather_tool()
    order: list[str] = []
    asker = Answers(Decision(True), Decision(False, "not Rome"))
    original = asker.ask

    async def ask(calls: Sequence[PendingCall]) -> list[Decision]:
        order.append(f"asked {len(calls)}")
        assert weather.calls == []  # nothing ran yet
        return await original(calls)

    asker.ask = ask  # type: ignore[method-assign]
    script = testing.script(
        [call(arguments={"city": "Paris"}), call(arguments={"city": "Rome"}, id="c2", index=1)],
        "Done.",
    )
    chat = Conversation(script.model, tools=[weather])
    turn = chat.prompt("Both?")
    turn.asker = asker
    turn.result()

    assert order == ["asked 2"]
    assert asker.asked == [["c1", "c2"]]
    assert weather.calls == ["Paris"]
    results = tool_messages(script.requests[1])
    assert [r["content"] for r in results] == [
        '{"city": "Paris", "temp": 21}',
        "The user declined this call: not Rome",
    ]


def test_invalid_calls_never_reach_the_function_and_the_model_is_told_why() -> None:
    weather = weather_tool()
    script = testing.script(
        [
            call(name="forecast", id="a"),
            call(arguments='{"city": "Par', id="b", index=1),
            call(arguments={"town": "Paris"}, id="c", index=2),
        ],
        "Sorry.",
    )
    chat = Conversation(script.model, tools=[weather], approve="always")
    chat.prompt("Weather?").result()

    assert weather.calls == []
    contents = [r["content"] for r in tool_messages(script.requests[1])]
    assert contents[0] == "Unknown tool 'forecast'. The tools are: weather."
    assert str(contents[1]).startswith("The arguments of weather are not valid JSON")
    assert contents[2] == "Invalid arguments for weather: 'city' is required."
    statuses = [p.get("status") for p in chat.messages[-1]["parts"] if p["type"] == "tool_result"]
    assert statuses == ["invalid"] * 3


def test_a_tool_that_raises_sends_one_line_and_keeps_the_traceback_for_the_user() -> None:
    def lookup(city: str) -> str:
        """Look up."""
        raise KeyError(f"no city {city!r}")

    script = testing.script([call(name="lookup")], "Oh.")
    chat = Conversation(script.model, tools=[lookup], approve="always")
    chat.prompt("?").result()

    (result,) = tool_messages(script.requests[1])
    assert result["content"] == "KeyError: \"no city 'Paris'\""
    recorded = next(p for p in chat.messages[-1]["parts"] if p["type"] == "tool_result")
    assert recorded["status"] == "failed"
    assert 'raise KeyError(f"no city {city!r}")' in recorded["detail"]


def test_a_model_that_calls_forever_is_stopped_by_the_step_limit() -> None:
    weather = weather_tool()
    script = testing.script([call()])  # every request gets the same call
    chat = Conversation(script.model, tools=[weather], approve="always", max_steps=3)
    turn = chat.prompt("Loop")

    with pytest.raises(StepLimitReached) as caught:
        turn.result()

    assert len(script.requests) == 3
    assert len(weather.calls) == 2
    assert caught.value.message == "The model kept calling tools: this reply stopped after 3 steps."
    reply = chat.messages[-1]
    assert reply["meta"]["error"] == caught.value.message
    statuses = [p.get("status") for p in reply["parts"] if p["type"] == "tool_result"]
    assert statuses == ["done", "done", "skipped"]
    # Continue lets it go on: the skipped call's note is what the model reads.
    script.replies.append("Enough.")
    resumed = chat.resume()
    resumed.result()
    assert tool_messages(script.requests[3])[-1]["content"] == (
        "Not run: this reply reached its limit of 3 model steps."
    )
    with pytest.raises(InvalidRequest, match="max_steps"):
        Conversation(script.model, max_steps=0)


def test_calls_with_no_tools_registered_are_carried_not_run() -> None:
    script = testing.script([call()])
    chat = Conversation(script.model)
    turn = chat.prompt("?")
    turn.result()
    assert len(script.requests) == 1
    assert [c.name for c in turn.tool_calls] == ["weather"]
    assert "parts" not in chat.messages[-1]


def test_tools_added_or_removed_count_from_the_next_request() -> None:
    weather = weather_tool()
    script = testing.script([call()], "ok", "ok")
    chat = Conversation(script.model, tools=[weather], approve="always")
    chat.prompt("?").result()
    chat.tools.remove("weather")
    chat.prompt("again").result()
    assert [len(r.tools) for r in script.requests] == [1, 1, 0]


def test_sync_tools_run_on_the_consuming_thread_async_ones_are_awaited() -> None:
    weather = weather_tool()
    seen: list[str] = []

    async def slow(seconds: float) -> str:
        """Wait."""
        await asyncio.sleep(seconds)
        seen.append(threading.current_thread().name)
        return "waited"

    script = testing.script(
        [call(), call(name="slow", arguments={"seconds": 0.01}, id="c2", index=1)], "ok"
    )
    chat = Conversation(script.model, tools=[weather, slow], approve="always")
    chat.prompt("?").result()  # iterated here: the provider runs on nbchat's worker thread
    assert weather.threads == [threading.current_thread()]
    assert seen == ["nbchat-worker"]


# ---------------------------------------------------------------------------------------
# Approval.


def test_ask_where_nobody_can_answer_means_no_with_that_reason() -> None:
    weather = weather_tool()
    script = testing.script([call()], "ok")
    chat = Conversation(script.model, tools=[weather])  # approve="ask"; pytest has no tty
    chat.prompt("?").result()
    assert weather.calls == []
    (result,) = tool_messages(script.requests[1])
    assert str(result["content"]).startswith(
        "The call was not run: nobody can approve tool calls here (no terminal or stdin"
    )


def test_ask_on_a_terminal_reads_the_answer_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    weather = weather_tool()
    questions: list[str] = []
    answers = iter(["a", "because"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)

    def fake_input(question: str) -> str:
        questions.append(question)
        return next(answers)

    monkeypatch.setattr("builtins.input", fake_input)
    script = testing.script(
        [call(), call(name="run_python", arguments={"code": "1"}, id="c2", index=1)],
        "ok",
        [call(id="c3")],
        "ok",
    )
    chat = Conversation(script.model, tools=[weather, run_python])
    chat.prompt("?").result()
    chat.prompt("again").result()

    assert questions[0].startswith('nbchat: the model wants to call weather({"city": "Paris"}).')
    assert "[a]lways allow weather" in questions[0]
    assert "[a]lways" not in questions[1]  # run_python asks every time
    assert len(questions) == 2  # "Always allow weather" held for the second turn
    assert weather.calls == ["Paris", "Paris"]
    assert tool_messages(script.requests[1])[1]["content"] == "The user declined this call: because"
    assert chat.approval.always_allowed == {"weather"}


def test_an_approve_function_decides_with_an_optional_reason() -> None:
    weather = weather_tool()
    asked: list[tuple[str, dict[str, object]]] = []

    def approve(name: str, arguments: dict[str, object]) -> bool | tuple[bool, str]:
        asked.append((name, arguments))
        return (False, "Rome is off limits") if arguments["city"] == "Rome" else True

    script = testing.script(
        [call(arguments={"city": "Paris"}), call(arguments={"city": "Rome"}, id="c2", index=1)],
        "ok",
    )
    chat = Conversation(script.model, tools=[weather], approve=approve)
    chat.prompt("?").result()
    assert asked == [("weather", {"city": "Paris"}), ("weather", {"city": "Rome"})]
    assert weather.calls == ["Paris"]
    assert tool_messages(script.requests[1])[1]["content"] == (
        "The call was not approved (by the chat's approval policy): Rome is off limits"
    )
    with pytest.raises(InvalidRequest, match="approve must be"):
        Conversation(script.model, approve="sometimes")  # type: ignore[arg-type]


def test_run_python_asks_on_every_call_even_under_always() -> None:
    script = testing.script([call(name="run_python", arguments={"code": "x = 6 * 7\nx"})], "ok")
    chat = Conversation(script.model, tools=[run_python], approve="always")
    turn = chat.prompt("?")
    asker = Answers(Decision(True, always=True))
    turn.asker = asker
    turn.result()
    assert asker.asked == [["c1"]]
    assert chat.approval.always_allowed == set()  # never "always" for it
    assert json.loads(str(tool_messages(script.requests[1])[0]["content"])) == {"result": "42"}


# ---------------------------------------------------------------------------------------
# Stop at every point, and Continue.


def test_stop_while_streaming_keeps_the_text_and_records_no_call() -> None:
    script = testing.script(["Let me ", testing.STALL])
    chat = Conversation(script.model, tools=[weather_tool()], approve="always")
    turn = chat.prompt("?")
    stop_when(script.stalled, turn)
    turn.result()
    assert turn.status == "stopped"
    assert chat.messages[-1]["content"] == "Let me "
    assert "parts" not in chat.messages[-1]


def test_stop_while_waiting_for_approval_declines_the_calls_and_runs_nothing() -> None:
    weather = weather_tool()
    script = testing.script([call(), call(id="c2", index=1)], "never asked")
    chat = Conversation(script.model, tools=[weather])
    turn = chat.prompt("?")
    never = Never()
    turn.asker = never
    stop_when(never.waiting, turn)
    turn.result()

    assert turn.status == "stopped"
    assert weather.calls == []
    assert len(script.requests) == 1
    reply = chat.messages[-1]
    assert parts(reply) == [
        ("call", "c1"),
        ("call", "c2"),
        ("result", "c1:stopped"),
        ("result", "c2:stopped"),
    ]
    assert reply["parts"][2] == {
        "type": "tool_result",
        "call_id": "c1",
        "name": "weather",
        "content": STOPPED_BEFORE,
        "status": "stopped",
    }
    assert reply["meta"]["stopped"] is True


def test_stop_while_an_async_tool_runs_cancels_it() -> None:
    started = threading.Event()
    cleaned = threading.Event()

    async def download(url: str) -> str:
        """Download."""
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()
        return "never"

    script = testing.script([call(name="download", arguments={"url": "x"})], "never asked")
    chat = Conversation(script.model, tools=[download], approve="always")
    turn = chat.prompt("?")
    stop_when(started, turn)
    turn.result()
    assert cleaned.is_set()
    assert turn.status == "stopped"
    assert len(script.requests) == 1
    result = chat.messages[-1]["parts"][-1]
    assert (result["type"], result.get("status"), result.get("content")) == (
        "tool_result",
        "stopped",
        STOPPED_DURING,
    )


def test_stop_while_a_sync_tool_runs_stops_after_it_returns() -> None:
    holder: list[nbchat.Turn] = []
    ran: list[str] = []

    def slow(n: int) -> str:
        """Slow."""
        ran.append(f"slow {n}")
        holder[0].stop()  # a Stop pressed while it runs
        return "finished anyway"

    script = testing.script(
        [
            call(name="slow", arguments={"n": 1}),
            call(name="slow", arguments={"n": 2}, id="c2", index=1),
        ],
        "never asked",
    )
    chat = Conversation(script.model, tools=[slow], approve="always")
    turn = chat.prompt("?")
    holder.append(turn)
    turn.result()
    assert ran == ["slow 1"]
    assert turn.status == "stopped"
    assert len(script.requests) == 1
    results = [p for p in chat.messages[-1]["parts"] if p["type"] == "tool_result"]
    assert [(r["content"], r.get("status")) for r in results] == [
        ("finished anyway", "done"),
        (STOPPED_BEFORE, "stopped"),
    ]


def test_continue_after_a_stop_resumes_the_loop() -> None:
    weather = weather_tool()
    script = testing.script([call(), call(id="c2", index=1)], "It is 21.")
    chat = Conversation(script.model, tools=[weather], approve="always")
    turn = chat.prompt("?")
    never = Never()
    turn.asker = never
    chat.approval.policy = "ask"
    stop_when(never.waiting, turn)
    turn.result()

    resumed = chat.resume()
    assert resumed.result() == "It is 21."
    follow_up = script.requests[-1].messages
    assert [m["role"] for m in follow_up] == ["user", "assistant", "tool", "tool"]
    reply = chat.messages[-1]
    assert reply["id"] == turn.id
    assert len(chat.messages) == 2  # the same message, appended
    assert parts(reply)[-1] == ("text", "It is 21.")


# ---------------------------------------------------------------------------------------
# History: later turns, save/load, exports.


def test_the_exchange_is_history_on_later_turns_and_survives_save_and_load(
    tmp_path: pathlib.Path,
) -> None:
    weather = weather_tool()
    script = testing.script(["Checking. ", call()], "21 °C.", "You are welcome.")
    chat = Conversation(script.model, tools=[weather], approve="always")
    chat.prompt("Weather?").result()
    chat.approval.always_allowed.add("weather")
    path = tmp_path / "talk.json"
    chat.save(str(path))

    loaded = Conversation.load(str(path), tools=[weather])
    assert loaded.messages == chat.messages  # lossless
    assert loaded.approval.always_allowed == set()  # never saved
    assert "always" not in path.read_text(encoding="utf-8")
    loaded.prompt("Thanks").result()
    assert [m["role"] for m in script.requests[-1].messages] == [
        "user", "assistant", "tool", "assistant", "user"
    ]  # fmt: skip
    assert script.requests[-1].messages[3]["content"] == "21 °C."


def test_exports_show_each_call_compactly_and_inertly() -> None:
    hostile = '<img src=x onerror="alert(1)"> `x` ```'
    script = testing.script(["Looking. ", call(arguments={"city": hostile})], "Done.")
    chat = Conversation(script.model, tools=[weather_tool()], approve="always")
    chat.prompt("?").result()

    markdown = chat.to_markdown()
    assert "Looking. \n\n> 🔧 " in markdown
    assert 'weather({"city": "<img' in markdown
    assert "→ done in 0.0 s:" in markdown
    assert markdown.rstrip().endswith("Done.")
    inert = transcript.to_markdown(chat.messages, inert=True)
    assert "<img" not in inert.replace("<\u200bimg", "")
    html = chat.to_html()
    assert "&lt;img src=x onerror=" in html
    assert "<img" not in html
    assert '<p class="nbchat-tool">' in html
