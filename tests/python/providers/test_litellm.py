"""nbchat through a real LiteLLM proxy (litellm[proxy] 1.108.7) in front of real servers.

The gateway tier: one proxy routes to the real llama.cpp server (``tests/servers/llamacpp.py``,
the tiny model), to the Ollama emulator through ``ollama_chat/`` (which speaks ``/api/chat``),
to an OpenAI emulator, and to ports where nothing listens. nbchat detects the proxy, lists
its models, streams through it, and reports its refusals and errors in one line each.

Two proxies, both without a database, as ``litellm --config`` runs them:

- ``proxy``: a master key and nothing else. Any other key is answered 400 "No connected db."
  (the proxy takes it for a virtual key it cannot look up).
- ``keyed``: the same plus a ``custom_auth`` hook that refuses a wrong key with the 401 a
  proxy with a database (virtual keys) answers.

The end of the file holds the ``litellm`` emulator flavour (what the fast tests use) to the
real wire, so the emulator cannot drift from what it stands for.
"""

from __future__ import annotations

import dataclasses
import json
import time
import typing
from collections.abc import Iterator

import httpx
import pytest
from tests.ports import closed_port
from tests.servers import EmulatorServer, Reply
from tests.servers.fixtures import running
from tests.servers.litellm_proxy import MASTER_KEY, Deployment, LiteLLMProxy
from tests.servers.llamacpp import LlamaCppServer, ServedModel
from tests.servers.tiny_gguf import write_tiny_llama

import nbchat
from nbchat.errors import (
    AuthenticationFailed,
    ModelNotFound,
    NbchatError,
    ServerError,
)
from nbchat.providers._status import NO_DB_HINT, UPSTREAM_DOWN_HINT
from nbchat.providers.base import (
    ChatRequest,
    Finish,
    ReasoningDelta,
    TextDelta,
    Usage,
    WireMessage,
)
from nbchat.providers.detect import detect
from nbchat.providers.openai import OpenAIProvider

pytestmark = pytest.mark.litellm

WRONG_KEY = "sk-wrong-key-0123456789abcdef"
HELLO: list[WireMessage] = [{"role": "user", "content": "Hello! Tell me about llamas."}]
DETERMINISTIC = {"temperature": 0.0, "seed": 7}
THINKING = "Let me think about llamas."


@dataclasses.dataclass(frozen=True)
class Upstreams:
    llama: LlamaCppServer
    ollama: EmulatorServer
    openai: EmulatorServer
    nothing: int  # a port where nothing listens

    def deployments(self) -> list[Deployment]:
        ollama, openai = self.ollama.root_url, self.openai.base_url
        think = "qwen3:0.6b@reasoning=" + THINKING.replace(" ", "%20")
        return [
            Deployment("tiny", "openai/tiny", self.llama.base_url),
            Deployment("qwen", "ollama_chat/qwen3:0.6b", ollama),
            Deployment("qwen-think", f"ollama_chat/{think}", ollama),
            Deployment("qwen-midfail", "ollama_chat/qwen3:0.6b@error_after=3", ollama),
            Deployment("gpt", "openai/gpt-4o-mini", openai),
            Deployment("gpt-midfail", "openai/gpt-4o-mini@error_after=3", openai),
            Deployment("down", "openai/down", f"http://127.0.0.1:{self.nothing}/v1"),
            Deployment("qwen-down", "ollama_chat/qwen3:0.6b", f"http://127.0.0.1:{self.nothing}"),
        ]


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstreams]:
    workdir = tmp_path_factory.mktemp("llamacpp")
    llama = LlamaCppServer([ServedModel("tiny", write_tiny_llama(workdir))], workdir=workdir)
    with running(llama), EmulatorServer("ollama") as ollama, EmulatorServer("openai") as openai:
        yield Upstreams(llama, ollama, openai, closed_port())


