"""OpenAI-compatible chat over SSE, against emulators of each server's dialect."""

from __future__ import annotations

import typing

import openai as openai_python
import pytest
from tests.servers import EmulatorServer, Reply, ToolCallSpec
from tests.servers.collect import HELLO, collect
from tests.servers.fixtures import EmulatorFactory

from nbchat.errors import (
    BadRequest,
    ContextTooLong,
    IdleTimeout,
    ProtocolError,
    ServerError,
    StreamInterrupted,
)
from nbchat.providers.base import Finish, ReasoningDelta, TextDelta, Timeouts, ToolCall, Usage
from nbchat.providers.openai import OpenAIProvider, _ChatCompletionReply

FLAVOURS = ["openai", "llama.cpp", "llama-cpp-python", "vllm", "openrouter", "litellm"]
FLAVOURS += ["lmstudio", "groq"]
TRICKY = ["Line\u2028separator", " next\u0085line", " é", "中", "文", " 🎉", " <b>&</b>"]
THINKING = Reply(text="The answer is 4.", reasoning="2 + 2 is 4.")


def provider(server: EmulatorServer, behaviour: str = "", **kw: typing.Any) -> OpenAIProvider:
    headers = {"X-Emulator": behaviour} if behaviour else {}
    return OpenAIProvider(base_url=server.base_url, headers=headers, **kw)


def ollama_v1(server: EmulatorServer, behaviour: str = "") -> OpenAIProvider:
    headers = {"X-Emulator": behaviour} if behaviour else {}
    return OpenAIProvider(base_url=server.openai_base_url, headers=headers)


@pytest.mark.parametrize("flavour", [*FLAVOURS, "ollama"])
async def test_every_server_dialect_gives_the_same_reply(
    emulator: EmulatorFactory, flavour: str
) -> None:
    server = emulator(flavour, reply=THINKING)
    make = ollama_v1 if flavour == "ollama" else provider
    outcome = await collect(make(server))
    assert outcome.error is None
    assert outcome.text == "The answer is 4."
    # OpenAI hides reasoning; everyone else streams it under one name or another.
    assert outcome.reasoning == ("" if flavour == "openai" else "2 + 2 is 4.")
    assert outcome.finish == Finish("stop")
    assert isinstance(outcome.events[-1], Finish)


@pytest.mark.parametrize(
    ("flavour", "usage"),
    [
        ("openai", Usage(prompt_tokens=12, completion_tokens=5)),
        ("vllm", Usage(prompt_tokens=12, completion_tokens=10)),
        ("openrouter", Usage(prompt_tokens=12, completion_tokens=10)),
        # llama.cpp timings: tokens/s and prompt + generation time.
        ("llama.cpp", Usage(12, 10, tokens_per_second=50.0, duration_s=0.23)),
        # Groq's x_groq.usage carries times in seconds.
        ("groq", Usage(12, 10, tokens_per_second=50.0, duration_s=0.2 + 0.0002)),
        ("llama-cpp-python", None),
    ],
)
async def test_usage_is_read_from_whichever_field_the_server_uses(
    emulator: EmulatorFactory, flavour: str, usage: Usage | None
) -> None:
    server = emulator(flavour, reply=THINKING)
    outcome = await collect(provider(server))
    assert outcome.usage == usage


async def test_the_request_asks_for_a_stream_with_usage(emulator: EmulatorFactory) -> None:
    server = emulator("openai")
    options = {"temperature": 0.2, "max_tokens": 64, "stop": ("END",), "seed": 7}
    outcome = await collect(provider(server), "gpt-4o", options=options)
    assert outcome.error is None
    sent = server.chat_requests[-1]
    assert sent.json() == {
        "model": "gpt-4o",
        "messages": HELLO,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.2,
        "max_tokens": 64,
        "stop": ["END"],
        "seed": 7,
    }
    assert sent.headers["accept"] == "text/event-stream"
    assert "authorization" not in sent.headers


