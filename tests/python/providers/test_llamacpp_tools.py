"""Real tool calls from a real llama.cpp server (llama-cpp-python 0.3.36).

The tiny random-weight model (``tests/servers/tiny_gguf.py``) calls a tool when the request
names the function in ``tool_choice``: the server's ``chatml-function-calling`` chat format
then writes ``functions.<name>:`` into the prompt and constrains the arguments with a
grammar built from the tool's JSON schema. It streams the call as OpenAI-style
``delta.tool_calls`` fragments (the id and name repeated in every fragment, the arguments a
few characters at a time) and finishes with ``"tool_calls"``. Without ``tool_choice`` the
same format writes plain text. So one turn here goes: a real call (arguments the grammar
chose) → the function runs → nbchat's follow-up request, which this server validates with
pydantic (it answers an assistant message with ``"content": null`` with a 500) → text.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator

import httpx
import pytest
from tests.servers.fixtures import running
from tests.servers.llamacpp import LlamaCppServer, ServedModel
from tests.servers.tiny_gguf import write_tiny_llama

import nbchat
from nbchat.providers.base import ChatRequest, Finish, ToolCall
from nbchat.providers.openai import OpenAIProvider
from nbchat.tools import Tool

pytestmark = pytest.mark.llamacpp

MODEL = "tiny-tools"
DETERMINISTIC: dict[str, object] = {"temperature": 0.0, "seed": 7}
FORCE = {"type": "function", "function": {"name": "weather"}}


calls: list[dict[str, str]] = []


def weather(city: typing.Literal["Paris", "Rome", "Oslo"], unit: typing.Literal["C", "F"]) -> str:
    """Current weather for a city.

    Args:
        city: Which city.
        unit: Celsius or Fahrenheit.
    """
    # Literal parameters: the grammar can only write one of these, so the call is short
    # and always valid, whatever the random weights prefer.
    calls.append({"city": city, "unit": unit})
    return f"21 °{unit} in {city}"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    calls.clear()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaCppServer]:
    workdir = tmp_path_factory.mktemp("llamacpp-tools")
    model = write_tiny_llama(workdir)
    served = [ServedModel(MODEL, model, n_ctx=2048, chat_format="chatml-function-calling")]
    with running(LlamaCppServer(served, workdir=workdir)) as llama:
        yield llama


async def test_the_server_streams_a_call_nbchat_decodes_exactly(server: LlamaCppServer) -> None:
    spec = Tool(weather).spec()
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    options = {**DETERMINISTIC, "tool_choice": FORCE, "max_tokens": 60}
    provider = OpenAIProvider(base_url=server.base_url)
    request = ChatRequest(MODEL, messages, provider.check_options(options), tools=[spec])  # type: ignore[arg-type]

    events = [event async for event in provider.astream(request)]

    streamed = [e for e in events if isinstance(e, ToolCall)]
    finish = [e.reason for e in events if isinstance(e, Finish)]
    # The reference: the server's own non-streamed answer to the same request.
    body = {
        "model": MODEL,
        "messages": messages,
        "tools": [{"type": "function", "function": spec}],
        "stream": False,
        **options,
    }
    async with httpx.AsyncClient(timeout=60) as client:
        answer = (await client.post(f"{server.base_url}/chat/completions", json=body)).json()
    (expected,) = answer["choices"][0]["message"]["tool_calls"]

    assert finish == ["tool_calls"]
    assert [(c.name, c.arguments, c.id) for c in streamed] == [
        ("weather", expected["function"]["arguments"], streamed[0].id)
    ]
    assert (streamed[0].id or "").startswith("call_")
    arguments = json.loads(streamed[0].arguments)
    assert arguments["city"] in ("Paris", "Rome", "Oslo")
    assert arguments["unit"] in ("C", "F")


def test_a_whole_turn_calls_runs_sends_the_result_and_gets_text(server: LlamaCppServer) -> None:
    chat = nbchat.Conversation(
        f"openai:{MODEL}",
        base_url=server.base_url,
        tools=[weather],
        approve="always",
        tool_choice=FORCE,  # the first request only; then the model answers in text
        max_tokens=60,  # the tiny vocabulary is mostly single bytes: room for the call
        temperature=0.0,
        seed=7,
    )

    text = chat.prompt("Weather in Paris?").result()

    (call,) = calls  # the function ran once, with the arguments the grammar chose
    reply = chat.messages[-1]
    kinds = [p["type"] for p in reply.get("parts", [])]
    assert kinds == ["tool_call", "tool_result", "text"]
    call_part, result_part, text_part = reply["parts"]
    assert json.loads(call_part["arguments"]) == call  # type: ignore[typeddict-item]
    assert result_part["content"] == f"21 °{call['unit']} in {call['city']}"  # type: ignore[typeddict-item]
    assert result_part.get("status") == "done"
    # The follow-up was accepted (a 500 would have ended the turn with an error) and the
    # model wrote text, cut by max_tokens.
    assert text == text_part["text"] != ""  # type: ignore[typeddict-item]

    # A later turn sends the whole exchange as history, and the server takes it again.
    assert chat.prompt("And tomorrow?", tool_choice="none").result() != ""
    assert calls == [call]