def _proxy(
    upstreams: Upstreams, workdir: typing.Any, *, db_less_auth: bool
) -> Iterator[LiteLLMProxy]:
    proxy = LiteLLMProxy(
        upstreams.deployments(),
        workdir=workdir,
        ollama_base=upstreams.ollama.root_url,
        db_less_auth=db_less_auth,
    )
    with running(proxy):
        yield proxy


@pytest.fixture(scope="module")
def proxy(upstreams: Upstreams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteLLMProxy]:
    yield from _proxy(upstreams, tmp_path_factory.mktemp("litellm"), db_less_auth=True)


@pytest.fixture(scope="module")
def keyed(upstreams: Upstreams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteLLMProxy]:
    yield from _proxy(upstreams, tmp_path_factory.mktemp("litellm-keyed"), db_less_auth=False)


def provider(proxy: LiteLLMProxy, api_key: str | None = MASTER_KEY) -> OpenAIProvider:
    return OpenAIProvider(base_url=proxy.base_url, api_key=api_key)


@dataclasses.dataclass
class Outcome:
    text: str = ""
    reasoning: str = ""
    deltas: int = 0
    usage: list[Usage] = dataclasses.field(default_factory=list)
    finish: str | None = None
    error: NbchatError | None = None


async def collect(p: OpenAIProvider, model: str, **options: object) -> Outcome:
    out = Outcome()
    try:
        async for event in p.astream(ChatRequest(model, list(HELLO), p.check_options(options))):
            if isinstance(event, TextDelta):
                out.text += event.text
                out.deltas += 1
            elif isinstance(event, ReasoningDelta):
                out.reasoning += event.text
            elif isinstance(event, Usage):
                out.usage.append(event)
            elif isinstance(event, Finish):
                out.finish = event.reason
    except NbchatError as exc:
        out.error = exc
    return out


def one_line(error: NbchatError | None) -> str:
    """What a user reads: message — hint, on one line, never the key."""
    assert error is not None
    shown = str(error)
    assert "\n" not in shown, shown
    assert MASTER_KEY not in shown
    assert WRONG_KEY not in shown
    assert "LiteLLM: model group" not in shown  # the proxy's trailer says nothing new
    return shown


# ---------------------------------------------------------------------------------------
# Finding it and listing its models.


async def test_detection_names_the_gateway(proxy: LiteLLMProxy) -> None:
    # The proxy's /models carries no x-litellm-version header (1.108.7); its home page
    # is what names it.
    async with httpx.AsyncClient() as client:
        listed = await client.get(
            f"{proxy.base_url}/models", headers={"Authorization": f"Bearer {MASTER_KEY}"}
        )
    assert "x-litellm-version" not in listed.headers
    found = await detect(proxy.root, api_key=MASTER_KEY)
    assert (found.provider, found.base_url, found.server) == ("openai", proxy.base_url, "litellm")


def test_models_lists_every_deployment(proxy: LiteLLMProxy, upstreams: Upstreams) -> None:
    names = [d.name for d in upstreams.deployments()]
    listed = nbchat.models("openai", base_url=proxy.base_url, api_key=MASTER_KEY)
    assert listed == [f"openai:{n}" for n in names]


# ---------------------------------------------------------------------------------------
# Streaming through it.


async def test_a_reply_from_llamacpp_through_the_proxy_is_the_servers_own(
    proxy: LiteLLMProxy, upstreams: Upstreams
) -> None:
    direct = await collect(
        OpenAIProvider(base_url=upstreams.llama.base_url), "tiny", max_tokens=24, **DETERMINISTIC
    )
    routed = await collect(provider(proxy), "tiny", max_tokens=24, **DETERMINISTIC)
    assert routed.error is None, routed.error
    assert routed.text == direct.text != ""
    assert routed.finish == direct.finish == "length"
    assert routed.deltas > 3  # it streamed, piece by piece
    # llama-cpp-python streams no usage; the proxy counts the tokens itself.
    assert routed.usage
    assert routed.usage[-1].completion_tokens


