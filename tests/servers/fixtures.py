"""Pytest fixtures for the emulators; import them into a ``conftest.py``::

from tests.servers.fixtures import emulator, ollama_server, openai_server  # noqa: F401

and :func:`running`, for a fixture that starts a real server.
"""

from __future__ import annotations

import contextlib
import typing
from collections.abc import Callable, Iterator

import pytest

from .process import LoggedServer
from .server import EmulatorServer

__all__ = ["emulator", "ollama_server", "openai_server", "running"]

EmulatorFactory = Callable[..., EmulatorServer]
_L = typing.TypeVar("_L", bound=LoggedServer)


@contextlib.contextmanager
def running(server: _L) -> Iterator[_L]:
    """``server`` started, then stopped; where it cannot start (its environment is missing,
    it never came up) the test fails with its one-line reason: a tier is never skipped."""
    try:
        server.start()
    except server.unavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


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
