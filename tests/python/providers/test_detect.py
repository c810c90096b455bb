"""Detection: which protocol answers at a base URL, asked of the emulators."""

from __future__ import annotations

import pytest
from tests.ports import closed_port
from tests.servers.fixtures import EmulatorFactory

from nbchat.errors import ServerUnreachable
from nbchat.providers.detect import detect, probe_default_ollama, split_base_url


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/api", "/v1/chat/completions"])
async def test_ollama_is_detected_and_its_native_api_preferred(
    emulator: EmulatorFactory, suffix: str
) -> None:
    server = emulator("ollama")
    found = await detect(server.root_url + suffix)
    assert (found.provider, found.base_url, found.server) == ("ollama", server.root_url, "ollama")
    assert "/api/version" in found.reason
    assert "0.32.15" in found.reason


@pytest.mark.parametrize(
    ("flavour", "server_kind"),
    [
        ("openai", "openai"),
        ("llama.cpp", "llama.cpp"),
        ("vllm", "vllm"),
        ("lmstudio", "lm-studio"),  # answers /api/version with 200 and an error body
        ("litellm", "litellm"),
        ("openrouter", "openrouter"),
        ("groq", "groq"),
        ("llama-cpp-python", None),
    ],
)
async def test_openai_compatible_servers_are_detected_and_named(
    emulator: EmulatorFactory, flavour: str, server_kind: str | None
) -> None:
    server = emulator(flavour)
    found = await detect(server.base_url)
    assert (found.provider, found.base_url, found.server) == (
        "openai",
        server.base_url,
        server_kind,
    )
    assert found.confident


async def test_a_bare_root_gets_v1_appended(emulator: EmulatorFactory) -> None:
    server = emulator("vllm")
    found = await detect(server.root_url)
    assert found.base_url == server.root_url + "/v1"
    assert found.server == "vllm"


async def test_a_server_that_wants_a_key_is_openai_compatible(emulator: EmulatorFactory) -> None:
    server = emulator("openai", api_key="sk-right")
    without = await detect(server.base_url)
    assert without.provider == "openai"
    assert "API key" in without.reason
    with_key = await detect(server.base_url, api_key="sk-right")
    assert with_key.server == "openai"
    assert "listed models" in with_key.reason
    assert server.requests[-1].headers["authorization"] == "Bearer sk-right"


async def test_nothing_recognisable_is_a_labelled_guess(emulator: EmulatorFactory) -> None:
    server = emulator("vllm")
    found = await detect(server.root_url + "/elsewhere")
    assert found.provider == "openai"
    assert not found.confident
    assert "assuming" in found.reason


async def test_no_server_is_server_unreachable_naming_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(ServerUnreachable) as caught:
        await detect(url)
    assert url in caught.value.message


async def test_the_default_ollama_is_found_through_ollama_host(
    emulator: EmulatorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = emulator("ollama")
    env = {"OLLAMA_HOST": f"127.0.0.1:{server.port}"}
    assert await probe_default_ollama(env) == server.root_url
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{server.port}")
    found = await detect(None)
    assert found.provider == "ollama"
    assert found.base_url == server.root_url


async def test_no_default_ollama_is_none_not_an_error(emulator: EmulatorFactory) -> None:
    assert await probe_default_ollama({"OLLAMA_HOST": f"127.0.0.1:{closed_port()}"}) is None
    other = emulator("vllm")  # something answers, but it is not Ollama
    assert await probe_default_ollama({"OLLAMA_HOST": f"127.0.0.1:{other.port}"}) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("localhost:11434", ("http://localhost:11434", "http://localhost:11434/v1", False)),
        (
            "https://api.openai.com/v1/",
            ("https://api.openai.com", "https://api.openai.com/v1", True),
        ),
        (
            "https://openrouter.ai/api/v1/chat/completions",
            ("https://openrouter.ai", "https://openrouter.ai/api/v1", True),
        ),
        (
            "https://api.groq.com/openai/v1",
            ("https://api.groq.com", "https://api.groq.com/openai/v1", True),
        ),
        ("https://ollama.com/api", ("https://ollama.com", "https://ollama.com/v1", False)),
        ("http://h.test/proxy/v1", ("http://h.test/proxy", "http://h.test/proxy/v1", True)),
    ],
)
def test_typed_urls_are_split_into_root_and_openai_base(
    typed: str, expected: tuple[str, str, bool]
) -> None:
    assert split_base_url(typed) == expected
