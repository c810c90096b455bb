"""nbchat's OpenAI provider against a real llama.cpp server (llama-cpp-python 0.3.36).

The server runs a tiny random-weight model (``tests/servers/tiny_gguf.py``) that never ends a
reply on its own, so every reply is cut by ``max_tokens``, a stop sequence or the context. The
reference for what the server says is a plain non-streaming POST; the provider's streamed
reply must match it exactly.

One server serves two aliases of the same file: ``tiny`` (n_ctx 512, so a prompt overflows
cheaply) and ``tiny-long`` (n_ctx 4096: a reply that is still being generated when a test
stops reading it). llama-cpp-python keeps one model loaded and reloads it when the alias
changes, which takes milliseconds for this model.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
import typing
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import httpx
import pytest
from tests.servers.fixtures import running
from tests.servers.llamacpp import LlamaCppServer, ServedModel
from tests.servers.tiny_gguf import allowed_token_texts, write_tiny_llama

import nbchat
from nbchat.errors import ContextTooLong, StreamInterrupted
from nbchat.providers.base import (
    ChatRequest,
    Finish,
    StreamEvent,
    TextDelta,
    Usage,
    WireMessage,
)
from nbchat.providers.openai import OpenAIProvider

pytestmark = pytest.mark.llamacpp

MODEL = "tiny"
LONG_MODEL = "tiny-long"


class Sampling(typing.TypedDict):
    temperature: float
    seed: int


#: Greedy decoding with a fixed seed: the same request always gets the same reply.
DETERMINISTIC: Sampling = {"temperature": 0.0, "seed": 7}
HELLO: list[WireMessage] = [
    {"role": "system", "content": "You are a tiny test model."},
    {"role": "user", "content": "Hello! Tell me about llamas, café and 中文 🎉"},
]
#: Far more tokens than ``tiny``'s 512 (the vocabulary is mostly single bytes).
TOO_LONG = "The quick brown fox jumps over the lazy dog. " * 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaCppServer]:
    workdir = tmp_path_factory.mktemp("llamacpp")
    model = write_tiny_llama(workdir)
    served = [ServedModel(MODEL, model, n_ctx=512), ServedModel(LONG_MODEL, model, n_ctx=4096)]
    with running(LlamaCppServer(served, workdir=workdir)) as llama:
        yield llama


@pytest.fixture
def provider(server: LlamaCppServer) -> OpenAIProvider:
    return OpenAIProvider(base_url=server.base_url)


# ---------------------------------------------------------------------------------------
# Helpers.


@dataclasses.dataclass
class Reply:
    """What a streamed reply amounted to."""

    text: str
    finish: str | None
    usage: list[Usage]
    deltas: int


async def stream(
    provider: OpenAIProvider,
    messages: Sequence[WireMessage],
    *,
    model: str = MODEL,
    **options: object,
) -> Reply:
    request = ChatRequest(model, list(messages), provider.check_options(options))
    parts: list[str] = []
    finish: str | None = None
    usage: list[Usage] = []
    async for event in provider.astream(request):
        assert finish is None, f"{event!r} after the Finish event"
        if isinstance(event, TextDelta):
            parts.append(event.text)
        elif isinstance(event, Usage):
            usage.append(event)
        elif isinstance(event, Finish):
            finish = event.reason
    return Reply("".join(parts), finish, usage, len(parts))


async def reference(
    server: LlamaCppServer,
    messages: Sequence[WireMessage],
    *,
    model: str = MODEL,
    **options: object,
) -> dict[str, object]:
    """The server's own non-streamed answer to the same request (a plain httpx POST)."""
    body = {"model": model, "messages": list(messages), "stream": False, **options}
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(f"{server.base_url}/chat/completions", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def content(answer: dict[str, object]) -> str:
    choice = answer["choices"][0]  # type: ignore[index]
    text: str = choice["message"]["content"]
    return text


def finish_reason(answer: dict[str, object]) -> str:
    reason: str = answer["choices"][0]["finish_reason"]  # type: ignore[index]
    return reason


def completion_tokens(answer: dict[str, object]) -> int:
    count: int = answer["usage"]["completion_tokens"]  # type: ignore[index]
    return count


def first_occurrence(text: str, *, length: int, at_least: int) -> tuple[int, str]:
    """A substring of ``text`` that occurs first at an index >= ``at_least``."""
    for index in range(at_least, len(text) - length):
        piece = text[index : index + length]
        if text.find(piece) == index and piece.strip() == piece:
            return index, piece
    raise AssertionError(f"no fresh {length}-character piece in {text!r}")


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)


def disconnects(server: LlamaCppServer) -> int:
    """How many streams the server has abandoned (its own log line for each)."""
    return len(re.findall(r"Disconnected from client \(via refresh/close\)", server.log_text()))


