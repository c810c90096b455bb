"""A provider registered by a third party works everywhere a built-in one does.

Two providers are defined here, the way a plug-in would define them: ``relay``, which
speaks the OpenAI protocol to the loopback emulator under its own name, environment
variables and defaults, and ``parrot``, an offline one with an option of its own. Each
goes through ``nbchat.ask``, ``nbchat.models``, ``nbchat.Chat`` and the ``%chat`` magic,
with nothing in nbchat naming them.
"""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Iterator, Mapping

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from tests.servers import EmulatorServer
from tests.servers.script import DEFAULT_TEXT

import nbchat
from nbchat import magics, providers, resolve, settings
from nbchat.errors import InvalidOption, InvalidRequest
from nbchat.providers.base import (
    COMMON_OPTIONS,
    ChatRequest,
    Finish,
    Option,
    Provider,
    StreamEvent,
    TextDelta,
)
from nbchat.providers.openai import OpenAIProvider

KEY = "relay-key-0123456789abcdefghijkl"


class RelayProvider(OpenAIProvider):
    """An OpenAI-compatible gateway under its own name, variables and defaults."""

    name = "relay"
    label = "Relay"
    default_base_url = None  # only RELAY_BASE_URL (or base_url=) says where it is
    base_url_env_var = "RELAY_BASE_URL"
    key_env_var = "RELAY_API_KEY"
    example_model = "tiny"


class ParrotProvider(Provider):
    """Offline: repeats the last prompt ``squawks`` times."""

    name = "parrot"
    label = "Parrot"
    default_model = "polly"
    options: typing.ClassVar[Mapping[str, Option]] = {
        **COMMON_OPTIONS,
        "squawks": Option("how many times to repeat", (int,), minimum=1, maximum=3),
    }

    async def amodels(self) -> list[str]:
        return ["polly"]

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        said = request.messages[-1]["content"]
        times = typing.cast(int, request.options.get("squawks", 1))
        yield TextDelta(" ".join([said] * times))
        yield Finish("stop")


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    providers.register(RelayProvider)
    providers.register(ParrotProvider)
    yield
    # No public way to unregister (plug-ins register for the process's lifetime).
    for name in ("relay", "parrot"):
        providers._REGISTRY.pop(name, None)


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """The emulator, named by RELAY_BASE_URL, listing one model, wanting RELAY_API_KEY."""
    with EmulatorServer("openai", models=["tiny"], api_key=KEY) as server:
        monkeypatch.setenv("RELAY_BASE_URL", server.base_url)
        monkeypatch.setenv("RELAY_API_KEY", KEY)
        yield server


@pytest.fixture
def ip() -> Iterator[typing.Any]:
    shell = InteractiveShell.instance()
    magics.load_ipython_extension(shell)
    yield shell
    magics.unload_ipython_extension(shell)


def run_cell(ip: typing.Any, source: str) -> str:
    """What the cell printed, and the plain text of what it displayed."""
    with capture_output() as cap:
        result = ip.run_cell(source)
    assert result.error_in_exec is None
    return cap.stdout + "".join(o.data.get("text/plain", "") for o in cap.outputs)


# -- resolution ----------------------------------------------------------------------


def test_resolution_reads_the_providers_own_variables_and_default_model(
    relay: EmulatorServer,
) -> None:
    resolution = resolve.resolve("relay")
    assert (resolution.provider, resolution.model) == ("relay", "tiny")
    assert resolution.base_url == relay.base_url  # from RELAY_BASE_URL, /v1 kept
    assert resolution.has_api_key  # from RELAY_API_KEY
    assert resolution.reason == "relay:tiny — the only model the server lists"
    assert resolution.label == "Relay"
    assert resolve.resolve("parrot").reason == "parrot:polly — from argument"
    typed = resolve.resolve("relay:tiny", base_url="127.0.0.1:9/v1/")
    assert typed.base_url == "http://127.0.0.1:9/v1"  # as an OpenAI-compatible base: /v1 kept


def test_a_provider_with_nowhere_to_go_says_so_before_any_request() -> None:
    with pytest.raises(InvalidRequest) as info:
        nbchat.ask("Hello!", "relay:tiny")  # no RELAY_BASE_URL, no base_url, no default
    assert info.value.hint == "Set RELAY_BASE_URL or pass base_url=…."


def test_configure_knows_the_providers_options_and_variables(relay: EmulatorServer) -> None:
    nbchat.configure(squawks=2)
    with pytest.raises(InvalidOption) as info:
        nbchat.configure(squawks=9)
    assert "from 1 to 3" in info.value.hint
    assert "squawks: a whole number from 1 to 3 — how many times to repeat [parrot]" in (
        settings.describe_options().splitlines()
    )
    shown = repr(nbchat.configure())
    assert f"RELAY_BASE_URL={relay.base_url}" in shown
    assert "RELAY_API_KEY set" in shown
    assert KEY not in shown


# -- ask, models ---------------------------------------------------------------------


def test_ask_and_models_through_a_registered_http_provider(relay: EmulatorServer) -> None:
    assert nbchat.models("relay") == ["relay:tiny"]
    assert nbchat.ask("Hello!", "relay") == DEFAULT_TEXT
    sent = relay.chat_requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json()["model"] == "tiny"


def test_a_registered_providers_options_are_checked_before_any_request(
    relay: EmulatorServer,
) -> None:
    with pytest.raises(InvalidOption):
        nbchat.ask("Hello!", "relay:tiny", temperature=-3)
    with pytest.raises(InvalidOption):
        nbchat.ask("Hello!", "relay:tiny", squawks=2)  # parrot's, not relay's
    assert relay.chat_requests == []


def test_ask_and_models_through_a_registered_offline_provider() -> None:
    assert nbchat.models("parrot") == ["parrot:polly"]
    assert nbchat.ask("Hi", "parrot", squawks=3) == "Hi Hi Hi"
    nbchat.configure("parrot", squawks=2)
    assert nbchat.ask("Hi") == "Hi Hi"


# -- the widget and the magic -----------------------------------------------------------


@pytest.mark.usefixtures("recording_comm")
def test_chat_with_a_registered_provider(relay: EmulatorServer) -> None:
    chat = nbchat.Chat("relay")
    assert chat.model == "relay:tiny"
    assert chat.ask("Hello!") == DEFAULT_TEXT
    assert [(m["role"], m["content"]) for m in chat.messages] == [
        ("user", "Hello!"),
        ("assistant", DEFAULT_TEXT),
    ]
    offline = nbchat.Chat("parrot", squawks=2)
    assert offline.ask("Hi") == "Hi Hi"


def test_the_magic_with_a_registered_provider(ip: typing.Any, relay: EmulatorServer) -> None:
    assert run_cell(ip, "%chat relay Hello!") == DEFAULT_TEXT + "\n"
    assert relay.chat_requests[-1].headers["authorization"] == f"Bearer {KEY}"
    assert "relay:tiny" in run_cell(ip, "%chat models relay")
    assert run_cell(ip, "%chat parrot --option squawks=2 Hi") == "Hi Hi\n"
