"""ask / stream / astream / models: thin wrappers, same behaviour as a Conversation."""

from __future__ import annotations

import pytest
from tests.servers import EmulatorServer

import nbchat
from nbchat import testing
from nbchat.errors import InvalidOption, InvalidRequest, ServerError
from nbchat.providers import demo
from nbchat.providers.base import ReasoningDelta


def test_ask_returns_the_whole_reply() -> None:
    assert nbchat.ask("Say this back", "demo:echo", tokens_per_second=0) == "Say this back"


def test_ask_raises_a_failed_reply() -> None:
    script = testing.script(["half", ServerError("boom")])
    with pytest.raises(ServerError) as info:
        nbchat.ask("x", script.model)
    assert info.value.partial == "half"


def test_stream_yields_text_pieces_only() -> None:
    script = testing.script([ReasoningDelta("hmm"), "Hel", "lo"])
    pieces = list(nbchat.stream("x", script.model))
    assert pieces == ["Hel", "lo"]


def test_messages_list_is_history_plus_the_last_question() -> None:
    script = testing.script("ok")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    assert nbchat.ask(messages, script.model, temperature=0.1) == "ok"
    request = script.requests[0]
    assert [(m["role"], m["content"]) for m in request.messages] == [
        ("system", "Be brief."),
        ("user", "a"),
        ("assistant", "b"),
        ("user", "c"),
    ]
    assert dict(request.options) == {"temperature": 0.1}


@pytest.mark.parametrize(
    "prompt",
    ["", [], [{"role": "assistant", "content": "x"}], [{"role": "user", "content": "  "}]],
)
def test_bad_input_raises_when_called_before_anything_is_sent(prompt: object) -> None:
    script = testing.script("never")
    with pytest.raises(InvalidRequest):
        nbchat.stream(prompt, script.model)  # type: ignore[arg-type]
    assert not script.requests


def test_unknown_option_raises_when_called() -> None:
    with pytest.raises(InvalidOption):
        nbchat.stream("x", "demo:echo", temprature=1)


def test_leaving_a_stream_early_stops_the_reply() -> None:
    script = testing.script(["a", "b", testing.STALL])
    pieces = nbchat.stream("x", script.model)
    assert next(pieces) == "a"
    pieces.close()  # would hang here if the stalled reply were not stopped
    assert script.stalled.is_set()


async def test_astream_gives_what_stream_gives() -> None:
    replies: list[testing.Reply] = ["one two three"]
    sync = list(nbchat.stream("x", testing.script(*replies).model))
    async_ = [piece async for piece in nbchat.astream("x", testing.script(*replies).model)]
    assert sync == async_ == ["one", " two", " three"]


def test_models_of_the_demo() -> None:
    expected = [f"demo:{name}" for name in demo.MODELS]
    assert nbchat.models("demo") == expected
    assert nbchat.models() == expected  # nothing running: the demo is what nbchat would use


def test_models_of_a_real_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with EmulatorServer("ollama", models=["llama3.2:latest", "qwen3:8b"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.root_url)
        assert nbchat.models() == ["ollama:llama3.2:latest", "ollama:qwen3:8b"]
        assert nbchat.models("ollama") == ["ollama:llama3.2:latest", "ollama:qwen3:8b"]
        assert nbchat.models("openai", base_url=server.openai_base_url) == [
            "openai:llama3.2:latest",
            "openai:qwen3:8b",
        ]