async def test_a_key_is_sent_as_bearer_and_extra_headers_pass_through(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("openai", api_key="sk-abc")
    extra = {"OpenAI-Organization": "org-1"}
    outcome = await collect(
        OpenAIProvider(base_url=server.base_url, api_key="sk-abc", headers=extra)
    )
    assert outcome.error is None
    assert server.chat_requests[-1].headers["authorization"] == "Bearer sk-abc"
    assert server.chat_requests[-1].headers["openai-organization"] == "org-1"


async def test_a_server_rejecting_stream_options_is_asked_once_more_without_it(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("vllm")
    outcome = await collect(provider(server, "reject_stream_options"))
    assert outcome.error is None
    assert outcome.text == Reply().text
    first, second = (r.json() for r in server.chat_requests)
    assert "stream_options" in first
    assert "stream_options" not in second


async def test_other_bad_requests_are_not_retried(emulator: EmulatorFactory) -> None:
    server = emulator("openai")
    outcome = await collect(provider(server, "error=bad_request"))
    assert isinstance(outcome.error, BadRequest)
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize("flavour", ["openai", "ollama"])
async def test_tool_call_fragments_are_merged_by_index(
    emulator: EmulatorFactory, flavour: str
) -> None:
    calls = [
        ToolCallSpec("get_weather", {"city": "Hué", "unit": "C"}, id="call_a"),
        ToolCallSpec("get_time", {"zone": "Asia/Ho_Chi_Minh"}, id="call_b"),
    ]
    server = emulator(flavour, reply=Reply(text="", tool_calls=calls))
    outcome = await collect(ollama_v1(server) if flavour == "ollama" else provider(server))
    assert outcome.tool_calls == [
        ToolCall(0, "get_weather", '{"city": "Hu\\u00e9", "unit": "C"}', "call_a"),
        ToolCall(1, "get_time", '{"zone": "Asia/Ho_Chi_Minh"}', "call_b"),
    ]
    assert outcome.finish == Finish("tool_calls")


def test_choices_that_are_empty_null_or_missing_are_tolerated() -> None:
    reply = _ChatCompletionReply(endpoint=None)  # type: ignore[arg-type]
    for chunk in ('{"choices": []}', '{"choices": null}', '{"id": "x"}', '{"choices": [{}]}'):
        assert reply.decode(chunk, "") == []
    assert reply.decode('{"choices":[{"delta":{"content":"hi","role":null}}]}', "") == [
        TextDelta("hi")
    ]


@pytest.mark.parametrize("behaviour", ["comments", "comments,crlf", "cr", "bytewise,crlf"])
async def test_comments_pings_and_every_line_ending_are_framed_right(
    emulator: EmulatorFactory, behaviour: str
) -> None:
    server = emulator("llama.cpp", reply=THINKING)
    outcome = await collect(provider(server, behaviour))
    assert outcome.error is None
    assert (outcome.reasoning, outcome.text) == ("2 + 2 is 4.", "The answer is 4.")


async def test_raw_line_separators_and_split_characters_survive(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("llama-cpp-python", reply=Reply(tokens=TRICKY))
    outcome = await collect(provider(server, "bytewise"))
    assert outcome.text == "".join(TRICKY)


async def test_every_split_offset_of_an_event_decodes_the_same(emulator: EmulatorFactory) -> None:
    server = emulator("vllm", reply=Reply(tokens=[" é中🎉\u2028"]))
    for offset in range(1, 200, 3):
        outcome = await collect(provider(server, f"split={offset}"))
        assert outcome.text == " é中🎉\u2028", f"split at byte {offset}"


@pytest.mark.parametrize("behaviour", ["no_finish", "error_after=3,error_style=lost"])
async def test_done_or_eof_without_a_finish_reason_is_stream_interrupted(
    emulator: EmulatorFactory, behaviour: str
) -> None:
    server = emulator("openai")
    outcome = await collect(provider(server, behaviour))
    assert isinstance(outcome.error, StreamInterrupted)
    assert "no finish_reason" in outcome.error.message
    assert outcome.error.partial == outcome.text != ""


async def test_a_finish_reason_without_done_is_complete(emulator: EmulatorFactory) -> None:
    server = emulator("openai")
    outcome = await collect(provider(server, "no_done"))
    assert outcome.error is None
    assert outcome.finish == Finish("stop")


async def test_a_server_that_stalls_after_the_finish_reason_loses_nothing(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("openai")
    outcome = await collect(provider(server, "no_done,hang", timeouts=Timeouts(idle=0.2)))
    assert outcome.error is None
    assert outcome.text == Reply().text
    assert outcome.finish == Finish("stop")


async def test_a_server_that_stalls_before_finishing_is_an_idle_timeout(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("openai")
    outcome = await collect(provider(server, "no_finish,no_done,hang", timeouts=Timeouts(idle=0.2)))
    assert isinstance(outcome.error, IdleTimeout)
    assert outcome.error.partial == Reply().text


MID_STREAM = [
    ("openai", "openai", ServerError, "The server had an error"),
    ("openai", "string", ServerError, "The server had an error"),
    ("openai", "event", ServerError, "The server had an error"),
    ("llama.cpp", "llamacpp", ServerError, "emulated failure"),
    ("vllm", "vllm", ServerError, "emulated failure"),
    ("openrouter", "openrouter", ServerError, "Provider disconnected unexpectedly"),
    ("litellm", "litellm", ServerError, "litellm.APIConnectionError"),
    # The error itself is lost on the wire; all we can say is that the reply was cut.
    ("ollama-v1", "lost", StreamInterrupted, "no finish_reason"),
    ("llama.cpp", "llamacpp-old", StreamInterrupted, "no finish_reason"),
]


@pytest.mark.parametrize(("flavour", "style", "error", "said"), MID_STREAM)
async def test_an_error_mid_stream_keeps_the_text(
    emulator: EmulatorFactory, flavour: str, style: str, error: type[Exception], said: str
) -> None:
    server = emulator("ollama" if flavour == "ollama-v1" else flavour)
    make = ollama_v1 if flavour == "ollama-v1" else provider
    outcome = await collect(make(server, f"error_after=3,error_style={style}"))
    assert type(outcome.error) is error
    assert said in outcome.error.message
    assert outcome.error.partial == outcome.text == "Hello from the"


async def test_a_garbage_event_is_a_protocol_error_keeping_the_text(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("openai")
    outcome = await collect(provider(server, "garbage_after=3"))
    assert isinstance(outcome.error, ProtocolError)
    assert "502 Bad Gateway" in outcome.error.message
    assert outcome.error.partial == "Hello from the"


async def test_an_empty_stream_from_a_context_overflow_is_context_too_long(
    emulator: EmulatorFactory,
) -> None:
    # llama-cpp-python answers a streamed overflow with 200 and no bytes; asked without
    # streaming it says what happened.
    server = emulator("llama-cpp-python")
    outcome = await collect(provider(server, "overflow"))
    assert isinstance(outcome.error, ContextTooLong)
    assert "maximum context length" in outcome.error.message
    probe = server.chat_requests[-1].json()
    assert probe["stream"] is False
    assert probe["max_tokens"] == 1


async def test_an_empty_stream_for_another_reason_is_stream_interrupted(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("llama-cpp-python")
    outcome = await collect(provider(server, "empty"))
    assert isinstance(outcome.error, StreamInterrupted)
    assert "without sending anything" in outcome.error.message
    assert "context" in outcome.error.hint


async def test_a_json_answer_to_a_stream_request_is_taken_whole(emulator: EmulatorFactory) -> None:
    server = emulator("vllm", reply=THINKING)
    outcome = await collect(provider(server, "nonstream"))
    assert outcome.error is None
    assert (outcome.reasoning, outcome.text) == ("2 + 2 is 4.", "The answer is 4.")
    assert outcome.finish == Finish("stop")
    assert [type(e) for e in outcome.events] == [ReasoningDelta, TextDelta, Usage, Finish]


async def test_models_are_listed_and_null_data_is_no_models(emulator: EmulatorFactory) -> None:
    server = emulator("vllm", models=["Qwen/Qwen3-8B"])
    assert await OpenAIProvider(base_url=server.base_url).amodels() == ["Qwen/Qwen3-8B"]
    empty = emulator("ollama", models=[])  # Ollama /v1 says {"data": null}
    assert await OpenAIProvider(base_url=empty.openai_base_url).amodels() == []


# -- cross-check: the official openai-python client decodes the same text --------------------

CROSS_CASES = [
    ("openai", ""),
    ("openai", "bytewise"),
    ("openai", "split=9"),
    ("llama.cpp", "comments"),
    ("llama.cpp", "crlf,bytewise"),
    ("llama-cpp-python", ""),
    ("vllm", "comments"),
    ("openrouter", ""),
    ("litellm", ""),
    ("lmstudio", "cr"),
    ("groq", ""),
    ("ollama", ""),
    ("openai", "no_done"),
    ("openai", "no_finish"),
    ("openai", "drop_after=3"),
    ("openai", "error_after=3"),
    ("openrouter", "error_after=3"),
    ("ollama", "error_after=3"),  # lost: openai-python ends quietly, we say it was cut
    ("llama.cpp", "error_after=3,error_style=llamacpp-old"),
]


async def _official(server: EmulatorServer, behaviour: str) -> str:
    base = server.openai_base_url
    headers = {"X-Emulator": behaviour} if behaviour else {}
    client = openai_python.AsyncOpenAI(
        base_url=base, api_key="unused", max_retries=0, default_headers=headers
    )
    text = ""
    try:
        stream = await client.chat.completions.create(
            model="llama3.2", messages=[{"role": "user", "content": "Hello!"}], stream=True
        )
        async for chunk in stream:
            for choice in chunk.choices:
                text += choice.delta.content or ""
    except openai_python.OpenAIError:
        pass  # the text before it is what we compare
    finally:
        await client.close()
    return text


@pytest.mark.parametrize(("flavour", "behaviour"), CROSS_CASES)
async def test_openai_python_decodes_the_same_text(
    emulator: EmulatorFactory, flavour: str, behaviour: str
) -> None:
    server = emulator(flavour, reply=Reply(tokens=TRICKY))
    theirs = await _official(server, behaviour)
    headers = {"X-Emulator": behaviour} if behaviour else {}
    ours = await collect(OpenAIProvider(base_url=server.openai_base_url, headers=headers))
    assert ours.text == theirs
    if ours.error is not None:
        assert ours.error.partial == theirs
