"""Provider registry: ``"ollama:llama3.2"`` → the provider class that speaks its protocol.

Built-in providers register through the same :func:`register` a third party would use,
and resolution, ``nbchat.models``, ``Chat`` and ``%chat`` know a provider only by what its
class declares (:class:`~nbchat.providers.base.Provider`: ``name``, ``label``, where its
server is, its environment variables, its default model, its :mod:`.options`).
"""

from __future__ import annotations

from ..errors import UnknownProvider
from .base import Provider

__all__ = ["Provider", "get", "names", "register"]

_REGISTRY: dict[str, type[Provider]] = {}


def register(provider: type[Provider]) -> type[Provider]:
    """Make ``provider`` available under ``provider.name``; usable as a class decorator."""
    _REGISTRY[provider.name] = provider
    return provider


def get(name: str) -> type[Provider]:
    """The provider class registered as ``name``, or :class:`UnknownProvider`."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(names())
        raise UnknownProvider(
            f"Unknown provider {name!r}.", hint=f"Use one of: {known} (as 'provider:model')."
        ) from None


def names() -> list[str]:
    """Registered provider names, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def _load_builtins() -> None:
    # Imported lazily so that importing nbchat stays cheap and free of cycles.
    from . import demo, ollama, openai  # noqa: F401
