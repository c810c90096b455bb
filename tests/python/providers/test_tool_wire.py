"""Tool calling over real HTTP to the emulators: the exact shape of every request, with the
call's bytes split every way a server splits them."""

from __future__ import annotations

import typing

import pytest
from tests.servers import EmulatorServer, Reply, ToolCallSpec
from tests.servers.tool_samples import OLLAMA_FOLLOW_UP, OPENAI_FOLLOW_UP, TOOL_DEFINITION

import nbchat
from nbchat.errors import StepLimitReached, ToolsNotSupported

EmulatorFactory = typing.Callable[..., EmulatorServer]
QUESTION = "What is the temperature in New York?"


def get_temperature(city: str) -> str:
    """Get the current temperature for a city

    Args:
        city: The name of the city
    """
    calls.append(city)
    return "22°C"


calls: list[str] = []


@pytest.fixture(autouse=True)
def _fresh() -> None:
    calls.clear()


def conversation(server: EmulatorServer, **kwargs: typing.Any) -> nbchat.Conversation:
    model = "ollama:qwen3" if server.flavour == "ollama" else "openai:qwen3"
    kwargs.setdefault("approve", "always")
    return nbchat.Conversation(model, base_url=server.base_url, tools=[get_temperature], **kwargs)


def bodies(server: EmulatorServer) -> list[dict[str, typing.Any]]:
    return [r.json() for r in server.chat_requests]


@pytest.mark.parametrize("behaviour", ["", "bytewise", "split=7,crlf"])
def test_ollama_sends_tools_and_the_follow_up_exactly_as_its_docs_show(
    emulator: EmulatorFactory, behaviour: str
) -> None:
    server = emulator("ollama", behaviour=behaviour or None)
    call = ToolCallSpec("get_temperature", {"city": "New York"}, id="call_cy3xwkra")
    server.enqueue(Reply(text="", tool_calls=[call]), Reply(text="It is 22°C."))

    reply = conversation(server).prompt(QUESTION).result()

    assert reply == "It is 22°C."
    assert calls == ["New York"]
    first, second = bodies(server)
    assert first["tools"] == [TOOL_DEFINITION]
    assert second["messages"] == OLLAMA_FOLLOW_UP
    assert second["tools"] == [TOOL_DEFINITION]


@pytest.mark.parametrize(
    ("flavour", "behaviour", "fragment"),
    [
        ("openai", None, 0),
        ("openai", "bytewise", 1),  # every byte its own read, one character per fragment
        ("llama.cpp", "crlf", 3),
        ("llama-cpp-python", None, 4),  # the whole name again in every fragment
        ("vllm", None, 2),
        ("openrouter", "comments", 0),
        ("groq", None, 0),
        ("ollama", None, 0),  # Ollama's /v1: whole calls in one chunk
    ],
)
def test_openai_compatible_servers_get_the_follow_up_in_openai_s_shape(
    emulator: EmulatorFactory, flavour: str, behaviour: str | None, fragment: int
) -> None:
    server = emulator(flavour, behaviour=behaviour)
    call = ToolCallSpec("get_temperature", {"city": "New York"}, id="call_Qib2xfCV1qpazcvBOLg3wCNL")
    server.enqueue(Reply(text="", tool_calls=[call], fragment=fragment), Reply(text="22°C it is."))
    model = "openai:qwen3"
    chat = nbchat.Conversation(
        model, base_url=server.openai_base_url, tools=[get_temperature], approve="always"
    )

    assert chat.prompt(QUESTION).result() == "22°C it is."

    first, second = bodies(server)
    assert first["tools"] == [TOOL_DEFINITION]
    assert second["messages"] == OPENAI_FOLLOW_UP


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "x"}}])
def test_a_tool_choice_that_forces_a_call_applies_to_the_first_step_only(
    emulator: EmulatorFactory, choice: object
) -> None:
    server = emulator("openai")
    call = ToolCallSpec("get_temperature", {"city": "New York"}, id="call_1")
    server.enqueue(Reply(text="", tool_calls=[call]), Reply(text="22°C."))

    conversation(server, tool_choice=choice).prompt(QUESTION).result()

    first, second = bodies(server)
    assert first["tool_choice"] == choice
    assert "tool_choice" not in second  # else every step would call again
    assert second["tools"] == [TOOL_DEFINITION]


