"""Where settings come from: arguments > configure() > environment > detection > demo.

Detection talks to the loopback emulators in ``tests/servers`` (real HTTP on 127.0.0.1).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.ports import closed_port
from tests.servers import EmulatorServer

import nbchat
from nbchat import resolve
from nbchat.errors import (
    InvalidOption,
    InvalidRequest,
    ModelNotFound,
    ServerUnreachable,
    UnknownProvider,
)

KEY = "sk-test-abcdefghijklmnop0123456789"
ENV = (
    "NBCHAT_MODEL",
    "NBCHAT_BASE_URL",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An Ollama emulator that is the default Ollama (OLLAMA_HOST points at it)."""
    with EmulatorServer("ollama", models=["qwen3:8b", "llama3.2:latest"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{server.port}")
        yield server


# -- model strings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("ollama:llama3.2:1b", ("ollama", "llama3.2:1b")),
        ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("demo", ("demo", "")),
        ("demo:math", ("demo", "math")),
        ("llama3.2:1b", (None, "llama3.2:1b")),
        ("gpt-4o", (None, "gpt-4o")),
    ],
)
def test_split_model_only_takes_registered_prefixes(
    spec: str, expected: tuple[str | None, str]
) -> None:
    assert resolve.split_model(spec) == expected


def test_a_typo_in_the_provider_is_caught() -> None:
    with pytest.raises(UnknownProvider) as info:
        resolve.resolve("olama:llama3.2")
    assert "ollama:llama3.2" in info.value.hint


# -- precedence -------------------------------------------------------------------------


def test_argument_beats_configure_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBCHAT_MODEL", "demo:math")
    assert resolve.resolve().spec == "demo:math"
    assert resolve.resolve().reason == "demo:math — from NBCHAT_MODEL"
    nbchat.configure("demo:code")
    assert resolve.resolve().reason == "demo:code — from configure()"
    resolution = resolve.resolve("demo:echo")
    assert resolution.reason == "demo:echo — from argument"
    nbchat.configure(model=None)  # None clears
    assert resolve.resolve().spec == "demo:math"


def test_nothing_anywhere_is_the_demo_and_says_why(isolated: int) -> None:
    resolution = resolve.resolve()
    assert (resolution.provider, resolution.model, resolution.base_url) == (
        "demo",
        "showcase",
        None,
    )
    assert resolution.reason == f"demo:showcase — no server at http://127.0.0.1:{isolated}"
    assert resolution.label == "demo"


def test_the_demo_reason_points_at_an_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    resolution = resolve.resolve()
    assert resolution.spec == "demo:showcase"  # no silent spending on a paid API
    assert "openai:gpt-4o-mini" in resolution.reason
    assert KEY not in repr(resolution)


def test_explicit_ollama_reads_ollama_host_and_key_without_probing(
    monkeypatch: pytest.MonkeyPatch, isolated: int
) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", KEY)
    resolution = resolve.resolve("ollama:llama3.2:1b")
    assert (resolution.provider, resolution.model) == ("ollama", "llama3.2:1b")
    assert resolution.base_url == f"http://127.0.0.1:{isolated}"
    assert resolution.has_api_key
    assert KEY not in repr(resolution)
    assert resolution.create_provider().has_api_key


def test_a_typed_url_is_adapted_to_the_provider() -> None:
    # Ollama's native API is at the root; an OpenAI-compatible base keeps its /v1.
    assert resolve.resolve("ollama:m", base_url="127.0.0.1:9/v1/").base_url == "http://127.0.0.1:9"
    assert resolve.resolve("openai:m", base_url="127.0.0.1:9/v1/").base_url == (
        "http://127.0.0.1:9/v1"
    )
    assert resolve.resolve("demo", base_url="127.0.0.1:9").base_url is None  # offline


def test_explicit_openai_reads_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    resolution = resolve.resolve("openai:gpt-4o-mini")
    assert resolution.base_url == "http://127.0.0.1:9/v1"
    assert resolution.has_api_key
    assert repr(resolution) == (
        "<Resolution openai:gpt-4o-mini at http://127.0.0.1:9/v1, api_key set: from argument>"
    )
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert resolve.resolve("openai:gpt-4o-mini").base_url == "https://api.openai.com/v1"


def test_a_named_model_with_no_server_goes_to_ollama_and_says_so(isolated: int) -> None:
    resolution = resolve.resolve("llama3.2")
    assert resolution.spec == "ollama:llama3.2"
    assert f"no server answers at http://127.0.0.1:{isolated}" in resolution.reason


