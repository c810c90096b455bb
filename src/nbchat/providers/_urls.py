"""Base URLs as people type them: the one normaliser, and the shapes servers give them.

Every URL nbchat is given passes through :func:`normalise_base_url` once (settings,
resolution and providers alike); a provider then adapts it to its protocol
(:meth:`~nbchat.providers.base.Provider.adapt_base_url`: Ollama keeps the server root,
an OpenAI-compatible server keeps ``/v1``), and detection splits it both ways
(:func:`split_base_url`) to probe each protocol where it lives. Masking a password in a
URL is :func:`nbchat.errors.redact_userinfo`'s job.
"""

from __future__ import annotations

import re
import urllib.parse

from ..errors import InvalidRequest, redact_userinfo

__all__ = ["normalise_base_url", "split_base_url"]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# Paths that end an OpenAI-compatible base (OpenRouter, Groq, Gemini, everyone else).
_OPENAI_SUFFIXES = ("/v1beta/openai", "/openai/v1", "/api/v1", "/v1")
# Endpoints people paste instead of a base URL.
_PASTED = ("/chat/completions", "/models", "/api/chat", "/api/generate", "/api/tags", "/api")


def normalise_base_url(url: str, *, check: bool = True) -> str:
    """``localhost:11434/`` → ``http://localhost:11434``: a scheme, no trailing slash.

    With ``check`` (the default) anything but an HTTP(S) URL with a host raises
    :class:`~nbchat.errors.InvalidRequest`; without it the URL is only tidied, and a bad
    one fails when a request is made (as a provider built by hand does).
    """
    if not isinstance(url, str):
        raise InvalidRequest(f"base_url must be a string, not {type(url).__name__}.")
    text = url.strip()
    if not _SCHEME.match(text):
        text = "http://" + text
    text = text.rstrip("/")
    if check:
        try:
            parts = urllib.parse.urlsplit(text)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # "http://[::1": an unclosed IPv6 bracket
            ok = False
        if not ok:
            raise InvalidRequest(
                f"Not an HTTP URL: {redact_userinfo(text)!r}.",
                hint="For example base_url='http://localhost:11434'.",
            )
    return text


def split_base_url(url: str) -> tuple[str, str, bool]:
    """``(root, openai_base, typed_openai)`` for a URL as a person typed it.

    >>> split_base_url("localhost:11434/v1/")
    ('http://localhost:11434', 'http://localhost:11434/v1', True)
    >>> split_base_url("https://openrouter.ai/api/v1/chat/completions")
    ('https://openrouter.ai', 'https://openrouter.ai/api/v1', True)
    >>> split_base_url("http://127.0.0.1:8080")
    ('http://127.0.0.1:8080', 'http://127.0.0.1:8080/v1', False)
    """
    url = normalise_base_url(url, check=False)
    for pasted in _PASTED:
        if url.endswith(pasted) and len(urllib.parse.urlsplit(url).path) >= len(pasted):
            url = url[: -len(pasted)]
            break
    for suffix in _OPENAI_SUFFIXES:
        if urllib.parse.urlsplit(url).path.endswith(suffix):
            return url[: -len(suffix)], url, True
    return url, url + "/v1", False
