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

A named provider is resolved from its class alone (:class:`~nbchat.providers.base.Provider`:
its base URL and key variables, its default URL and model, how it adapts a typed URL), so
one registered by a third party resolves exactly as a built-in one does. Only detection
knows particular protocols: the two it probes for, and the offline demo it falls back to
(:mod:`nbchat.providers.detect` names them).
"""

from __future__ import annotations

import difflib
import os
import types
import typing
import urllib.parse
from collections.abc import Mapping

from . import _worker, providers, settings
from ._probes import NEGATIVE_CACHE_S, Found, forget_detections, probe, probe_default_ollama
from .errors import (
    InvalidRequest,
    NbchatError,
    ServerUnreachable,
    UnknownProvider,
    redact_userinfo,
)
from .providers.base import DEFAULT_TIMEOUTS, Provider, Timeouts, normalise_base_url

__all__ = [
    "NEGATIVE_CACHE_S",
    "Resolution",
    "forget_detections",
    "resolve",
    "split_model",
]


def _detect() -> types.ModuleType:
    """Detection's module, imported late: it pulls in httpx (``import nbchat`` does not)."""
    from .providers import detect

    return detect


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
        url = normalise_base_url(url)

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
    # Everything here comes from the provider class: built-in or registered by a third
    # party, it is the same path.
    cls = providers.get(provider)
    key = key or cls.api_key_from_env()
    base = cls.base_url_for(url)
    if base is None and cls.base_url_env_var:
        # A server it reads from the environment, but none is set (and no default).
        raise InvalidRequest(
            f"{cls.label} needs the address of its server.",
            hint=f"Set {cls.base_url_env_var} or pass base_url=….",
            provider=cls.name,
        )
    if name:
        return Resolution(provider, name, base, f"from {spec_from}", api_key=key)
    if cls.default_model is not None:
        return Resolution(provider, cls.default_model, base, f"from {spec_from}", api_key=key)
    picked, why = _choose_model(provider, base, key)
    return Resolution(provider, picked, base, why, api_key=key)


def _resolve_detected(
    name: str, name_from: str | None, url: str | None, url_from: str | None, key: str | None
) -> Resolution:
    # Detection knows the two protocols it probes for, and the offline fallback.
    detect = _detect()
    ollama, openai = providers.get(detect.OLLAMA), providers.get(detect.OPENAI)
    named = f"from {name_from}" if name else ""

    def why(*parts: str) -> str:
        return "; ".join(p for p in parts if p)

    if url is not None:
        found = probe(url, key)
        if found is None:
            hint = "Check the base URL and that the server is running."
            if not name:
                raise ServerUnreachable(
                    f"No server answers at {redact_userinfo(url)}.", hint=hint, base_url=url
                )
            port = urllib.parse.urlsplit(url).port
            at_ollama_port = port == urllib.parse.urlsplit(ollama.default_base_url or "").port
            guessed = ollama if at_ollama_port else openai
            guess = f"nothing answers at {redact_userinfo(url)} yet; guessed from the URL"
            return Resolution(
                guessed.name,
                name,
                guessed.base_url_for(url),
                why(named, guess),
                api_key=key or guessed.api_key_from_env(),
            )
        key = key or providers.get(found.provider).api_key_from_env()
        where = f"{found.reason} ({url_from})"
        if not name:
            name, named = _choose_model(found.provider, found.base_url, key)
        return Resolution(found.provider, name, found.base_url, why(named, where), api_key=key)

    ollama_url = typing.cast(str, ollama.base_url_for(None))
    ollama_key = key or ollama.api_key_from_env()
    found = probe_default_ollama(ollama_url)
    openai_set = [
        v for v in (openai.key_env_var, openai.base_url_env_var) if v and os.environ.get(v)
    ]
    openai_ready = bool(key or openai_set)
    openai_why = f"{' and '.join(openai_set)} set" if openai_set else "an API key was given"
    if found is not None:
        if not name:
            picked, picked_why = _choose_model(found.provider, found.base_url, ollama_key)
            return Resolution(
                found.provider,
                picked,
                found.base_url,
                why(picked_why, found.reason),
                api_key=ollama_key,
            )
        if not _installed(name, found, ollama_key):
            if openai_ready:
                reason = why(named, f"not installed in {ollama.label}; {openai_why}")
                return _resolved_as(openai, name, key, reason)
            prefix = name.partition(":")[0]
            if ":" in name and prefix not in providers.names():
                # "anthropic:claude…" is neither a provider nor a model Ollama has; sending
                # it would only come back as a 404.
                raise UnknownProvider(
                    f"Unknown provider {prefix!r}, and {ollama.label} has no model {name!r}.",
                    hint=f"Use one of: {', '.join(providers.names())} (as 'provider:model'), "
                    f"or {ollama.model_hint(name)}.",
                )
        return Resolution(
            found.provider, name, found.base_url, why(named, found.reason), api_key=ollama_key
        )
    if name:
        if openai_ready:
            reason = why(named, f"no {ollama.label} at {ollama_url}; {openai_why}")
            return _resolved_as(openai, name, key, reason)
        return _resolved_as(
            ollama,
            name,
            ollama_key,
            why(named, f"no server answers at {ollama_url} yet ({ollama.unreachable_hint})"),
        )
    reason = f"no server at {ollama_url}"
    if openai.api_key_from_env():
        reason += (
            f"; {openai.key_env_var} is set: name a model such as "
            f"'{openai.name}:{openai.example_model}' to use it"
        )
    fallback = providers.get(detect.FALLBACK)
    return Resolution(fallback.name, fallback.default_model or "", None, reason)


def _resolved_as(cls: type[Provider], name: str, key: str | None, why: str) -> Resolution:
    """``name`` on ``cls``'s server from the environment (or its default)."""
    return Resolution(
        cls.name, name, cls.base_url_for(None), why, api_key=key or cls.api_key_from_env()
    )


def _installed(name: str, found: Found, key: str | None) -> bool:
    """Whether the server found has ``name``; if it cannot say, assume it does."""
    try:
        models = _list_models(found.provider, found.base_url, key)
    except NbchatError:
        return True
    return name in models or f"{name}:latest" in models


def _choose_model(provider: str, base: str | None, key: str | None) -> tuple[str, str]:
    """The model ``provider`` picks from what its server lists, and why."""
    instance = providers.get(provider)(base_url=base, api_key=key)
    return instance.choose_model(_worker.run(instance.amodels))


def _list_models(provider: str, base: str | None, key: str | None) -> list[str]:
    instance = providers.get(provider)(base_url=base, api_key=key)
    return _worker.run(instance.amodels)
