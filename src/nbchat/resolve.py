"""Which provider, model and server a chat uses, and why: arguments > :func:`configure` >
environment > detection > demo.

:func:`resolve` turns what the user said (maybe nothing) into a :class:`Resolution`: which
provider, which model, which base URL, and a human ``reason`` saying why, e.g.
``"ollama:llama3.2 — from NBCHAT_MODEL"`` or ``"demo:showcase — no server at
http://localhost:11434"``.

Model strings are ``provider:name`` (``ollama:llama3.2``, ``openai:gpt-4o-mini``, ``demo``).
Ollama names contain colons themselves (``ollama:llama3.2:1b`` is provider ``ollama``, model
``llama3.2:1b``), so only a *registered* provider name counts as a prefix; anything else is
a model name, and detection decides who serves it.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import threading
import time
import typing
import urllib.parse
from collections.abc import Mapping

from . import _worker, providers, settings
from .errors import (
    InvalidRequest,
    ModelNotFound,
    NbchatError,
    ServerUnreachable,
    UnknownProvider,
    redact_userinfo,
)
from .providers.base import DEFAULT_TIMEOUTS, Provider, Timeouts
from .settings import normalize_url

__all__ = [
    "DEMO_DEFAULT_MODEL",
    "NEGATIVE_CACHE_S",
    "PREFERRED_OLLAMA_MODEL",
    "Resolution",
    "forget_detections",
    "resolve",
    "split_model",
]

PREFERRED_OLLAMA_MODEL = "llama3.2"
DEMO_DEFAULT_MODEL = "showcase"
#: A server that did not answer is asked again after this long (it may have been started).
NEGATIVE_CACHE_S = 10.0


def _root(url: str) -> str:
    """The server root, without an OpenAI-style path (native Ollama lives there)."""
    from .providers.detect import split_base_url  # imported late: it pulls in httpx

    return split_base_url(url)[0]


def _ollama_url() -> str:
    # The provider module owns the OLLAMA_HOST rules; imported late (it pulls in httpx).
    from .providers.ollama import ollama_host

    return ollama_host()


def split_model(spec: str) -> tuple[str | None, str]:
    """``"ollama:llama3.2:1b"`` → ``("ollama", "llama3.2:1b")``.

    Only a registered provider name is a prefix: ``"llama3.2:1b"`` → ``(None, "llama3.2:1b")``.
    """
    text = spec.strip()
    known = providers.names()
    if text in known:
        return text, ""
    prefix, sep, rest = text.partition(":")
    if sep and prefix in known:
        return prefix, rest.strip()
    return None, text


# ---------------------------------------------------------------------------------------
# Resolution.


class Resolution:
    """What :func:`resolve` chose and why. ``repr`` never shows the key."""

    __slots__ = ("__api_key", "base_url", "model", "provider", "why")

    def __init__(
        self,
        provider: str,
        model: str,
        base_url: str | None,
        why: str,
        *,
        api_key: str | None = None,
    ) -> None:
        self.provider = provider  # registry name: "ollama", "openai", "demo"
        self.model = model  # without the provider prefix: "llama3.2:1b"
        self.base_url = base_url  # None for offline providers
        self.why = why  # "from NBCHAT_MODEL", "no server at http://localhost:11434"
        self.__api_key = api_key

    @property
    def reason(self) -> str:
        """One line for people: ``"ollama:llama3.2 — from NBCHAT_MODEL"``."""
        return f"{self.spec} — {self.why}"

    @property
    def spec(self) -> str:
        """``"provider:name"``, as used everywhere a model is shown."""
        return f"{self.provider}:{self.model}" if self.model else self.provider

    @property
    def label(self) -> str:
        """What a person reads: "Ollama", "OpenAI-compatible", "demo"."""
        return providers.get(self.provider).label

    @property
    def has_api_key(self) -> bool:
        return bool(self.__api_key)

    def create_provider(
        self, *, headers: Mapping[str, str] | None = None, timeouts: Timeouts | None = None
    ) -> Provider:
        """A provider instance for this resolution; it holds the key from here on."""
        cls = providers.get(self.provider)
        return cls(
            base_url=self.base_url,
            api_key=self.__api_key,
            headers=headers,
            timeouts=timeouts or DEFAULT_TIMEOUTS,
        )

    def __repr__(self) -> str:
        key = ", api_key set" if self.__api_key else ""
        where = f" at {redact_userinfo(self.base_url)}" if self.base_url else ""
        return f"<Resolution {self.spec}{where}{key}: {self.why}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resolution):
            return NotImplemented
        mine = (self.provider, self.model, self.base_url, self.why)
        return mine == (other.provider, other.model, other.base_url, other.why)

    __hash__ = None  # type: ignore[assignment]


@dataclasses.dataclass(frozen=True)
class _Found:
    """A server that answered a probe."""

    provider: str  # "ollama" or "openai"
    base_url: str  # root for Ollama, the /v1 base for OpenAI-compatible
    reason: str  # how we know, from the probe


def resolve(
    model: str | None = None, base_url: str | None = None, api_key: str | None = None
) -> Resolution:
    """Decide provider, model and base URL: arguments > configure() > env > detection > demo.

    Probes servers only when the provider or model is not explicit; probes are cached per
    base URL for the process (a server that did not answer is asked again after
    :data:`NEGATIVE_CACHE_S` seconds). Nothing listening costs a refused connection.
    """
    current = settings.settings()
    env = os.environ
    spec, spec_from = _first(
        (model, "argument"),
        (current.model, "configure()"),
        (env.get("NBCHAT_MODEL"), "NBCHAT_MODEL"),
    )
    url, url_from = _first(
        (base_url, "argument"),
        (current.base_url, "configure()"),
        (env.get("NBCHAT_BASE_URL"), "NBCHAT_BASE_URL"),
    )
    key = api_key or current.api_key
    if spec is not None:
        spec = settings.check_model(spec)
    if url is not None:
        url = normalize_url(url)

    provider, name = split_model(spec) if spec else (None, "")
    if provider is not None:
        assert spec_from is not None
        return _resolve_explicit(provider, name, url, key, spec_from)
    if name:
        _check_not_a_typo(name)
    return _resolve_detected(name, spec_from, url, url_from, key)


def _first(*candidates: tuple[str | None, str]) -> tuple[str | None, str | None]:
    for value, source in candidates:
        if value is not None and (not isinstance(value, str) or value.strip()):
            return value, source
    return None, None


def _check_not_a_typo(name: str) -> None:
    # "olama:llama3.2" would otherwise become an Ollama model named "olama:llama3.2".
    prefix, sep, _ = name.partition(":")
    if not sep:
        return
    close = difflib.get_close_matches(prefix.lower(), providers.names(), n=1, cutoff=0.75)
    if close:
        raise UnknownProvider(
            f"Unknown provider {prefix!r}.",
            hint=f"Did you mean '{close[0]}:{name.partition(':')[2]}'?",
        )


def _resolve_explicit(
    provider: str, name: str, url: str | None, key: str | None, spec_from: str
) -> Resolution:
    cls = providers.get(provider)
    env = os.environ
    key = key or (env.get(cls.key_env_var) if cls.key_env_var else None) or None
    if provider == "demo":
        # The demo sends nothing anywhere; it holds a given key only so redaction is testable.
        return Resolution(
            "demo", name or DEMO_DEFAULT_MODEL, None, f"from {spec_from}", api_key=key
        )
    if provider == "ollama":
        base = _root(url) if url else _ollama_url()
        if not name:
            picked, why = _pick_ollama_model(base, key)
            return Resolution(provider, picked, base, why, api_key=key)
        return Resolution(provider, name, base, f"from {spec_from}", api_key=key)
    if provider == "openai":
        openai_base = url or _env_url("OPENAI_BASE_URL") or cls.default_base_url
        if not name:
            name = _pick_only_model(provider, openai_base, key)
            return Resolution(
                provider, name, openai_base, "the only model the server lists", api_key=key
            )
        return Resolution(provider, name, openai_base, f"from {spec_from}", api_key=key)
    # A third-party provider: its own defaults, no detection.
    if not name:
        raise InvalidRequest(
            f"Name the model for {provider}.", hint=f"For example '{provider}:<model>'."
        )
    return Resolution(provider, name, url or cls.default_base_url, f"from {spec_from}", api_key=key)


def _resolve_detected(
    name: str, name_from: str | None, url: str | None, url_from: str | None, key: str | None
) -> Resolution:
    named = f"from {name_from}" if name else ""

    def why(*parts: str) -> str:
        return "; ".join(p for p in parts if p)

    if url is not None:
        found = _probe(url, key)
        if found is None:
            hint = "Check the base URL and that the server is running."
            if not name:
                raise ServerUnreachable(
                    f"No server answers at {redact_userinfo(url)}.", hint=hint, base_url=url
                )
            provider = "ollama" if urllib.parse.urlsplit(url).port == 11434 else "openai"
            base = _root(url) if provider == "ollama" else url
            guess = f"nothing answers at {redact_userinfo(url)} yet; guessed from the URL"
            return Resolution(
                provider, name, base, why(named, guess), api_key=key or _env_key(provider)
            )
        key = key or _env_key(found.provider)
        where = f"{found.reason} ({url_from})"
        if not name:
            if found.provider == "ollama":
                name, named = _pick_ollama_model(found.base_url, key)
            else:
                name = _pick_only_model(found.provider, found.base_url, key)
                named = "the only model the server lists"
        return Resolution(found.provider, name, found.base_url, why(named, where), api_key=key)

    ollama_url = _ollama_url()
    ollama_key = key or os.environ.get("OLLAMA_API_KEY") or None
    found = _probe_default_ollama(ollama_url)
    openai_ready = bool(
        key or os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")
    )
    if found is not None:
        if not name:
            picked, picked_why = _pick_ollama_model(found.base_url, ollama_key)
            return Resolution(
                "ollama", picked, found.base_url, why(picked_why, found.reason), api_key=ollama_key
            )
        if not _installed(name, found.base_url, ollama_key):
            if openai_ready:
                reason = why(named, "not installed in Ollama; OPENAI_* is set")
                return _openai_for(name, key, reason)
            prefix = name.partition(":")[0]
            if ":" in name and prefix not in providers.names():
                # "anthropic:claude…" is neither a provider nor a model Ollama has; sending
                # it would only come back as a 404.
                raise UnknownProvider(
                    f"Unknown provider {prefix!r}, and Ollama has no model {name!r}.",
                    hint=f"Use one of: {', '.join(providers.names())} (as 'provider:model'), "
                    f"or `ollama pull {name}`.",
                )
        return Resolution(
            "ollama", name, found.base_url, why(named, found.reason), api_key=ollama_key
        )
    if name:
        if openai_ready:
            return _openai_for(name, key, why(named, f"no Ollama at {ollama_url}; OPENAI_* is set"))
        return Resolution(
            "ollama",
            name,
            ollama_url,
            why(named, f"no server answers at {ollama_url} yet (is `ollama serve` running?)"),
            api_key=ollama_key,
        )
    reason = f"no server at {ollama_url}"
    if os.environ.get("OPENAI_API_KEY"):
        reason += "; OPENAI_API_KEY is set: name a model such as 'openai:gpt-4o-mini' to use it"
    return Resolution("demo", DEMO_DEFAULT_MODEL, None, reason)


def _openai_for(name: str, key: str | None, why: str) -> Resolution:
    base = _env_url("OPENAI_BASE_URL") or providers.get("openai").default_base_url
    return Resolution("openai", name, base, why, api_key=key or _env_key("openai"))


def _env_url(name: str) -> str | None:
    value = os.environ.get(name)
    return normalize_url(value) if value and value.strip() else None


def _env_key(provider: str) -> str | None:
    var = providers.get(provider).key_env_var
    return (os.environ.get(var) or None) if var else None


def _installed(name: str, base: str, key: str | None) -> bool:
    """Whether Ollama has ``name``; if it cannot say, assume it does (Ollama is here)."""
    try:
        models = _list_models("ollama", base, key)
    except NbchatError:
        return True
    return name in models or f"{name}:latest" in models


def _pick_ollama_model(base: str, key: str | None) -> tuple[str, str]:
    """An installed model (``llama3.2`` if there, else the first) and why it was picked."""
    models = _list_models("ollama", base, key)
    if not models:
        raise ModelNotFound(
            f"Ollama at {redact_userinfo(base)} has no models installed.",
            hint=f"Pull one: `ollama pull {PREFERRED_OLLAMA_MODEL}`.",
            provider="ollama",
            base_url=base,
        )
    for candidate in models:
        if candidate.split(":", 1)[0] == PREFERRED_OLLAMA_MODEL:
            return candidate, f"installed in Ollama ({PREFERRED_OLLAMA_MODEL} is preferred)"
    return models[0], f"the first model installed in Ollama (no {PREFERRED_OLLAMA_MODEL})"


def _pick_only_model(provider: str, base: str | None, key: str | None) -> str:
    listed = _list_models(provider, base, key)
    if len(listed) == 1:
        return listed[0]
    some = ", ".join(f"'{provider}:{m}'" for m in listed[:5]) or f"'{provider}:<model>'"
    raise InvalidRequest(
        f"Name the model: the server at {redact_userinfo(base or '')} lists {len(listed)}.",
        hint=f"For example {some}.",
    )


def _list_models(provider: str, base: str | None, key: str | None) -> list[str]:
    instance = providers.get(provider)(base_url=base, api_key=key)
    return _worker.run(instance.amodels)


# ---------------------------------------------------------------------------------------
# Detection (probing lives in nbchat.providers.detect; this caches and adapts it).

_probe_cache: dict[str, tuple[float, _Found | None]] = {}
_probe_lock = threading.Lock()


def _cached(cache_key: str, probe: typing.Callable[[], _Found | None]) -> _Found | None:
    with _probe_lock:
        cached = _probe_cache.get(cache_key)
    if cached is not None:
        when, found = cached
        if found is not None or time.monotonic() - when < NEGATIVE_CACHE_S:
            return found
    found = probe()
    with _probe_lock:
        _probe_cache[cache_key] = (time.monotonic(), found)
    return found


def _probe(url: str, key: str | None) -> _Found | None:
    """What answers at ``url`` (Ollama preferred over its ``/v1``); ``None``: nothing."""
    return _cached(url, lambda: _worker.run(lambda: _adetect(url, key)))


def _probe_default_ollama(url: str) -> _Found | None:
    """Ollama at ``OLLAMA_HOST`` / localhost:11434, if one answers (one quick GET)."""
    return _cached(f"ollama-default {url}", lambda: _worker.run(_adetect_default_ollama))


async def _adetect(url: str, key: str | None) -> _Found | None:
    from .providers import detect

    try:
        found = await detect.detect(url, key)
    except NbchatError:
        return None  # nothing answers there
    return _Found(found.provider, found.base_url.rstrip("/"), found.reason)


async def _adetect_default_ollama() -> _Found | None:
    from .providers import detect

    url = await detect.probe_default_ollama()
    return _Found("ollama", url, f"Ollama answers at {url}") if url else None


def forget_detections() -> None:
    """Drop cached probe results (a server was started or stopped)."""
    with _probe_lock:
        _probe_cache.clear()