@contextlib.asynccontextmanager
async def open_stream(
    provider: OpenAIProvider, request: ChatRequest
) -> AsyncIterator[AsyncIterator[StreamEvent]]:
    """The provider's event stream, closed (response and all) when the block ends."""
    events = provider.astream(request)
    try:
        yield events
    finally:
        await events.aclose()  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------
# The server itself.


async def test_models_lists_every_alias(provider: OpenAIProvider) -> None:
    assert await provider.amodels() == [MODEL, LONG_MODEL]


async def test_model_only_produces_its_allowed_tokens(server: LlamaCppServer) -> None:
    # Guards the model trick the other tests rely on: no end-of-sequence, no control tokens.
    answer = await reference(server, HELLO, max_tokens=200, **DETERMINISTIC)
    assert finish_reason(answer) == "length"
    assert completion_tokens(answer) == 200
    allowed = "".join(allowed_token_texts())
    assert set(content(answer)) <= set(allowed)


# ---------------------------------------------------------------------------------------
# Replies.


async def test_streamed_reply_equals_non_streamed_reply(
    server: LlamaCppServer, provider: OpenAIProvider
) -> None:
    expected = await reference(server, HELLO, max_tokens=64, **DETERMINISTIC)
    reply = await stream(provider, HELLO, max_tokens=64, **DETERMINISTIC)
    assert reply.text == content(expected)
    assert reply.finish == finish_reason(expected) == "length"
    assert reply.deltas > 1  # it did stream


async def test_stop_sequence_ends_reply_before_the_stop_text(
    server: LlamaCppServer, provider: OpenAIProvider
) -> None:
    full = content(await reference(server, HELLO, max_tokens=64, **DETERMINISTIC))
    index, stop = first_occurrence(full, length=3, at_least=8)

    reply = await stream(provider, HELLO, max_tokens=64, stop=[stop], **DETERMINISTIC)

    assert reply.finish == "stop"
    assert reply.text == full[:index]
    assert stop not in reply.text


async def test_max_tokens_ends_reply_with_length_after_exactly_that_many_tokens(
    server: LlamaCppServer, provider: OpenAIProvider
) -> None:
    expected = await reference(server, HELLO, max_tokens=17, **DETERMINISTIC)
    assert completion_tokens(expected) == 17

    reply = await stream(provider, HELLO, max_tokens=17, **DETERMINISTIC)

    assert reply.finish == "length"
    # llama-cpp-python 0.3.36 sends no usage in a stream, so the count comes from the
    # identical non-streamed reply; if the provider ever reports usage it must agree.
    assert reply.text == content(expected)
    assert all(u.completion_tokens in (None, 17) for u in reply.usage)


# ---------------------------------------------------------------------------------------
# Context overflow.


