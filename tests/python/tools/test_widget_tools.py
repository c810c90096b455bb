"""Tool calls in the Chat widget: cards as part messages, answers from the cards, stdin for a
blocking ask, and what a tool prints kept for its card."""

from __future__ import annotations

import asyncio
import json
import typing

import pytest
from tests.comms import custom, from_ui
from tests.python.widget_rig import until

from nbchat import testing
from nbchat.providers.base import ToolCall
from nbchat.widget import Chat

pytestmark = pytest.mark.usefixtures("recording_comm")


def call(city: str = "Paris", id: str = "c1", index: int = 0, name: str = "weather") -> ToolCall:
    return ToolCall(index=index, name=name, arguments=json.dumps({"city": city}), id=id)


ran: list[str] = []


def weather(city: str) -> str:
    """Current weather for a city."""
    ran.append(city)
    print(f"looking up {city}")
    return f"21 °C in {city}"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    ran.clear()


def parts(chat: Chat) -> list[dict[str, typing.Any]]:
    return custom(chat, "part")


def statuses(chat: Chat, call_id: str = "c1") -> list[str]:
    return [
        p["part"].get("status")
        for p in parts(chat)
        if p["part"]["type"] == "tool_call" and p["part"]["id"] == call_id
    ]


async def test_a_card_waits_for_the_user_then_runs_and_the_reply_goes_on() -> None:
    script = testing.script(["Let me check. ", call()], "It is 21 °C.")
    chat = Chat(script.model, tools=[weather])
    from_ui(chat, kind="submit", text="Weather?")
    await until(lambda: statuses(chat) == ["waiting"])

    waiting = parts(chat)[0]
    assert waiting["at"] == len("Let me check. ")
    deltas = "".join(d.get("text", "") for d in custom(chat, "delta"))
    assert deltas == "Let me check. "  # the text before the card was sent first
    assert waiting["part"] == {
        "type": "tool_call",
        "id": "c1",
        "name": "weather",
        "arguments": '{"city": "Paris"}',
        "status": "waiting",
        "always_ask": False,
    }
    assert waiting["seq"] == custom(chat, "delta")[-1]["seq"] + 1
    assert ran == []

    from_ui(chat, kind="hello")  # a view connecting now gets the card in its snapshot
    await until(lambda: any(s.get("parts") for s in custom(chat, "snapshot")))
    snapshot = [s for s in custom(chat, "snapshot") if s.get("parts")][-1]
    assert [e["part"]["status"] for e in snapshot["parts"]] == ["waiting"]

    from_ui(chat, kind="approve", call_id="c1", allow=True)
    await until(lambda: bool(custom(chat, "done")))
    assert ran == ["Paris"]
    assert statuses(chat) == ["waiting", "running", "done"]
    result = next(p["part"] for p in parts(chat) if p["part"]["type"] == "tool_result")
    assert result["content"] == "21 °C in Paris"
    assert result["output"] == "looking up Paris\n"  # printed with no cell to go to
    reply = chat.messages[-1]
    assert reply["content"] == "Let me check. It is 21 °C."
    assert [p["type"] for p in reply["parts"]] == ["text", "tool_call", "tool_result", "text"]


async def test_deny_with_a_reason_sends_the_refusal_and_the_follow_up_streams() -> None:
    script = testing.script([call()], "Alright, no weather.")
    chat = Chat(script.model, tools=[weather])
    from_ui(chat, kind="submit", text="Weather?")
    await until(lambda: statuses(chat) == ["waiting"])
    from_ui(chat, kind="approve", call_id="c1", allow=False, reason="  not now  ")
    await until(lambda: bool(custom(chat, "done")))
    assert ran == []
    follow_up = script.requests[1].messages[-1]
    assert follow_up["content"] == "The user declined this call: not now"
    assert statuses(chat) == ["waiting", "declined"]
    assert chat.messages[-1]["content"] == "Alright, no weather."


