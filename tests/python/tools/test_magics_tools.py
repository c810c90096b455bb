"""``%%chat --tools``: functions from the notebook, checked before any request."""

from __future__ import annotations

import json

import pytest
from tests.python.test_magics import Shell, run, session

from nbchat import testing
from nbchat.errors import InvalidRequest
from nbchat.magics import parse
from nbchat.providers.base import ToolCall

CALL = ToolCall(0, "weather", json.dumps({"city": "Paris"}), "c1")


def test_tools_and_approve_are_flags() -> None:
    command = parse("demo:tools --tools weather,describe --approve always", "Hi")
    assert command.tools == ["weather", "describe"]
    assert command.approve == "always"


@pytest.mark.parametrize(
    ("line", "message"),
    [("--tools 'a b'", "--tools expects names"), ("--approve sometimes", "--approve is ask")],
)
def test_malformed_tool_flags_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse(line, "Hi")


def test_tools_come_from_the_notebook_and_run_with_approval(ip: Shell) -> None:
    script = testing.script([CALL], "21 °C.", "No tools now.")
    run(
        ip,
        "calls = []\n"
        "def weather(city: str) -> str:\n"
        "    '''Current weather.'''\n"
        "    calls.append(city)\n"
        "    return '21 °C'\n",
    )

    ran = run(ip, f"%%chat {script.model} --tools weather,describe --approve always\nWeather?")

    assert ran.error is None
    assert ip.user_ns["calls"] == ["Paris"]
    assert [t["name"] for t in script.requests[0].tools] == ["weather", "describe"]
    assert ran.stdout.startswith('[tool] weather({"city": "Paris"}) → done in ')
    assert ran.stdout.endswith("21 °C.\n")
    # Tools are the call's own: the next %chat offers none.
    run(ip, "%chat Anything else?")
    assert script.requests[-1].tools == []


def test_ask_without_a_terminal_declines(ip: Shell) -> None:
    script = testing.script([CALL], "Fine.")
    run(ip, "def weather(city: str) -> str:\n    '''W.'''\n    raise AssertionError('ran')\n")
    ran = run(ip, f"%%chat {script.model} --tools weather\nWeather?")
    assert ran.error is None
    assert "→ declined: The call was not run: nobody can approve" in ran.stdout


def test_a_missing_tool_is_an_error_before_any_request(ip: Shell) -> None:
    script = testing.script("never")
    ran = run(ip, f"%%chat {script.model} --tools no_such_fn\nHi")
    assert isinstance(ran.error, InvalidRequest)
    assert "--tools no_such_fn: the notebook has no function named 'no_such_fn'." in ran.stdout
    assert script.requests == []
    conversation = session(ip).conversation
    assert conversation is None or not conversation.messages
