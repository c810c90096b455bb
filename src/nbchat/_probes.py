"""What answers where: the servers detection found, asked once per URL.

:func:`nbchat.resolve.resolve` asks here when the user named no provider or model.
Probing itself is :mod:`nbchat.providers.detect`'s (it speaks HTTP); this module runs it on
the worker loop for blocking callers, and remembers the answer: a server found stays found,
an empty URL is asked again after :data:`NEGATIVE_CACHE_S` (it may have been started since).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import typing

from . import _worker
from .errors import NbchatError

__all__ = ["NEGATIVE_CACHE_S", "Found", "forget_detections", "probe", "probe_default_ollama"]

#: A server that did not answer is asked again after this long (it may have been started).
NEGATIVE_CACHE_S = 10.0


@dataclasses.dataclass(frozen=True)
class Found:
    """A server that answered a probe."""

    provider: str  # "ollama" or "openai"
    base_url: str  # root for Ollama, the /v1 base for OpenAI-compatible
    reason: str  # how we know, from the probe


_probe_cache: dict[str, tuple[float, Found | None]] = {}
_probe_lock = threading.Lock()


def probe(url: str, key: str | None) -> Found | None:
    """What answers at ``url`` (Ollama preferred over its ``/v1``); ``None``: nothing."""
    return _cached(url, lambda: _worker.run(lambda: _adetect(url, key)))


def probe_default_ollama(url: str) -> Found | None:
    """Ollama at ``OLLAMA_HOST`` / localhost:11434, if one answers (one quick GET)."""
    return _cached(f"ollama-default {url}", lambda: _worker.run(_adetect_default_ollama))


def forget_detections() -> None:
    """Drop cached probe results (a server was started or stopped)."""
    with _probe_lock:
        _probe_cache.clear()


def _cached(cache_key: str, ask: typing.Callable[[], Found | None]) -> Found | None:
    with _probe_lock:
        cached = _probe_cache.get(cache_key)
    if cached is not None:
        when, found = cached
        if found is not None or time.monotonic() - when < NEGATIVE_CACHE_S:
            return found
    found = ask()
    with _probe_lock:
        _probe_cache[cache_key] = (time.monotonic(), found)
    return found


async def _adetect(url: str, key: str | None) -> Found | None:
    from .providers import detect

    try:
        found = await detect.detect(url, key)
    except NbchatError:
        return None  # nothing answers there
    return Found(found.provider, found.base_url.rstrip("/"), found.reason)


async def _adetect_default_ollama() -> Found | None:
    from .providers import detect

    url = await detect.probe_default_ollama()
    return Found(detect.OLLAMA, url, f"Ollama answers at {url}") if url else None
