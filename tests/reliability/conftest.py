"""Fixtures of the reliability suite: a clean nbchat, the project's emulators, a recording comm,
a real kernel, and (for the browser tests) the e2e suite's JupyterLab and Chromium."""

from __future__ import annotations

import pathlib
import typing
from collections.abc import Iterator

import pytest
from tests.e2e.conftest import browser, lab, lab_server  # noqa: F401  (fixtures)
from tests.reliability.harness import (
    KernelSession,
    RawServer,
    kernel_env,
)


@pytest.fixture
def raw_server() -> Iterator[typing.Callable[..., RawServer]]:
    """A factory like ``emulator``: ``raw_server("ollama")`` answers queued raw bytes first."""
    started: list[RawServer] = []

    def start(flavour: str = "ollama", **kwargs: typing.Any) -> RawServer:
        server = RawServer(flavour, **kwargs)
        server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelSession]:
    """One real IPython kernel for the tests of a module."""
    cwd: pathlib.Path = tmp_path_factory.mktemp("kernel")
    session = KernelSession(cwd, env=kernel_env())
    try:
        yield session
    finally:
        session.stop()
