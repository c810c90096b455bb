"""Which protocol a base URL speaks, found by asking the server (protocols.md §5).

Three cheap GETs, in order: ``{root}/api/version`` and ``{root}/`` recognise Ollama (whose
native API we prefer even when ``/v1`` was typed: it streams thinking, takes ``num_ctx``
and reports errors that ``/v1`` loses), then ``{base}/models`` recognises an
OpenAI-compatible server and, from its model list and headers, which one.
"""

from __future__ import annotations

import dataclasses
import typing
import urllib.parse
from collections.abc import Mapping

import httpx

from ..errors import NbchatError, ServerUnreachable, redact_userinfo
from . import _http
from ._urls import split_base_url
from .ollama import OllamaProvider, ollama_host

__all__ = [
    "FALLBACK",
    "OLLAMA",
    "OPENAI",
    "PROBE_CONNECT_TIMEOUT",
    "PROBE_READ_TIMEOUT",
    "Detection",
    "detect",
    "probe_default_ollama",
    "split_base_url",
]

#: Detection's vocabulary, as registry names: the two protocols it can tell apart, and
#: the offline provider :mod:`nbchat.resolve` falls back to when nothing answers.
OLLAMA = "ollama"
OPENAI = "openai"
FALLBACK = "demo"

#: Probes are short: a server that cannot answer a GET in this time is not worth a chat.
PROBE_CONNECT_TIMEOUT = 2.0
PROBE_READ_TIMEOUT = 5.0

_HOSTS = {
    "api.openai.com": "openai",
    "openrouter.ai": "openrouter",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "ollama.com": "ollama",
}
_OWNERS = {
    "llamacpp": "llama.cpp",
    "vllm": "vllm",
    "sglang": "sglang",
    "organization_owner": "lm-studio",
    "system": "openai",
    "openai": "openai",
    "openai-internal": "openai",
}


@dataclasses.dataclass(frozen=True)
class Detection:
    """What answers at a base URL."""

    provider: str  # "ollama" or "openai": the registry name to use
    base_url: str  # the base URL to give that provider
    server: str | None  # "ollama", "llama.cpp", "vllm", "lm-studio", "litellm", … if known
    reason: str  # one line: how we know
    confident: bool = True  # False when nothing confirmed the guess


async def detect(base_url: str | None, api_key: str | None = None) -> Detection:
    """Probe ``base_url`` (``None``: Ollama's default, honouring ``OLLAMA_HOST``).

    Raises :class:`~nbchat.errors.ServerUnreachable` if nothing answers there.
    """
    root, openai_base, typed_openai = split_base_url(base_url or ollama_host())
    port = urllib.parse.urlsplit(root).port
    endpoint = _http.Endpoint(
        label="the server",
        base_url=base_url or root,
        api_key=api_key,
        unreachable_hint=OllamaProvider.unreachable_hint
        if port == 11434
        else "is the server running, and is the URL right?",
    )
    async with _http.new_client(connect=PROBE_CONNECT_TIMEOUT, read=PROBE_READ_TIMEOUT) as client:
        version = await _get(endpoint, client, f"{root}/api/version")
        if version is not None:
            found = _json(version)
            if isinstance(found, Mapping) and isinstance(found.get("version"), str):
                reason = f"GET {root}/api/version answered Ollama {found['version']}"
                return Detection(OLLAMA, root, "ollama", reason)
        home = await _get(endpoint, client, f"{root}/")
        if (
            home is not None
            and home.status_code == 200
            and home.text.strip() == "Ollama is running"
        ):
            return Detection(OLLAMA, root, "ollama", f"GET {root}/ answered 'Ollama is running'")
        gateway = _gateway(home)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        listed = await _get(endpoint, client, f"{openai_base}/models", headers=headers)
    host_kind = _HOSTS.get(urllib.parse.urlsplit(root).hostname or "")
    if listed is not None:
        found = _json(listed)
        if listed.status_code == 200 and isinstance(found, Mapping) and "data" in found:
            # A gateway lists its models as owned by "openai": it names itself first.
            server = gateway or _identify(listed, found) or host_kind
            named = f" ({server})" if server else ""
            reason = f"GET {openai_base}/models listed models{named}"
            return Detection(OPENAI, openai_base, server, reason)
        if listed.status_code in (401, 403):
            reason = f"GET {openai_base}/models asks for an API key (HTTP {listed.status_code})"
            return Detection(OPENAI, openai_base, gateway or host_kind, reason)
    reason = (
        f"Nothing at {redact_userinfo(root)} answered as Ollama or listed models; "
        "assuming an OpenAI-compatible API"
    )
    return Detection(OPENAI, openai_base, host_kind, reason, confident=typed_openai)


async def probe_default_ollama(env: Mapping[str, str] | None = None) -> str | None:
    """The base URL of an Ollama at ``OLLAMA_HOST`` (or localhost:11434), or ``None``.

    Never raises: it answers "is there one?", quickly.
    """
    url = ollama_host(env)
    endpoint = _http.Endpoint(label="Ollama", base_url=url)
    try:
        async with _http.new_client(connect=1.0, read=PROBE_READ_TIMEOUT) as client:
            response = await _get(endpoint, client, f"{url}/api/version")
    except NbchatError:
        return None
    found = _json(response) if response is not None else None
    if isinstance(found, Mapping) and isinstance(found.get("version"), str):
        return url
    return None


async def _get(
    endpoint: _http.Endpoint,
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response | None:
    """A probe's answer, or ``None`` if it failed in a way that says nothing."""
    try:
        return await _http.request(endpoint, url, client=client, headers=headers)
    except ServerUnreachable:
        raise
    except NbchatError:
        return None


def _json(response: httpx.Response) -> typing.Any:
    try:
        return response.json()
    except ValueError:
        return None


def _gateway(home: httpx.Response | None) -> str | None:
    """A gateway known by its home page: LiteLLM's proxy answers ``GET /`` with the JSON
    string "LiteLLM: RUNNING" (1.108.7 sends no ``x-litellm-version`` on ``/models``)."""
    if home is not None and home.status_code == 200 and _json(home) == "LiteLLM: RUNNING":
        return "litellm"
    return None


def _identify(response: httpx.Response, listing: Mapping[str, typing.Any]) -> str | None:
    if "x-litellm-version" in response.headers:
        return "litellm"
    if response.headers.get("x-powered-by", "").lower() == "express":
        return "lm-studio"
    items = [m for m in listing.get("data") or () if isinstance(m, Mapping)]
    for item in items:
        if "pricing" in item or "canonical_slug" in item:
            return "openrouter"
        if "context_window" in item and "active" in item:
            return "groq"
        if "max_model_len" in item:
            return "vllm"
        if isinstance(item.get("meta"), Mapping) and "n_ctx_train" in item["meta"]:
            return "llama.cpp"
        owner = str(item.get("owned_by", ""))
        if owner == "library" and ":" in str(item.get("id", "")):
            return "ollama"
        if owner in _OWNERS:
            return _OWNERS[owner]
    return None
