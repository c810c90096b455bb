"""Ollama's native API: NDJSON from /api/chat, against the loopback Ollama emulator."""

from __future__ import annotations

import json
import typing

import ollama as ollama_python
import pytest
from tests.servers import EmulatorServer, Reply, ToolCallSpec
from tests.servers.collect import HELLO, collect
from tests.servers.fixtures import EmulatorFactory

from nbchat.errors import (
    BadRequest,
    ContextTooLong,
    InvalidOption,
    ModelNotFound,
    ProtocolError,
    ServerError,
    StreamInterrupted,
)
from nbchat.providers.base import Finish, ReasoningDelta, TextDelta, ToolCall, Usage
from nbchat.providers.ollama import OllamaProvider, ollama_host

TRICKY = ["Line\u2028separator", " next\u0085line", " é", "中", "文", " 🎉", " <b>&</b>"]


def provider(server: EmulatorServer, behaviour: str = "", **kw: typing.Any) -> OllamaProvider:
    headers = {"X-Emulator": behaviour} if behaviour else {}
    return OllamaProvider(base_url=server.base_url, headers=headers, **kw)


async def test_a_reply_streams_reasoning_text_usage_then_finish(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", reply=Reply(text="Hi there.", reasoning="Greet back."))
    outcome = await collect(provider(server))
    assert outcome.error is None
    kinds = [type(e) for e in outcome.events]
    assert kinds[0] is ReasoningDelta
    assert kinds[-2:] == [Usage, Finish]
    assert outcome.reasoning == "Greet back."
    assert outcome.text == "Hi there."
    # eval_count / eval_duration: the emulator claims 50 tokens/s over its 5 pieces, and
    # total_duration adds 0.2 s of load and prompt time.
    assert outcome.usage == Usage(
        prompt_tokens=12, completion_tokens=5, tokens_per_second=50.0, duration_s=0.3
    )
    assert outcome.finish == Finish("stop")


async def test_text_of_one_network_read_arrives_as_one_delta(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", reply=Reply(tokens=["a", "b", "c", "d"]))
    outcome = await collect(provider(server, "batch=4"))
    assert [e for e in outcome.events if isinstance(e, TextDelta)] == [TextDelta("abcd")]


async def test_the_request_body_maps_options_as_ollama_expects(emulator: EmulatorFactory) -> None:
    server = emulator("ollama")
    options = {
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 7,
        "max_tokens": 64,
        "stop": "END",
        "num_ctx": 8192,
        "keep_alive": "10m",
        "think": False,
    }
    outcome = await collect(provider(server), "qwen3:8b", options=options)
    assert outcome.error is None
    sent = server.chat_requests[-1]
    assert sent.json() == {
        "model": "qwen3:8b",
        "messages": HELLO,
        "stream": True,
        "keep_alive": "10m",
        "think": False,
        "options": {
            "temperature": 0.2,
            "top_p": 0.9,
            "seed": 7,
            "num_predict": 64,
            "stop": ["END"],
            "num_ctx": 8192,
        },
    }
    assert "authorization" not in sent.headers


async def test_an_api_key_is_sent_as_a_bearer_token(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", api_key="ollama-key-123")
    outcome = await collect(OllamaProvider(base_url=server.base_url, api_key="ollama-key-123"))
    assert outcome.error is None
    assert server.chat_requests[-1].headers["authorization"] == "Bearer ollama-key-123"


@pytest.mark.parametrize(
    ("options", "word"), [({"temprature": 1.0}, "Unknown option"), ({"num_ctx": "big"}, "must be")]
)
async def test_a_bad_option_is_refused_before_any_request(
    emulator: EmulatorFactory, options: dict[str, object], word: str
) -> None:
    server = emulator("ollama")
    outcome = await collect(provider(server), options=options)
    assert isinstance(outcome.error, InvalidOption)
    assert word in outcome.error.message
    assert server.chat_requests == []


async def test_text_on_the_final_line_is_kept(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", reply=Reply(text="Hello", final_text="!"))
    outcome = await collect(provider(server))
    assert outcome.text == "Hello!"


async def test_tool_calls_arrive_whole_with_json_arguments(emulator: EmulatorFactory) -> None:
    call = ToolCallSpec("get_weather", {"city": "Hué"}, id="call_cy3xwkra")
    server = emulator("ollama", reply=Reply(text="Checking.", tool_calls=[call]))
    outcome = await collect(provider(server))
    assert outcome.tool_calls == [
        ToolCall(index=0, name="get_weather", arguments='{"city": "Hué"}', id="call_cy3xwkra")
    ]
    assert outcome.finish == Finish("stop")  # Ollama never says "tool_calls"


async def test_an_error_line_mid_stream_is_a_server_error_keeping_the_text(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("ollama")
    outcome = await collect(provider(server, "error_after=3"))
    assert isinstance(outcome.error, ServerError)
    assert "an error was encountered while running the model" in outcome.error.message
    assert outcome.error.partial == outcome.text == "Hello from the"
    assert outcome.finish is None


async def test_eof_without_the_done_line_is_stream_interrupted(emulator: EmulatorFactory) -> None:
    server = emulator("ollama")
    outcome = await collect(provider(server, "no_done"))
    assert isinstance(outcome.error, StreamInterrupted)
    assert outcome.error.partial == outcome.text == Reply().text
    assert outcome.finish is None


async def test_a_garbage_line_is_a_protocol_error_keeping_the_text_before_it(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("ollama")
    outcome = await collect(provider(server, "garbage_after=3,batch=8"))
    assert isinstance(outcome.error, ProtocolError)
    assert "502 Bad Gateway" in outcome.error.message
    assert outcome.error.partial == outcome.text == "Hello from the"


async def test_model_not_found_hints_at_the_pull_command(emulator: EmulatorFactory) -> None:
    server = emulator("ollama")
    outcome = await collect(provider(server, "error=model_not_found"), "llama9")
    assert isinstance(outcome.error, ModelNotFound)
    assert outcome.error.message == "HTTP 404 from Ollama: model 'llama9' not found"
    assert outcome.error.hint == "try `ollama pull llama9`"
    assert outcome.error.model == "llama9"
    assert outcome.error.provider == "ollama"


@pytest.mark.parametrize(
    ("kind", "error", "said"),
    [
        ("context", ContextTooLong, "longer than the context length"),
        ("bad_request", BadRequest, "does not support thinking"),
        ("busy", ServerError, "maximum pending requests exceeded"),
        ("server", ServerError, "model runner has unexpectedly stopped"),
    ],
)
async def test_ollama_error_bodies_are_quoted(
    emulator: EmulatorFactory, kind: str, error: type[Exception], said: str
) -> None:
    server = emulator("ollama")
    outcome = await collect(provider(server, f"error={kind}"))
    assert type(outcome.error) is error
    assert said in str(outcome.error)


async def test_thinking_unsupported_hints_at_turning_it_off(emulator: EmulatorFactory) -> None:
    server = emulator("ollama")
    outcome = await collect(provider(server, "error=bad_request"), options={"think": True})
    assert isinstance(outcome.error, BadRequest)
    assert "think=False" in outcome.error.hint


async def test_raw_line_separators_inside_strings_survive(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", reply=Reply(tokens=TRICKY))
    outcome = await collect(provider(server, "raw"))
    assert outcome.error is None
    assert outcome.text == "".join(TRICKY)
    assert "\u2028".encode() in _body_of(server)  # it really was raw on the wire


async def test_every_split_offset_of_a_line_decodes_the_same(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", reply=Reply(tokens=[" é中🎉"]))
    line_length = len(_body_of(server).split(b"\n")[0])
    for offset in range(1, line_length + 1):
        outcome = await collect(provider(server, f"split={offset},raw"))
        assert outcome.text == " é中🎉", f"split at byte {offset}"
        assert outcome.finish == Finish("stop")


async def test_a_stream_sent_byte_by_byte_with_crlf_and_blank_lines_decodes(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("ollama", reply=Reply(tokens=TRICKY))
    outcome = await collect(provider(server, "bytewise,crlf,comments,raw"))
    assert outcome.error is None
    assert outcome.text == "".join(TRICKY)


async def test_models_come_from_the_tags_list(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", models=["llama3.2:latest", "qwen3:8b"])
    assert await OllamaProvider(base_url=server.base_url).amodels() == [
        "llama3.2:latest",
        "qwen3:8b",
    ]


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("", "http://localhost:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("example.com", "http://example.com:11434"),
        ("example.com:5000", "http://example.com:5000"),
        (":5000", "http://127.0.0.1:5000"),
        ("http://example.com", "http://example.com:80"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com:8443/ollama/", "https://example.com:8443/ollama"),
        ("[::1]:11435", "http://[::1]:11435"),
    ],
)
def test_ollama_host_follows_ollamas_rules(value: str, url: str) -> None:
    assert ollama_host({"OLLAMA_HOST": value}) == url


def _body_of(server: EmulatorServer) -> bytes:
    """The raw NDJSON body the server sends for its current default reply."""
    import httpx

    body = {"model": "m", "messages": HELLO, "stream": True}
    return httpx.post(
        f"{server.base_url}/api/chat", json=body, headers={"X-Emulator": "raw"}
    ).content


# -- cross-check: the official ollama-python client decodes the same text --------------------

CROSS_CASES: dict[str, tuple[Reply, str]] = {
    "plain": (Reply(), ""),
    "reasoning": (Reply(text="Yes.", reasoning="Let me think."), ""),
    "final-line-text": (Reply(text="Hello", final_text=" world"), ""),
    "crlf": (Reply(), "crlf"),
    "bytewise": (Reply(), "bytewise"),
    "split": (Reply(), "split=7"),
    # Go escapes U+2028/U+2029 (and <>&), so these reach every client intact.
    "go-escaped-separators": (Reply(tokens=["a\u2028b", " c\u2029d", " <b>&</b>", " é中🎉"]), ""),
    "trickle": (Reply(tokens=["a", "b", "c"]), "tps=200"),
    "error-mid-stream": (Reply(), "error_after=3"),
    "dropped": (Reply(), "drop_after=3"),
    "no-done-line": (Reply(), "no_done"),
}
# Where ollama-python (0.6) decodes differently, on purpose, with the reason:
KNOWN_DIFFERENT = {
    # httpx's aiter_lines() splits on U+0085 (str.splitlines), breaking the JSON; Go's
    # encoder leaves U+0085 raw, so a real Ollama can send exactly this.
    "nel-as-go-sends-it": (Reply(tokens=TRICKY), ""),
    # The same for U+2028 from a server that does not escape it.
    "raw-separators": (Reply(tokens=TRICKY), "raw"),
    # json.loads("") on a blank line (ollama-python PR #393, unmerged).
    "blank-lines": (Reply(), "comments"),
}


async def _official(server: EmulatorServer, behaviour: str) -> tuple[str, Exception | None]:
    client = ollama_python.AsyncClient(host=server.base_url, headers={"X-Emulator": behaviour})
    text = ""
    try:
        async for part in await client.chat(model="llama3.2", messages=HELLO, stream=True):
            text += part.message.content or ""
    except Exception as exc:  # the official client's own error types
        return text, exc
    finally:
        await client._client.aclose()
    return text, None


@pytest.mark.parametrize("case", CROSS_CASES)
async def test_ollama_python_decodes_the_same_text(emulator: EmulatorFactory, case: str) -> None:
    reply, behaviour = CROSS_CASES[case]
    server = emulator("ollama", reply=reply)
    server.enqueue(reply)
    theirs, _ = await _official(server, behaviour)
    ours = await collect(provider(server, behaviour))
    assert ours.text == theirs
    if ours.error is not None:
        assert ours.error.partial == theirs


@pytest.mark.parametrize("case", KNOWN_DIFFERENT)
async def test_where_ollama_python_fails_nbchat_decodes_the_whole_reply(
    emulator: EmulatorFactory, case: str
) -> None:
    reply, behaviour = KNOWN_DIFFERENT[case]
    server = emulator("ollama", reply=reply)
    theirs, error = await _official(server, behaviour)
    assert isinstance(error, json.JSONDecodeError)
    ours = await collect(provider(server, behaviour))
    assert ours.error is None
    assert ours.text == "".join(reply.text_pieces())
    assert ours.text.startswith(theirs)
    assert theirs != ours.text
