"""LiteLLM's proxy as nbchat meets it, in the fast tier: the ``litellm`` emulator (held to
the real proxy by ``test_litellm.py``) and answers recorded from litellm 1.108.7."""

from __future__ import annotations

import httpx
import pytest
from tests.servers.fixtures import EmulatorFactory

from nbchat.errors import AuthenticationFailed, ModelNotFound, RateLimited, ServerError
from nbchat.providers import _http
from nbchat.providers._status import NO_DB_HINT, UPSTREAM_DOWN_HINT
from nbchat.providers.base import ChatRequest, Finish, StreamEvent, TextDelta, Usage
from nbchat.providers.openai import OpenAIProvider

MASTER = "sk-master-0123456789abcdef"
ENDPOINT = _http.Endpoint(label="the OpenAI-compatible server", base_url="http://gw/v1")
TRAILER = "\n\nLiteLLM: model group 'nope' failed with the error above. No fallback was attempted."


def classify(status: int, body: bytes, headers: dict[str, str] | None = None) -> Exception:
    info = _http.parse_error_body(body, "application/json")
    return _http.classify(ENDPOINT, status, info, httpx.Headers(headers or {}))


async def run(
    provider: OpenAIProvider, model: str = "gpt"
) -> tuple[str, list[StreamEvent], Exception]:
    text, events = "", list[StreamEvent]()
    try:
        async for event in provider.astream(
            ChatRequest(model, [{"role": "user", "content": "hi"}])
        ):
            events.append(event)
            if isinstance(event, TextDelta):
                text += event.text
    except Exception as exc:  # the test looks at it
        return text, events, exc
    return text, events, AssertionError("no error")


# -- recorded answers -------------------------------------------------------------------------


def test_no_healthy_deployments_is_a_missing_model_without_the_trailer() -> None:
    # What a proxy with wildcard model_list entries answers for a model none of them serves.
    message = (
        "litellm.BadRequestError: You passed in model=nope. There are no healthy deployments "
        "for this model" + TRAILER
    )
    body = httpx.Response(400, json={"error": {"message": message, "code": "400"}}).content
    error = classify(400, body)
    assert isinstance(error, ModelNotFound)
    assert error.message.endswith("There are no healthy deployments for this model")


@pytest.mark.parametrize(
    "said",
    [
        "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.",
        "litellm.APIConnectionError: Ollama_chatException - Cannot connect to host "
        "REDACTED:41009 ssl:<ssl.SSLContext object at 0x7f> [Connect call failed ('127.0.0.1', "
        "41009)]",
    ],
)
def test_an_upstream_that_is_down_says_so(said: str) -> None:
    body = httpx.Response(500, json={"error": {"message": said + TRAILER, "code": "500"}})
    error = classify(500, body.content)
    assert isinstance(error, ServerError)
    assert error.hint == UPSTREAM_DOWN_HINT
    assert "LiteLLM: model group" not in error.message


def test_a_rate_limit_reads_the_retry_after_litellm_passes_on() -> None:
    body = b'{"error":{"message":"litellm.RateLimitError: slow down","code":"429"}}'
    error = classify(429, body, {"llm_provider-retry-after": "7"})
    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0


# -- the emulator -----------------------------------------------------------------------------


async def test_a_wrong_key_without_a_database_is_an_authentication_failure(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("litellm", api_key=MASTER)
    _, _, error = await run(OpenAIProvider(base_url=server.base_url, api_key="sk-not-the-master"))
    assert isinstance(error, AuthenticationFailed)
    assert error.status == 400
    assert error.message == "HTTP 400 from the OpenAI-compatible server: No connected db."
    assert error.hint == NO_DB_HINT


async def test_the_usage_chunk_with_a_choice_is_counted(emulator: EmulatorFactory) -> None:
    server = emulator("litellm")
    text, events, _ = await run(OpenAIProvider(base_url=server.base_url, api_key=MASTER))
    usage = [e for e in events if isinstance(e, Usage)]
    assert len(usage) == 1
    assert usage[0].completion_tokens == len([e for e in events if isinstance(e, TextDelta)])
    assert isinstance(events[-1], Finish)
    assert text != ""
    raw = await _raw(server.base_url)
    last = raw.split("\n\n")[-3]  # before [DONE]
    assert '"choices":[{"index":0,"delta":{}}],"usage"' in last


async def _raw(base: str) -> str:
    body = {"model": "gpt", "stream": True, "stream_options": {"include_usage": True}}
    body["messages"] = [{"role": "user", "content": "hi"}]
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{base}/chat/completions", json=body)
    return response.text
