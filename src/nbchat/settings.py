"""Where a setting comes from: arguments > :func:`configure` > environment variables.

:func:`configure` sets process-wide defaults; :func:`settings` reads them. Which provider,
model and server those settings (and the environment, and detection) lead to is
:mod:`nbchat.resolve`'s business.

Environment variables, read when a model is resolved: ``NBCHAT_MODEL``, ``NBCHAT_BASE_URL``,
and each provider's own (its ``base_url_env_var`` and ``key_env_var``: ``OLLAMA_HOST``,
``OLLAMA_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_API_KEY`` for the built-in ones).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import typing
from collections.abc import Mapping

from . import providers
from .errors import InvalidRequest, redact_userinfo
from .providers.base import Provider, normalise_base_url
from .providers.options import Option, validate_options

__all__ = [
    "UNSET",
    "Settings",
    "check_model",
    "configure",
    "default_options",
    "describe_options",
    "reset",
    "settings",
]


class _Unset:
    """ "Not given": lets ``configure(model=None)`` clear a setting instead of ignoring it."""

    _instance: typing.ClassVar[_Unset | None] = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET: typing.Any = _Unset()


# ---------------------------------------------------------------------------------------
# configure()


@dataclasses.dataclass(frozen=True, repr=False)
class Settings:
    """Process-wide defaults set with :func:`configure` (the key is never shown)."""

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = dataclasses.field(default=None, compare=False)
    system: str | None = None
    options: Mapping[str, object] = dataclasses.field(default_factory=dict)

    def __repr__(self) -> str:
        def show(value: object) -> str:
            return "(not set)" if value is None else repr(value)

        options = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items())) or "(none)"
        lines = [
            "nbchat settings (configure()):",
            f"  model     {show(self.model)}",
            f"  base_url  {show(self.base_url)}",
            f"  api_key   {'set' if self.api_key else 'not set'}",
            f"  system    {show(self.system)}",
            f"  options   {options}",
        ]
        env = _environment_summary()
        lines.append(f"environment: {env}" if env else "environment: (no nbchat variables)")
        return redact_userinfo("\n".join(lines))


_settings = Settings()
_settings_lock = threading.Lock()


def reset() -> None:
    """Forget every :func:`configure` default (tests start from here)."""
    global _settings
    with _settings_lock:
        _settings = Settings()


def settings() -> Settings:
    """The current :func:`configure` defaults."""
    return _settings


def configure(
    model: str | None = UNSET,
    *,
    base_url: str | None = UNSET,
    api_key: str | None = UNSET,
    system: str | None = UNSET,
    **options: object,
) -> Settings:
    """Set process-wide defaults; with no arguments, return the current ones.

    Only the arguments you pass change; passing ``None`` clears that setting (an option
    set to ``None`` is removed). Arguments given to ``Chat``/``Conversation``/``ask`` win
    over these, and these win over environment variables. Options are checked against
    every provider's known options; at each turn, options the chosen provider does not
    know are left out (``num_ctx`` set for Ollama does not break the demo).

    >>> nbchat.configure("ollama:llama3.2", temperature=0.2)
    >>> nbchat.configure()  # shows the settings; the key only as "set" / "not set"
    """
    global _settings
    with _settings_lock:
        current = _settings
        changes: dict[str, typing.Any] = {}
        if model is not UNSET:
            changes["model"] = check_model(model) if model is not None else None
        if base_url is not UNSET:
            changes["base_url"] = normalise_base_url(base_url) if base_url is not None else None
        if api_key is not UNSET:
            changes["api_key"] = None if api_key is None else _check_str("api_key", api_key) or None
        if system is not UNSET:
            changes["system"] = None if system is None else _check_str("system", system) or None
        if options:
            merged = dict(current.options)
            merged.update(options)
            changes["options"] = _check_any_provider_options(merged)
        _settings = dataclasses.replace(current, **changes)
        return _settings


def _check_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string, not {type(value).__name__}.")
    return value


def check_model(model: object) -> str:
    """``model`` as a non-empty string, or :class:`InvalidRequest`."""
    text = _check_str("model", model).strip()
    if not text:
        examples = " or ".join(f"'{p.name}:{p.example_model}'" for p in _registered())
        raise InvalidRequest("The model name is empty.", hint=f"For example {examples}.")
    return text


def _registered() -> list[type[Provider]]:
    return [providers.get(name) for name in providers.names()]


def _check_any_provider_options(options: Mapping[str, object]) -> dict[str, object]:
    # A value is fine here if any provider takes it; each turn checks it again against
    # the provider in use (and leaves out the options that provider does not know).
    return validate_options("any provider", _options_by_name(), options)


def _options_by_name() -> dict[str, tuple[Option, ...]]:
    known: dict[str, tuple[Option, ...]] = {}
    for provider in _registered():
        for key, option in provider.options.items():
            known[key] = tuple(dict.fromkeys((*known.get(key, ()), option)))
    return known


def describe_options() -> str:
    """Every option, one line each: what it takes, what it does, which providers know it."""
    lines = []
    for key, options in sorted(_options_by_name().items()):
        takers = [p.name for p in _registered() if key in p.options]
        only = "" if len(takers) == len(_registered()) else f" [{', '.join(takers)}]"
        lines.append(f"{key}: {options[0].allowed} — {options[0].description}{only}")
    return "\n".join(lines)


def _environment_summary() -> str:
    named = ["NBCHAT_MODEL", "NBCHAT_BASE_URL"]
    named += [p.base_url_env_var for p in _registered() if p.base_url_env_var]
    parts = [f"{name}={os.environ[name]}" for name in named if os.environ.get(name)]
    keys = [p.key_env_var for p in _registered() if p.key_env_var]
    parts += [f"{name} set" for name in keys if os.environ.get(name)]
    return ", ".join(parts)


def default_options(provider: Provider) -> dict[str, object]:
    """The :func:`configure` options this provider knows (others are for other providers)."""
    return {k: v for k, v in _settings.options.items() if k in provider.options}
