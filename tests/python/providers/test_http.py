"""The httpx boundary: every failure becomes one nbchat error with a clear line and a hint.

Everything here goes over real HTTP to the loopback emulators; nothing mocks httpx.
"""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time

import pytest
from tests.ports import closed_port
from tests.servers import EmulatorServer
from tests.servers.collect import collect
from tests.servers.fixtures import EmulatorFactory

from nbchat.errors import (
    AuthenticationFailed,
    BadRequest,
    ContextTooLong,
    IdleTimeout,
    InvalidRequest,
    ModelNotFound,
    NbchatError,
    ProtocolError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    StreamInterrupted,
    redact_error,
    redact_userinfo,
)
from nbchat.providers import _http
from nbchat.providers.base import Timeouts
from nbchat.providers.ollama import OllamaProvider
from nbchat.providers.openai import OpenAIProvider

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"


def ollama(server: EmulatorServer, behaviour: str = "", **kw: object) -> OllamaProvider:
    headers = {"X-Emulator": behaviour} if behaviour else {}
    return OllamaProvider(base_url=server.base_url, headers=headers, **kw)  # type: ignore[arg-type]


def openai(server: EmulatorServer, behaviour: str = "", **kw: object) -> OpenAIProvider:
    headers = {"X-Emulator": behaviour} if behaviour else {}
    return OpenAIProvider(base_url=server.base_url, headers=headers, **kw)  # type: ignore[arg-type]


# -- no server ---------------------------------------------------------------------------


async def test_refused_connection_names_the_url_and_says_to_start_ollama() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    outcome = await collect(OllamaProvider(base_url=url))
    assert isinstance(outcome.error, ServerUnreachable)
    assert (
        str(outcome.error)
        == f"No server at {url} (connection refused) — is `ollama serve` running?"
    )


async def test_refused_connection_on_openai_names_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    outcome = await collect(OpenAIProvider(base_url=url))
    assert isinstance(outcome.error, ServerUnreachable)
    assert url in outcome.error.message
    assert "refused" in outcome.error.message


async def test_dns_failure_is_server_unreachable() -> None:
    outcome = await collect(OllamaProvider(base_url="http://nbchat-no-such-host.invalid:11434"))
    assert isinstance(outcome.error, ServerUnreachable)
    assert "host name not found" in outcome.error.message
    assert "nbchat-no-such-host.invalid" in outcome.error.message


async def test_tls_to_a_plain_http_port_is_server_unreachable(emulator: EmulatorFactory) -> None:
    server = emulator("ollama")
    outcome = await collect(OllamaProvider(base_url=server.root_url.replace("http:", "https:")))
    assert isinstance(outcome.error, ServerUnreachable)
    assert "TLS" in outcome.error.message


async def test_a_url_that_is_not_http_is_invalid_request() -> None:
    outcome = await collect(OllamaProvider(base_url="ftp://127.0.0.1:21"))
    assert isinstance(outcome.error, InvalidRequest)
    assert "ftp://127.0.0.1:21" in outcome.error.message


async def test_a_url_httpx_cannot_parse_is_invalid_request() -> None:
    # httpx.InvalidURL is not an httpx.HTTPError: it used to escape as itself.
    outcome = await collect(OllamaProvider(base_url="http://[::1"))
    assert isinstance(outcome.error, InvalidRequest)
    assert "http://[::1" in outcome.error.message


def test_base_urls_get_a_scheme_and_lose_the_trailing_slash() -> None:
    assert OllamaProvider(base_url="localhost:11434/").base_url == "http://localhost:11434"
    assert OpenAIProvider(base_url="https://x.test/v1/").base_url == "https://x.test/v1"


def test_credentials_in_a_url_are_not_shown() -> None:
    assert redact_userinfo("http://user:secret@h.test:1/v1") == "http://***@h.test:1/v1"


# -- error statuses ------------------------------------------------------------------------

