"""Options: each has a range or allowed values and a description, and a bad value is
refused before any request is sent (bug 3 of issue 9: ``temperature=-3`` reached the server).
"""

from __future__ import annotations

import typing

import pytest
from tests.servers import EmulatorServer
from tests.servers.collect import HELLO, collect
from tests.servers.fixtures import EmulatorFactory

import nbchat
from nbchat import providers
from nbchat.errors import InvalidOption
from nbchat.providers.base import ChatRequest
from nbchat.providers.ollama import OllamaProvider
from nbchat.providers.openai import OpenAIProvider

# (option, a value out of range, words the hint must hold: the allowed range or values)
OUT_OF_RANGE: list[tuple[str, object, str]] = [
    ("temperature", -3, "from 0 to 2"),
    ("temperature", 2.5, "from 0 to 2"),
    ("temperature", float("nan"), "from 0 to 2"),
    ("top_p", 2, "from 0 to 1"),
    ("top_p", -0.1, "from 0 to 1"),
    ("max_tokens", 0, "at least 1"),
    ("stop", "", "non-empty"),
    ("stop", [], "non-empty"),
    ("stop", ["\n\n", 3], "non-empty"),
]
OLLAMA_ONLY: list[tuple[str, object, str]] = [
    ("num_ctx", 0, "at least 1"),
    ("think", "extreme", "'low', 'medium' or 'high'"),
]
OPENAI_ONLY: list[tuple[str, object, str]] = [
    ("reasoning_effort", "max", "'none', 'minimal', 'low', 'medium', 'high' or 'xhigh'")
]


@pytest.mark.parametrize(("key", "value", "allowed"), OUT_OF_RANGE + OLLAMA_ONLY)
def test_ollama_refuses_a_bad_value_before_any_request(
    ollama_server: EmulatorServer, key: str, value: object, allowed: str
) -> None:
    options: dict[str, typing.Any] = {key: value}
    with pytest.raises(InvalidOption) as info:
        nbchat.ask("Hello!", "ollama:m", base_url=ollama_server.base_url, **options)
    assert key in info.value.message
    assert allowed in info.value.hint
    assert ollama_server.requests == []


@pytest.mark.parametrize(("key", "value", "allowed"), OUT_OF_RANGE + OPENAI_ONLY)
def test_openai_refuses_a_bad_value_before_any_request(
    openai_server: EmulatorServer, key: str, value: object, allowed: str
) -> None:
    options: dict[str, typing.Any] = {key: value}
    with pytest.raises(InvalidOption) as info:
        nbchat.ask("Hello!", "openai:m", base_url=openai_server.base_url, **options)
    assert key in info.value.message
    assert allowed in info.value.hint
    assert openai_server.requests == []


@pytest.mark.parametrize(
    ("flavour", "key", "value"),
    [("ollama", "temperature", -3), ("openai", "top_p", 2), ("openai", "max_tokens", 0)],
)
async def test_a_provider_called_directly_refuses_before_sending(
    emulator: EmulatorFactory, flavour: str, key: str, value: object
) -> None:
    # Below the Conversation too: the provider checks what it is about to send.
    server = emulator(flavour)
    cls = OllamaProvider if flavour == "ollama" else OpenAIProvider
    provider = cls(base_url=server.base_url)
    outcome = await collect(provider, "m", options={key: value})
    assert isinstance(outcome.error, InvalidOption)
    assert server.requests == []


def test_the_demo_pace_is_not_negative() -> None:
    with pytest.raises(InvalidOption) as info:
        nbchat.ask("Hello!", "demo:echo", tokens_per_second=-1)
    assert "at least 0" in info.value.hint


def test_configure_refuses_a_value_no_provider_allows() -> None:
    with pytest.raises(InvalidOption) as info:
        nbchat.configure(temperature=-3)
    assert "from 0 to 2" in info.value.hint
    assert nbchat.configure().options == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("temperature", 0),
        ("temperature", 2),
        ("top_p", 1.0),
        ("max_tokens", 1),
        ("seed", -7),
        ("stop", "\n"),
        ("stop", ("a", "b")),
        ("num_ctx", 8192),
        ("keep_alive", "5m"),
        ("keep_alive", -1),
        ("think", True),
        ("think", "high"),
    ],
)
def test_values_at_the_edges_of_a_range_are_accepted(key: str, value: object) -> None:
    provider = OllamaProvider(base_url="http://127.0.0.1:9")
    assert provider.check_options({key: value}) == {
        key: list(value) if isinstance(value, tuple) else value
    }


def test_reasoning_effort_takes_what_openai_documents() -> None:
    provider = OpenAIProvider(base_url="http://127.0.0.1:9/v1")
    for effort in ("none", "minimal", "low", "medium", "high", "xhigh"):
        assert provider.check_options({"reasoning_effort": effort})


def test_every_option_of_every_provider_says_what_it_does_and_what_it_takes() -> None:
    for name in providers.names():
        for key, option in providers.get(name).options.items():
            assert option.description, (name, key)
            assert "\n" not in option.description
            assert option.allowed, (name, key)


def test_a_request_made_by_hand_is_checked_too() -> None:
    provider = OpenAIProvider(base_url="http://127.0.0.1:9/v1")
    with pytest.raises(InvalidOption):
        provider.body(ChatRequest("m", HELLO, {"temperature": 9}))