async def test_a_reply_from_ollama_through_ollama_chat(
    proxy: LiteLLMProxy, upstreams: Upstreams
) -> None:
    before = len(upstreams.ollama.chat_requests)
    out = await collect(provider(proxy), "qwen", max_tokens=50)
    assert out.error is None, out.error
    assert out.text == Reply().text
    assert out.finish == "stop"
    assert out.deltas > 3
    sent = [r for r in upstreams.ollama.chat_requests[before:] if r.path == "/api/chat"]
    assert len(sent) == 1  # the native API, once (num_retries: 0)
    body = sent[0].json()
    assert body["stream"] is True
    assert body["options"]["num_predict"] == 50


async def test_thinking_from_ollama_arrives_as_reasoning(proxy: LiteLLMProxy) -> None:
    out = await collect(provider(proxy), "qwen-think")
    assert out.error is None, out.error
    assert out.reasoning == THINKING
    assert out.text == Reply().text


def test_a_conversation_streams_through_the_proxy(proxy: LiteLLMProxy) -> None:
    pieces = list(nbchat.stream("Hi", "openai:qwen", base_url=proxy.base_url, api_key=MASTER_KEY))
    assert len(pieces) > 3
    assert "".join(pieces) == Reply().text


# ---------------------------------------------------------------------------------------
# Its refusals and errors, each one line.


async def test_a_wrong_key_on_a_proxy_without_a_database(proxy: LiteLLMProxy) -> None:
    out = await collect(provider(proxy, WRONG_KEY), "qwen")
    assert isinstance(out.error, AuthenticationFailed)
    assert out.error.status == 400  # "No connected db.": the key is still what is wrong
    assert out.error.hint == NO_DB_HINT
    assert "No connected db." in one_line(out.error)


async def test_no_key(proxy: LiteLLMProxy) -> None:
    out = await collect(provider(proxy, None), "qwen")
    assert isinstance(out.error, AuthenticationFailed)
    assert out.error.status == 401
    assert "No api key passed in" in one_line(out.error)
    assert "OPENAI_API_KEY" in out.error.hint


async def test_a_wrong_key_on_a_proxy_with_keys(keyed: LiteLLMProxy) -> None:
    out = await collect(provider(keyed, WRONG_KEY), "qwen")
    assert isinstance(out.error, AuthenticationFailed)
    assert out.error.status == 401
    assert "Invalid proxy server token" in one_line(out.error)
    assert "refused" in out.error.hint


# A proxy whose model_list has wildcards ("*") says "no healthy deployments" instead
# (test_litellm_wire.py holds that recorded answer).
@pytest.mark.parametrize("which", ["proxy", "keyed"])
async def test_an_unknown_model(which: str, request: pytest.FixtureRequest) -> None:
    gateway: LiteLLMProxy = request.getfixturevalue(which)
    out = await collect(provider(gateway), "no-such-model")
    assert isinstance(out.error, ModelNotFound), out.error
    assert "Invalid model name passed in model=no-such-model" in one_line(out.error)
    assert "nbchat.models()" in out.error.hint


@pytest.mark.parametrize("model", ["down", "qwen-down"])
async def test_an_upstream_that_is_down(proxy: LiteLLMProxy, model: str) -> None:
    started = time.monotonic()
    out = await collect(provider(proxy), model)
    assert time.monotonic() - started < 10  # num_retries: 0, answered before any stream
    assert isinstance(out.error, ServerError), out.error
    assert out.error.status == 500
    assert out.error.hint == UPSTREAM_DOWN_HINT
    one_line(out.error)


@pytest.mark.parametrize("model", ["gpt-midfail", "qwen-midfail"])
async def test_an_error_mid_stream_keeps_the_text(proxy: LiteLLMProxy, model: str) -> None:
    out = await collect(provider(proxy), model)
    assert isinstance(out.error, ServerError), out.error
    assert "mid-reply" in one_line(out.error)
    assert out.text == "Hello from the"
    assert out.error.partial == out.text