async def test_always_allow_lasts_for_this_chat_and_is_never_saved(tmp_path: typing.Any) -> None:
    script = testing.script([call()], "One.", [call(id="c2")], "Two.")
    chat = Chat(script.model, tools=[weather])
    from_ui(chat, kind="submit", text="Weather?")
    await until(lambda: statuses(chat) == ["waiting"])
    from_ui(chat, kind="approve", call_id="c1", allow=True, always=True)
    await until(lambda: len(custom(chat, "done")) == 1)
    from_ui(chat, kind="submit", text="Again?")
    await until(lambda: len(custom(chat, "done")) == 2)
    assert statuses(chat, "c2") == ["running", "done"]  # not asked again
    assert ran == ["Paris", "Paris"]
    path = tmp_path / "chat.json"
    chat.save(str(path))
    restored = Chat.load(str(path), tools=[weather])
    assert restored.conversation.approval.always_allowed == set()
    traits = {k: v for k, v in chat.get_state().items() if not k.startswith("_")}
    assert "always" not in json.dumps(traits).lower()  # no trait holds it either


async def test_stop_while_waiting_declines_the_call_and_runs_nothing() -> None:
    script = testing.script([call()], "never asked")
    chat = Chat(script.model, tools=[weather])
    from_ui(chat, kind="submit", text="Weather?")
    await until(lambda: statuses(chat) == ["waiting"])
    from_ui(chat, kind="stop")
    await until(lambda: bool(custom(chat, "done")))
    assert ran == []
    assert len(script.requests) == 1
    reply = chat.messages[-1]
    assert reply["meta"]["stopped"] is True
    assert reply["parts"][-1].get("status") == "stopped"
    # A late answer to the card is ignored: nothing waits for it any more, and the command
    # is handled as it arrives (no turn, no request, nothing run).
    assert chat._turns.cards.waiting == []
    from_ui(chat, kind="approve", call_id="c1", allow=True)
    assert ran == []
    assert len(script.requests) == 1
    assert chat.status == "idle"


async def test_ask_async_is_answered_from_the_card_once_a_view_said_hello() -> None:
    script = testing.script([call()], "Done.")
    chat = Chat(script.model, tools=[weather])
    from_ui(chat, kind="hello")
    task = asyncio.ensure_future(chat.ask_async("Weather?"))
    await until(lambda: statuses(chat) == ["waiting"])
    from_ui(chat, kind="approve", call_id="c1", allow=True)
    assert await task == "Done."
    assert ran == ["Paris"]


def test_a_blocking_ask_asks_on_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    questions: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)

    def answer(question: str) -> str:
        questions.append(question)
        return "yes"

    monkeypatch.setattr("builtins.input", answer)
    script = testing.script([call()], "Done.")
    chat = Chat(script.model, tools=[weather])
    assert chat.ask("Weather?") == "Done."
    assert len(questions) == 1
    assert ran == ["Paris"]
    # The card showed it waiting before stdin was asked, and no output was captured.
    assert statuses(chat) == ["waiting", "running", "done"]
    result = chat.messages[-1]["parts"][2]
    assert "output" not in result


def test_a_blocking_ask_with_nobody_to_answer_is_a_no() -> None:
    script = testing.script([call()], "Understood.")
    chat = Chat(script.model, tools=[weather])  # pytest: no terminal
    assert chat.ask("Weather?") == "Understood."
    assert ran == []
    assert statuses(chat) == ["waiting", "declined"]


def test_tools_can_be_given_added_and_removed() -> None:
    def other(x: int) -> int:
        """Other."""
        return x

    chat = Chat("demo:tools", tools=[weather], approve="always", max_steps=3)
    chat.tools.add(other)
    assert chat.tools.names() == ["weather", "other"]
    chat.tools.remove("weather")
    assert chat.conversation.max_steps == 3
    assert chat.conversation.approval.policy == "always"
    with pytest.raises(Exception, match="either conversation= or model settings"):
        Chat(conversation=chat.conversation, tools=[weather])