STATUS_CASES = [
    ("unauthorized", AuthenticationFailed, 401),
    ("forbidden", AuthenticationFailed, 403),
    ("model_not_found", ModelNotFound, 404),
    ("context", ContextTooLong, 400),
    ("rate_limit", RateLimited, 429),
    ("server", ServerError, 500),
    ("loading", ServerError, 503),
    ("busy", ServerError, 503),
    ("bad_request", BadRequest, 400),
]
FLAVOURS = ["ollama", "openai", "llama.cpp", "vllm", "openrouter", "litellm"]


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(("kind", "error", "status"), STATUS_CASES)
async def test_each_error_status_maps_to_its_error_class(
    emulator: EmulatorFactory,
    flavour: str,
    kind: str,
    error: type[NbchatError],
    status: int,
) -> None:
    server = emulator(flavour)
    make = ollama if flavour == "ollama" else openai
    outcome = await collect(make(server, f"error={kind}"))
    assert type(outcome.error) is error, outcome.error
    assert outcome.error.status == status
    assert "\n" not in str(outcome.error)
    assert outcome.error.message.startswith(f"HTTP {status} from ")


async def test_unknown_route_is_bad_request_asking_about_the_base_url(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("vllm")
    outcome = await collect(OpenAIProvider(base_url=server.root_url + "/nothing"))
    assert isinstance(outcome.error, BadRequest)
    assert outcome.error.status == 404
    assert "Is the base URL right?" in outcome.error.hint


async def test_rate_limit_honours_retry_after_seconds(emulator: EmulatorFactory) -> None:
    server = emulator("openai")
    outcome = await collect(openai(server, "error=rate_limit,retry_after=7"))
    assert isinstance(outcome.error, RateLimited)
    assert outcome.error.retry_after == 7.0
    assert "Wait 7 s" in outcome.error.hint


async def test_rate_limit_honours_retry_after_as_an_http_date(emulator: EmulatorFactory) -> None:
    server = emulator("ollama")
    when = email.utils.formatdate(time.time() + 120, usegmt=True).replace(",", "%2C")
    outcome = await collect(ollama(server, f"error=rate_limit,retry_after={when}"))
    assert isinstance(outcome.error, RateLimited)
    assert outcome.error.retry_after is not None
    assert 100 < outcome.error.retry_after <= 120


async def test_forbidden_with_an_empty_body_from_ollama_hints_at_origins(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("ollama")
    outcome = await collect(ollama(server, "error=forbidden"))
    assert isinstance(outcome.error, AuthenticationFailed)
    assert "OLLAMA_ORIGINS" in outcome.error.hint


async def test_missing_key_hint_names_the_environment_variable(emulator: EmulatorFactory) -> None:
    server = emulator("openai", api_key=KEY)
    outcome = await collect(OpenAIProvider(base_url=server.base_url))
    assert isinstance(outcome.error, AuthenticationFailed)
    assert "OPENAI_API_KEY" in outcome.error.hint


@pytest.mark.parametrize(
    ("body", "media", "expected"),
    [
        (b'{"error":{"message":"bad thing","type":"x","code":"c"}}', "", "bad thing"),
        (b'{"error":"model \'x\' not found"}', "", "model 'x' not found"),
        (b'{"message":"plain message"}', "", "plain message"),
        (b'{"detail":"Not Found"}', "", "Not Found"),
        (
            b'{"detail":[{"msg":"field required"},{"msg":"bad type"}]}',
            "",
            "field required; bad type",
        ),
        (b"Internal Server Error", "text/plain", "Internal Server Error"),
        (b"<html><head><title>502 Bad Gateway</title></head></html>", "text/html", "502"),
        # llama-cpp-python's 500 body: a message spanning lines (captured from 0.3.36).
        (
            b'{"error":{"message":"1 validation error:\\n  {\'type\': \'int_parsing\'}\\n\\n'
            b'  File \\"app.py\\", line 376","type":"internal_server_error"}}',
            "application/json",
            "1 validation error: {'type': 'int_parsing'} File \"app.py\", line 376",
        ),
    ],
)
def test_error_messages_are_found_in_every_body_shape(
    body: bytes, media: str, expected: str
) -> None:
    info = _http.parse_error_body(body, media)
    assert expected in info.message
    assert "\n" not in info.message


def test_long_error_bodies_are_truncated_to_one_short_line() -> None:
    info = _http.parse_error_body(("word " * 2000).encode())
    assert len(info.message) <= 301
    assert info.message.endswith("…")


# -- 200 answers that are not the protocol ------------------------------------------------------


async def test_an_html_page_with_200_is_a_protocol_error_naming_its_title(
    emulator: EmulatorFactory,
) -> None:
    for flavour, make in (("ollama", ollama), ("openai", openai)):
        server = emulator(flavour)
        outcome = await collect(make(server, "html"))
        assert isinstance(outcome.error, ProtocolError)
        assert "Sign in · Corporate Proxy" in outcome.error.message
        assert "text/html" in outcome.error.message


async def test_a_json_error_with_200_where_sse_was_asked_is_classified(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("litellm")  # old LiteLLM: {"error": {..., "code": "401"}} with 200
    outcome = await collect(openai(server, "json_error"))
    assert isinstance(outcome.error, AuthenticationFailed)
    assert "Invalid proxy server token" in outcome.error.message


# -- the body: timeouts, drops, cancellation ------------------------------------------------


async def test_idle_timeout_between_chunks_keeps_the_partial_text(
    emulator: EmulatorFactory,
) -> None:
    server = emulator("ollama")
    provider = ollama(server, "stall_after=3", timeouts=Timeouts(idle=0.3))
    outcome = await collect(provider)
    assert isinstance(outcome.error, IdleTimeout)
    assert outcome.error.partial == "Hello from the"
    assert outcome.text == "Hello from the"
    assert "0.3 s" in outcome.error.message
    # The stalled response was closed: the server saw the client leave.
    assert server.wait_for(lambda: server.chat_requests[-1].done.is_set())
    assert server.chat_requests[-1].client_left


async def test_the_idle_timeout_applies_at_once_when_a_longer_first_token_one_was_set(
    emulator: EmulatorFactory,
) -> None:
    # The one timer was armed for the first-token deadline; once bytes flow it must come
    # forward to the idle one, not wait out the first.
    server = emulator("ollama")
    provider = ollama(server, "stall_after=3", timeouts=Timeouts(first_token=20, idle=0.3))
    started = time.monotonic()
    outcome = await collect(provider)
    assert isinstance(outcome.error, IdleTimeout)
    assert "sent nothing for 0.3 s" in outcome.error.message
    assert time.monotonic() - started < 5


async def test_no_read_timeout_before_the_first_token_by_default(
    emulator: EmulatorFactory,
) -> None:
    # A model load: the first byte takes longer than the idle timeout allows between tokens.
    server = emulator("ollama")
    provider = ollama(server, "first_delay=0.6", timeouts=Timeouts(idle=0.2))
    outcome = await collect(provider)
    assert outcome.error is None
    assert outcome.finish is not None


async def test_first_token_timeout_applies_when_configured(emulator: EmulatorFactory) -> None:
    server = emulator("openai")
    provider = openai(server, "first_delay=30", timeouts=Timeouts(first_token=0.3))
    outcome = await collect(provider)
    assert isinstance(outcome.error, IdleTimeout)
    assert "did not start the reply within 0.3 s" in outcome.error.message
    assert server.wait_for(lambda: server.chat_requests[-1].client_left)


async def test_first_token_timeout_covers_ollamas_lazy_headers(emulator: EmulatorFactory) -> None:
    # Ollama sends no status line until the first token: the wait is inside send().
    server = emulator("ollama")
    provider = ollama(server, "first_delay=30", timeouts=Timeouts(first_token=0.3))
    outcome = await collect(provider)
    assert isinstance(outcome.error, IdleTimeout)


@pytest.mark.parametrize("reset", [False, True])
async def test_a_dropped_connection_mid_reply_is_stream_interrupted(
    emulator: EmulatorFactory, reset: bool
) -> None:
    server = emulator("openai")
    outcome = await collect(openai(server, f"drop_after=3,reset={reset}"))
    assert isinstance(outcome.error, StreamInterrupted)
    assert not isinstance(outcome.error, IdleTimeout)
    assert outcome.error.partial == "Hello from the"


async def test_closing_the_stream_closes_the_response(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", behaviour="tps=20")
    outcome = await collect(OllamaProvider(base_url=server.base_url), stop_after=2)
    assert outcome.error is None
    assert len(outcome.events) == 2
    assert server.wait_for(lambda: server.chat_requests[-1].done.is_set())
    assert server.chat_requests[-1].client_left  # stopped reading → the server saw it


async def test_cancelling_the_task_closes_the_response(emulator: EmulatorFactory) -> None:
    server = emulator("openai", behaviour="stall_after=2")
    provider = OpenAIProvider(base_url=server.base_url)
    task = asyncio.create_task(collect(provider))
    assert await asyncio.to_thread(server.wait_for, lambda: bool(server.chat_requests))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(server.wait_for, lambda: server.chat_requests[-1].client_left)


def test_one_provider_works_on_successive_event_loops(emulator: EmulatorFactory) -> None:
    # Clients are per request: nothing bound to a closed loop is reused (or leaked:
    # pytest turns a ResourceWarning from an unclosed socket into a failure).
    server = emulator("ollama")
    provider = OllamaProvider(base_url=server.base_url)
    texts = [asyncio.run(collect(provider)).text for _ in range(3)]
    results: list[str] = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(collect(provider)).text))
    thread.start()
    thread.join(30)
    assert len(set(texts + results)) == 1
    assert results


# -- the key --------------------------------------------------------------------------------

LEAKS = [
    ("ollama", "error=unauthorized,leak_key"),
    ("ollama", "error=server,leak_key"),
    ("ollama", "error_after=2,leak_key"),
    ("ollama", "garbage_after=2,leak_key"),
    ("openai", "error=unauthorized"),  # echoes a masked key, as OpenAI does
    ("openai", "error=unauthorized,leak_key"),
    ("openai", "error=rate_limit,leak_key"),
    ("openai", "error_after=2,leak_key"),
    ("openai", "error_after=2,error_style=string,leak_key"),
    ("openai", "garbage_after=2,leak_key"),
    ("litellm", "json_error,leak_key"),
]


@pytest.mark.parametrize(("flavour", "behaviour"), LEAKS)
async def test_the_api_key_never_appears_in_an_error(
    emulator: EmulatorFactory, flavour: str, behaviour: str
) -> None:
    server = emulator(flavour)
    make = ollama if flavour == "ollama" else openai
    provider = make(server, behaviour, api_key=KEY)
    outcome = await collect(provider)
    error = outcome.error
    assert error is not None
    assert server.chat_requests[-1].headers["authorization"] == f"Bearer {KEY}"
    shown = [str(error), repr(error), error.message, error.hint, *map(str, error.args)]
    shown += [repr(provider), str(error.base_url)]
    for text in shown:
        assert KEY not in text
        assert KEY[:8] not in text
        assert KEY[-8:] not in text


def test_one_redaction_clears_the_key_everywhere_an_error_shows_it() -> None:
    error = ServerError(f"echoed {KEY}", hint=f"…{KEY[-8:]}", base_url="http://u:pw@h.test/v1")
    assert redact_error(error, None, KEY) is error
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert KEY[-8:] not in error.hint
    assert all(KEY not in str(a) for a in error.args)
    assert error.base_url == "http://***@h.test/v1"


def test_an_endpoint_repr_hides_the_key() -> None:
    endpoint = _http.Endpoint(label="x", base_url="http://h.test", api_key=KEY)
    assert KEY not in repr(endpoint)


async def test_a_key_in_a_transport_error_chain_is_not_shown() -> None:
    # The key travels in a header, never in the URL, so httpx's own texts cannot hold it.
    url = f"http://127.0.0.1:{closed_port()}"
    outcome = await collect(OllamaProvider(base_url=url, api_key=KEY))
    assert outcome.error is not None
    chain: BaseException | None = outcome.error
    while chain is not None:
        assert KEY not in str(chain)
        assert KEY not in repr(chain)
        chain = chain.__cause__ or chain.__context__