# ---------------------------------------------------------------------------------------
# The emulator's `litellm` flavour, held to the real wire.


def wire(raw: bytes) -> list[str]:
    """The SSE events' data, checking the proxy's framing: `data: …` + a blank line, LF."""
    text = raw.decode()
    assert "\r" not in text
    assert text.endswith("\n\n")
    events = text[:-2].split("\n\n")
    assert all(e.startswith("data: ") and "\n" not in e for e in events), events
    return [e.removeprefix("data: ") for e in events]


def shape(events: list[str]) -> list[typing.Any]:
    """What the wire looks like, without values that differ by nature (ids, times, text)."""
    out: list[typing.Any] = []
    for data in events:
        if data == "[DONE]":
            out.append("[DONE]")
            continue
        chunk = json.loads(data)
        if "error" in chunk:
            error = chunk["error"]
            spaced = data.startswith('{"error": {')  # Python's json.dumps spacing
            kinds = {k: type(v).__name__ for k, v in error.items()}
            out.append(("error", spaced, kinds, error["code"], error["message"].split(":")[0]))
            continue
        choices = [
            (sorted(c), sorted(c["delta"]), c.get("finish_reason")) for c in chunk["choices"]
        ]
        out.append((sorted(k for k in chunk if k != "service_tier"), choices, "usage" in chunk))
    # Consecutive text chunks look alike; how many there are depends on the text.
    return [s for i, s in enumerate(out) if i == 0 or s != out[i - 1]]


async def answers(
    base: str,
    body: dict[str, object] | None = None,
    *,
    path: str = "/chat/completions",
    key: str | None = MASTER_KEY,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(timeout=30) as client:
        if not body:
            return await client.get(base + path, headers=headers)
        return await client.post(base + path, json=body, headers=headers)


@pytest.fixture
def twin(emulator: typing.Any) -> EmulatorServer:
    server: EmulatorServer = emulator("litellm", api_key=MASTER_KEY)
    return server


STREAM: dict[str, object] = {
    "messages": HELLO,
    "stream": True,
    "stream_options": {"include_usage": True},
}


async def test_the_emulator_streams_as_the_proxy_does(
    proxy: LiteLLMProxy, twin: EmulatorServer
) -> None:
    real = await answers(proxy.base_url, {**STREAM, "model": "gpt"})
    emulated = await answers(twin.base_url, {**STREAM, "model": "gpt"})
    assert real.status_code == emulated.status_code == 200
    for response in (real, emulated):
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert "x-litellm-version" in response.headers
    assert shape(wire(emulated.content)) == shape(wire(real.content))


async def test_the_emulator_fails_mid_stream_as_the_proxy_does(
    proxy: LiteLLMProxy, twin: EmulatorServer
) -> None:
    real = await answers(proxy.base_url, {**STREAM, "model": "gpt-midfail"})
    emulated = await answers(twin.base_url, {**STREAM, "model": "gpt@error_after=3"})
    assert shape(wire(emulated.content)) == shape(wire(real.content))
    assert shape(wire(real.content))[-1][0] == "error"  # no [DONE] after it


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/", MASTER_KEY),
        ("/v1/models", MASTER_KEY),
        ("/v1/models", WRONG_KEY),
        ("/v1/models", None),
    ],
)
async def test_the_emulator_answers_the_proxys_own_routes_alike(
    proxy: LiteLLMProxy, twin: EmulatorServer, path: str, key: str | None
) -> None:
    real = await answers(proxy.root, path=path, key=key)
    emulated = await answers(twin.root_url, path=path, key=key)
    assert emulated.status_code == real.status_code
    assert ("x-litellm-version" in emulated.headers) == ("x-litellm-version" in real.headers)
    if real.status_code == 200 and path != "/":
        assert {m["owned_by"] for m in emulated.json()["data"]} == {"openai"}
        assert sorted(emulated.json()["data"][0]) == sorted(real.json()["data"][0])
    else:
        assert emulated.json() == real.json()
