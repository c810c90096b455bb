"""nbchat.Compare against two real llama.cpp servers (llama-cpp-python), side by side.

A llama.cpp server handles one request at a time (a second one cuts the first short), so a
comparison of two local models needs one server per model, each receiving exactly one
request per prompt, both streaming at once. Each server runs its own tiny random-weight
model (``tests/servers/tiny_gguf.py``, different seeds), so the two replies differ and a
second prompt's history shows which column it came from.

Concurrency is judged from the order of client-side events recorded on nbchat's worker
loop (one thread, so the order is real), never from sleeps or durations.
"""

from __future__ import annotations

import re
import typing
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from tests.servers.llamacpp import LlamaCppServer, LlamaCppUnavailable, ServedModel
from tests.servers.tiny_gguf import TinyLlamaSpec, write_tiny_llama

import nbchat
from nbchat.providers.base import ChatRequest, StreamEvent, TextDelta, WireMessage
from nbchat.providers.openai import OpenAIProvider

pytestmark = pytest.mark.llamacpp

SYSTEM = "Be brief."
#: Greedy decoding with a fixed seed: the same request always gets the same reply.
OPTIONS: dict[str, typing.Any] = {"temperature": 0.0, "seed": 7, "max_tokens": 24}
#: Each column's model alias and the seed its weights are drawn from.
MODELS = (("tiny-a", 20261124), ("tiny-b", 7))


@pytest.fixture(autouse=True)
def _recorded(recording_comm: None) -> None:
    """Every widget in this module gets a :class:`tests.comms.RecordingComm`."""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LlamaCppServer]]:
    started: list[LlamaCppServer] = []
    try:
        for alias, seed in MODELS:
            workdir = tmp_path_factory.mktemp(f"llamacpp-{alias}")
            model = write_tiny_llama(workdir, TinyLlamaSpec(seed=seed))
            server = LlamaCppServer([ServedModel(alias, model)], workdir=workdir)
            started.append(server)
            try:
                server.start()
            except LlamaCppUnavailable as exc:
                pytest.fail(str(exc), pytrace=False)  # a missing server fails, never skips
        yield started
    finally:
        for server in started:
            server.stop()


def completions(server: LlamaCppServer) -> int:
    """How many chat requests the server has answered (uvicorn's access log line for each)."""
    return len(re.findall(r'"POST /v1/chat/completions HTTP/1\.1" 200', server.log_text()))


def reference(server: LlamaCppServer, alias: str, messages: list[WireMessage]) -> str:
    """The server's own non-streamed answer to ``messages`` (a plain httpx POST)."""
    body = {"model": alias, "messages": messages, "stream": False, **OPTIONS}
    response = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=60)
    assert response.status_code == 200, response.text
    text: str = response.json()["choices"][0]["message"]["content"]
    return text


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """``(what, base_url)`` in the order they happened: ``sent`` when a request to a server
    starts, ``first`` when its first text arrives, ``end`` when its stream has ended. Appended
    on the worker loop's one thread."""
    log: list[tuple[str, str]] = []
    astream = OpenAIProvider.astream

    async def recorded(self: OpenAIProvider, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        first = True
        log.append(("sent", self.base_url))
        async for event in astream(self, request):
            if first and isinstance(event, TextDelta) and event.text:
                log.append(("first", self.base_url))
                first = False
            yield event
        log.append(("end", self.base_url))

    monkeypatch.setattr(OpenAIProvider, "astream", recorded)
    return log


def test_two_servers_stream_at_once_and_each_column_keeps_its_history(
    servers: list[LlamaCppServer], events: list[tuple[str, str]]
) -> None:
    conversations = [
        nbchat.Conversation(f"openai:{alias}", base_url=server.base_url, system=SYSTEM, **OPTIONS)
        for (alias, _), server in zip(MODELS, servers, strict=True)
    ]
    cmp = nbchat.Compare(conversations)
    labels = [f"openai:{alias}" for alias, _ in MODELS]
    assert cmp.models == labels
    urls = [server.base_url for server in servers]
    before = [completions(server) for server in servers]

    first = cmp.ask("Hello! Tell me about llamas.")

    # Both replies whole (a second request to one server would have cut its reply short).
    replies = [first[label] for label in labels]
    assert all(isinstance(reply, str) and reply for reply in replies), first
    assert replies[0] != replies[1]  # two models, two different answers
    # Exactly one request per server.
    assert [completions(s) - n for s, n in zip(servers, before, strict=True)] == [1, 1]
    # Side by side: each request was sent before the other's stream ended (a tiny model on a
    # busy machine may answer whole before the other's first token, so that is not judged).
    assert sorted(events) == sorted([(w, u) for u in urls for w in ("sent", "first", "end")])
    for mine, other in ((urls[0], urls[1]), (urls[1], urls[0])):
        assert events.index(("sent", mine)) < events.index(("end", other)), events

    events.clear()
    second = cmp.ask("And about notebooks?")

    assert [completions(s) - n for s, n in zip(servers, before, strict=True)] == [2, 2]
    for mine, other in ((urls[0], urls[1]), (urls[1], urls[0])):
        assert events.index(("sent", mine)) < events.index(("end", other)), events
    # Each server was sent its own column's history: its answer equals the server's own
    # answer to that history spelled out (greedy decoding, fixed seed).
    for (alias, _), label, server, reply in zip(MODELS, labels, servers, replies, strict=True):
        history: list[WireMessage] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Hello! Tell me about llamas."},
            {"role": "assistant", "content": typing.cast(str, reply)},
            {"role": "user", "content": "And about notebooks?"},
        ]
        assert second[label] == reference(server, alias, history)
        messages = cmp.conversations[label].messages
        assert [m["content"] for m in messages] == [
            "Hello! Tell me about llamas.",
            reply,
            "And about notebooks?",
            second[label],
        ]