def test_an_auto_tool_choice_stays(emulator: EmulatorFactory) -> None:
    server = emulator("openai")
    call = ToolCallSpec("get_temperature", {"city": "New York"}, id="call_1")
    server.enqueue(Reply(text="", tool_calls=[call]), Reply(text="22°C."))
    conversation(server, tool_choice="auto").prompt(QUESTION).result()
    assert [b["tool_choice"] for b in bodies(server)] == ["auto", "auto"]


def test_parallel_calls_interleaved_by_index_come_back_in_call_order(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("openai", behaviour="bytewise")
    server.enqueue(
        Reply(
            text="Two cities.",
            tool_calls=[
                ToolCallSpec("get_temperature", {"city": "New York"}, id="call_a"),
                ToolCallSpec("get_temperature", {"city": "London"}, id="call_b"),
            ],
            fragment=2,
            interleave=True,
        ),
        Reply(text="Both 22°C."),
    )
    conversation(server).prompt(QUESTION).result()
    assert calls == ["New York", "London"]
    messages = bodies(server)[1]["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "Two cities.",
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_temperature", "arguments": '{"city": "New York"}'},
            },
            {
                "id": "call_b",
                "type": "function",
                "function": {"name": "get_temperature", "arguments": '{"city": "London"}'},
            },
        ],
    }
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "call_a", "content": "22°C"},
        {"role": "tool", "tool_call_id": "call_b", "content": "22°C"},
    ]


def test_bad_json_and_an_unknown_tool_come_back_as_errors_the_model_can_fix(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("openai")
    server.enqueue(
        Reply(
            text="",
            tool_calls=[
                ToolCallSpec("get_temperature", {}, id="call_a", raw='{"city": "New'),
                ToolCallSpec("get_weather", {"city": "Paris"}, id="call_b"),
            ],
        ),
        Reply(text="", tool_calls=[ToolCallSpec("get_temperature", {"city": "Paris"}, id="c")]),
        Reply(text="22°C in Paris."),
    )
    assert conversation(server).prompt(QUESTION).result() == "22°C in Paris."
    second = bodies(server)[1]["messages"]
    assert second[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "New'  # as written
    assert second[2]["content"].startswith(
        "The arguments of get_temperature are not valid JSON (Unterminated string"
    )
    assert second[3]["content"] == "Unknown tool 'get_weather'. The tools are: get_temperature."
    assert calls == ["Paris"]  # only the corrected call ran


def test_a_model_that_calls_forever_stops_at_the_step_limit(emulator: EmulatorFactory) -> None:
    forever = Reply(text="", tool_calls=[ToolCallSpec("get_temperature", {"city": "Oslo"})])
    server = emulator("ollama", reply=forever)
    chat = conversation(server, max_steps=4)
    with pytest.raises(StepLimitReached):
        chat.prompt(QUESTION).result()
    assert len(server.chat_requests) == 4
    assert len(calls) == 3
    # Every call in the history has its result: the next turn is a valid request.
    server.reply = Reply(text="Fine.")
    assert chat.prompt("Stop that.").result() == "Fine."
    last = bodies(server)[-1]["messages"]
    assert [m["role"] for m in last].count("tool") == 4
    assert last[-2]["content"] == "Not run: this reply reached its limit of 4 model steps."


@pytest.mark.parametrize(
    ("flavour", "said"),
    [
        ("ollama", "The model qwen3 does not support tools (Ollama said so)."),
        (
            "vllm",
            'The server refused the tools: HTTP 400 from the OpenAI-compatible server: "auto" tool',
        ),
        (
            "openai",
            "The server refused the tools: HTTP 400 from the OpenAI-compatible server: Model",
        ),
    ],
)
def test_a_server_that_refuses_tools_is_one_line_with_a_hint_and_the_chat_is_kept(
    emulator: EmulatorFactory, flavour: str, said: str
) -> None:
    server = emulator(flavour, behaviour="reject_tools")
    chat = nbchat.Conversation(
        f"{'ollama' if flavour == 'ollama' else 'openai'}:qwen3",
        base_url=server.base_url,
        tools=[get_temperature],
    )
    with pytest.raises(ToolsNotSupported) as caught:
        chat.prompt(QUESTION).result()
    assert caught.value.message.startswith(said)
    assert "tool-capable model" in caught.value.hint or "call tools" in caught.value.hint
    assert [m["role"] for m in chat.messages] == ["user", "assistant"]
    chat.tools.clear()  # without tools the same server answers
    assert chat.prompt("Then just chat.").result()