def test_a_named_model_with_an_openai_key_and_no_ollama_goes_to_openai(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    resolution = resolve.resolve("gpt-4o-mini")
    assert resolution.spec == "openai:gpt-4o-mini"
    assert resolution.has_api_key


# -- detection --------------------------------------------------------------------------


def test_ollama_detected_picks_llama32_and_says_so(ollama: EmulatorServer) -> None:
    resolution = resolve.resolve()
    assert resolution.spec == "ollama:llama3.2:latest"
    assert resolution.base_url == f"http://127.0.0.1:{ollama.port}"
    assert "llama3.2 is preferred" in resolution.reason
    assert f"Ollama answers at http://127.0.0.1:{ollama.port}" in resolution.reason


def test_ollama_detected_without_llama32_picks_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with EmulatorServer("ollama", models=["qwen3:8b", "phi4:latest"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.root_url)
        resolution = resolve.resolve()
    assert resolution.spec == "ollama:qwen3:8b"
    assert "first model installed" in resolution.reason


def test_ollama_with_no_models_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with EmulatorServer("ollama", models=[]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.root_url)
        with pytest.raises(ModelNotFound) as info:
            resolve.resolve()
    assert "ollama pull llama3.2" in info.value.hint


def test_a_named_model_goes_to_the_detected_ollama(ollama: EmulatorServer) -> None:
    resolution = resolve.resolve("mistral")
    assert resolution.spec == "ollama:mistral"
    assert resolution.reason.startswith("ollama:mistral — from argument; Ollama answers at")


def test_a_model_ollama_lacks_goes_to_openai_when_a_key_is_set(
    ollama: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert resolve.resolve("gpt-4o-mini").spec == "openai:gpt-4o-mini"
    assert resolve.resolve("qwen3:8b").spec == "ollama:qwen3:8b"  # installed: Ollama wins


def test_detection_is_cached_per_url(ollama: EmulatorServer) -> None:
    resolve.resolve()
    resolve.resolve()
    probes = [r for r in ollama.requests if r.path == "/api/version"]
    assert len(probes) == 1
    resolve.forget_detections()
    resolve.resolve()
    assert len([r for r in ollama.requests if r.path == "/api/version"]) == 2


def test_ollama_is_preferred_even_when_v1_was_typed(ollama: EmulatorServer) -> None:
    resolution = resolve.resolve("llama3.2", base_url=ollama.root_url + "/v1")
    assert resolution.spec == "ollama:llama3.2"
    assert resolution.base_url == ollama.root_url
    assert "(argument)" in resolution.reason


def test_an_openai_compatible_server_is_detected_at_its_base_url() -> None:
    with EmulatorServer("llama.cpp", models=["tiny"]) as server:
        resolution = resolve.resolve(base_url=server.root_url)
    assert resolution.spec == "openai:tiny"
    assert resolution.base_url == server.base_url
    assert resolution.reason.startswith("openai:tiny — the only model the server lists; GET")


def test_a_base_url_where_nothing_answers(isolated: int) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(ServerUnreachable):
        resolve.resolve(base_url=url)  # no model named: nothing to go on
    resolution = resolve.resolve("some-model", base_url=url)
    assert (resolution.spec, resolution.base_url) == ("openai:some-model", url)
    assert "guessed from the URL" in resolution.reason


def test_env_base_url_counts_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    with EmulatorServer("vllm", models=["m"]) as server:
        monkeypatch.setenv("NBCHAT_BASE_URL", server.base_url)
        resolution = resolve.resolve()
    assert resolution.spec == "openai:m"
    assert "(NBCHAT_BASE_URL)" in resolution.reason


# -- configure() ------------------------------------------------------------------------


def test_configure_shows_the_key_only_as_set_or_not() -> None:
    shown = repr(nbchat.configure(api_key=KEY, temperature=0.2))
    assert "api_key   set" in shown
    assert KEY not in shown
    assert "temperature=0.2" in shown
    assert "api_key   not set" in repr(nbchat.configure(api_key=None))
    assert nbchat.configure().options == {"temperature": 0.2}  # no arguments: unchanged
    assert nbchat.configure(temperature=None).options == {}


def test_configure_environment_line_names_variables_not_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("NBCHAT_MODEL", "demo:math")
    shown = repr(nbchat.configure())
    assert "OPENAI_API_KEY set" in shown
    assert "NBCHAT_MODEL=demo:math" in shown
    assert KEY not in shown


def test_configure_checks_option_names_against_every_provider() -> None:
    nbchat.configure(num_ctx=4096)  # Ollama's: fine here, left out for other providers
    with pytest.raises(InvalidOption) as info:
        nbchat.configure(temprature=0.2)
    assert "temperature" in info.value.hint
    assert "num_ctx" in info.value.hint
    with pytest.raises(InvalidOption, match="temperature"):
        nbchat.configure(temperature="hot")
    assert nbchat.configure().options == {"num_ctx": 4096}  # a failed call changes nothing


def test_configure_checks_urls_and_strings() -> None:
    with pytest.raises(InvalidRequest, match="Not an HTTP URL"):
        nbchat.configure(base_url="ftp://example.com")
    with pytest.raises(InvalidRequest):
        nbchat.configure(model="   ")
    assert nbchat.configure(base_url="localhost:8080/v1/").base_url == "http://localhost:8080/v1"


def test_configure_system_is_the_default_system_prompt() -> None:
    nbchat.configure(system="Answer in French.")
    assert nbchat.Conversation("demo:echo").system == "Answer in French."
    assert nbchat.Conversation("demo:echo", system="Be brief.").system == "Be brief."
