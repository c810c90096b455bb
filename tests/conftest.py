"""Rigs every test shares: an isolated nbchat, and the loopback emulators.

Every test starts with no :func:`nbchat.configure` defaults, no cached detections and no
variable that could send a request to a real server: ``OLLAMA_HOST`` points at a loopback
port where nothing listens (so "is Ollama there?" is answered at once, and never by a real
Ollama on a developer's machine). A test that wants a variable sets it with ``monkeypatch``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import comm
import pytest
from tests.comms import RecordingComm
from tests.ports import closed_port
from tests.servers.fixtures import emulator, ollama_server, openai_server

from nbchat import resolve, settings

__all__ = [
    "COLAB_WIDGETS_URL",
    "NBCHAT_ENV",
    "colab",
    "emulator",
    "isolated",
    "ollama_server",
    "openai_server",
]

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


#: Where the stand-in Colab says its custom widget manager is.
COLAB_WIDGETS_URL = "https://colab.example/widgets/manager.min.js"


@pytest.fixture
def colab(monkeypatch: pytest.MonkeyPatch) -> str:
    """A stand-in ``google.colab.output`` in ``sys.modules`` (anywidget's sign of Colab), with
    its custom widget manager installed at :data:`COLAB_WIDGETS_URL` (yielded)."""
    output = types.ModuleType("google.colab.output")
    output._widgets = types.SimpleNamespace(_installed_url=COLAB_WIDGETS_URL)  # type: ignore[attr-defined]
    output.enable_custom_widget_manager = lambda: None  # type: ignore[attr-defined]
    colab = types.ModuleType("google.colab")
    colab.output = output  # type: ignore[attr-defined]
    google = types.ModuleType("google")
    google.colab = colab  # type: ignore[attr-defined]
    for name, module in (
        ("google", google),
        ("google.colab", colab),
        ("google.colab.output", output),
    ):
        monkeypatch.setitem(sys.modules, name, module)
    return COLAB_WIDGETS_URL


@pytest.fixture
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widgets made in this test get a :class:`tests.comms.RecordingComm`, no kernel needed."""
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
