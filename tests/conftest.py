"""Rigs every test shares: an isolated nbchat, and the loopback emulators.

Every test starts with no :func:`nbchat.configure` defaults, no cached detections and no
variable that could send a request to a real server: ``OLLAMA_HOST`` points at a loopback
port where nothing listens (so "is Ollama there?" is answered at once, and never by a real
Ollama on a developer's machine). A test that wants a variable sets it with ``monkeypatch``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.ports import closed_port
from tests.servers.fixtures import emulator, ollama_server, openai_server

from nbchat import resolve, settings

__all__ = ["NBCHAT_ENV", "emulator", "isolated", "ollama_server", "openai_server"]

#: Every variable nbchat reads.
NBCHAT_ENV = (
    "NBCHAT_MODEL",
    "NBCHAT_BASE_URL",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """No settings, no nbchat variables, Ollama's address at a closed port (yielded)."""
    for name in NBCHAT_ENV:
        monkeypatch.delenv(name, raising=False)
    port = closed_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    settings.reset()
    resolve.forget_detections()
    yield port
    settings.reset()
    resolve.forget_detections()
