"""Pytest fixtures for the emulators; import them into a ``conftest.py``::

from tests.servers.fixtures import emulator, ollama_server, openai_server  # noqa: F401
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator

import pytest

from .server import EmulatorServer

__all__ = ["emulator", "ollama_server", "openai_server"]

EmulatorFactory = Callable[..., EmulatorServer]


@pytest.fixture
def emulator() -> Iterator[EmulatorFactory]:
    """A factory: ``emulator("vllm", behaviour="comments")`` starts a server that is
    stopped when the test ends."""
    started: list[EmulatorServer] = []

    def start(flavour: str = "ollama", **kwargs: typing.Any) -> EmulatorServer:
        server = EmulatorServer(flavour, **kwargs).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture
def ollama_server(emulator: EmulatorFactory) -> EmulatorServer:
    return emulator("ollama")


@pytest.fixture
def openai_server(emulator: EmulatorFactory) -> EmulatorServer:
    return emulator("openai")