async def test_prompt_longer_than_context_is_a_400_when_not_streamed(
    server: LlamaCppServer,
) -> None:
    # The non-streaming form of the error, as the server sends it (the provider's error
    # mapping is tested against this exact body with the emulators).
    body = {"model": MODEL, "messages": [{"role": "user", "content": TOO_LONG}], "stream": False}
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(f"{server.base_url}/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert "maximum context length is 512 tokens" in error["message"]


async def test_prompt_longer_than_context_when_streamed_is_context_too_long(
    provider: OpenAIProvider,
) -> None:
    # Streamed, the server answers 200 text/event-stream with an empty body: no error, no
    # [DONE]. That must not read as an empty reply; the server's own words should reach us.
    messages: list[WireMessage] = [{"role": "user", "content": TOO_LONG}]
    with pytest.raises(ContextTooLong) as caught:
        await stream(provider, messages, max_tokens=8)
    assert "maximum context length is 512 tokens" in caught.value.message
    assert caught.value.hint
    assert caught.value.partial == ""


async def test_request_after_a_context_overflow_succeeds(
    server: LlamaCppServer, provider: OpenAIProvider
) -> None:
    # The server closes the connection after the empty 200; a pooled connection reused
    # right away would be reset. The next reply must not notice.
    messages: list[WireMessage] = [{"role": "user", "content": TOO_LONG}]
    with pytest.raises(ContextTooLong):
        await stream(provider, messages, max_tokens=8)
    expected = await reference(server, HELLO, max_tokens=12, **DETERMINISTIC)
    reply = await stream(provider, HELLO, max_tokens=12, **DETERMINISTIC)
    assert reply.text == content(expected)


# ---------------------------------------------------------------------------------------
# Stopping and interruption.


async def test_closing_the_stream_stops_generation_and_frees_the_server(
    server: LlamaCppServer, provider: OpenAIProvider
) -> None:
    expected = await reference(server, HELLO, max_tokens=24, **DETERMINISTIC)
    seen = disconnects(server)
    # 2000 tokens keep this model busy for seconds: far longer than reading three deltas.
    request = ChatRequest(LONG_MODEL, HELLO, {"max_tokens": 2000, **DETERMINISTIC})
    received: list[str] = []
    async with open_stream(provider, request) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                received.append(event.text)
            if len(received) == 3:
                break
    assert "".join(received)

    # The server logs a disconnect only for a stream it abandons mid-reply (a finished one
    # ends with [DONE] instead); waiting for it before the next request proves our close,
    # not the next request, stopped the generation.
    await wait_for(lambda: disconnects(server) > seen, "the server to notice the close")

    reply = await stream(provider, HELLO, max_tokens=24, **DETERMINISTIC)
    assert reply.finish == "length"
    assert reply.text == content(expected)


async def test_a_new_request_cuts_a_streaming_reply_short_and_it_is_reported(
    server: LlamaCppServer, provider: OpenAIProvider
) -> None:
    # llama-cpp-python's default (interrupt_requests) ends the reply in progress with a bare
    # ``data: [DONE]`` (no finish_reason) and drops the connection when another request
    # arrives: that reply is incomplete and must be reported so, with its text kept.
    expected = await reference(server, HELLO, max_tokens=24, **DETERMINISTIC)
    request = ChatRequest(LONG_MODEL, HELLO, {"max_tokens": 2000, **DETERMINISTIC})
    received: list[str] = []
    second: list[asyncio.Task[dict[str, object]]] = []

    async def read_and_send_another_request() -> None:
        async with open_stream(provider, request) as events:
            async for event in events:
                assert not isinstance(event, Finish), "the cut reply claimed to be complete"
                if isinstance(event, TextDelta):
                    received.append(event.text)
                if len(received) == 3 and not second:
                    second.append(
                        asyncio.create_task(
                            reference(server, HELLO, max_tokens=24, **DETERMINISTIC)
                        )
                    )

    with pytest.raises(StreamInterrupted) as caught:
        await read_and_send_another_request()
    assert len(received) >= 3
    assert caught.value.partial == "".join(received)
    assert content(await second[0]) == content(expected)


# ---------------------------------------------------------------------------------------
# A conversation, end to end.


def test_conversation_streams_and_sends_its_history_as_the_server_expects(
    server: LlamaCppServer,
) -> None:
    chat = nbchat.Conversation(
        f"openai:{MODEL}",
        base_url=server.base_url,
        system=HELLO[0]["content"],
        max_tokens=20,
        **DETERMINISTIC,
    )
    first = chat.prompt(HELLO[1]["content"])
    streamed = "".join(e.text for e in first if isinstance(e, TextDelta))
    second = chat.prompt("And about notebooks?").result()

    # The same exchange, asked of the server directly with the history spelled out.
    history: list[WireMessage] = [
        *HELLO,
        {"role": "assistant", "content": streamed},
        {"role": "user", "content": "And about notebooks?"},
    ]
    expected_first = asyncio.run(reference(server, HELLO, max_tokens=20, **DETERMINISTIC))
    expected_second = asyncio.run(reference(server, history, max_tokens=20, **DETERMINISTIC))
    assert streamed == first.text == content(expected_first)
    assert second == content(expected_second)
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "user", "assistant"]
    assert [m["content"] for m in chat.messages][1::2] == [streamed, second]
    assert first.finish_reason == "length"
    assert chat.messages[-1]["meta"]["finish_reason"] == "length"


def test_conversation_stop_keeps_the_partial_reply_and_frees_the_server(
    server: LlamaCppServer,
) -> None:
    chat = nbchat.Conversation(f"openai:{LONG_MODEL}", base_url=server.base_url, **DETERMINISTIC)
    seen = disconnects(server)
    turn = chat.prompt(HELLO[1]["content"], max_tokens=2000)
    received: list[str] = []
    for event in turn:
        if isinstance(event, TextDelta):
            received.append(event.text)
            if len(received) == 3:
                turn.stop()

    assert turn.status == "stopped"
    assert turn.text.startswith("".join(received[:3]))
    assert chat.messages[-1]["content"] == turn.text
    assert chat.messages[-1]["meta"]["stopped"] is True
    asyncio.run(wait_for(lambda: disconnects(server) > seen, "the server to notice the stop"))

    # The stopped reply is history now; the next turn is answered as if it had been whole.
    after = chat.prompt("Go on.", max_tokens=12).result()
    history: list[WireMessage] = [
        HELLO[1],
        {"role": "assistant", "content": turn.text},
        {"role": "user", "content": "Go on."},
    ]
    expected = asyncio.run(
        reference(server, history, model=LONG_MODEL, max_tokens=12, **DETERMINISTIC)
    )
    assert after == content(expected)
