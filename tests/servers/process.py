"""Servers in their own processes, started on 127.0.0.1 and stopped by PID.

:class:`EmulatorProcess` is the emulator in its own process, for tests that point another
process (a Jupyter kernel) at it, and for benchmarks that must not share a core's GIL with
the client: ``python -m tests.servers`` run from the repository root prints one JSON line
with its address. :class:`LoggedServer` is the lifecycle every real server we start shares
(llama.cpp, LiteLLM, marimo): output to a log file, readiness polled over HTTP while the
process lives, stopped by PID (:func:`stop_by_pid`: SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import abc
import json
import os
import pathlib
import selectors
import signal
import subprocess
import sys
import time
import typing
from collections.abc import Mapping, Sequence
from types import TracebackType

import httpx

__all__ = ["REPO_ROOT", "EmulatorProcess", "LoggedServer", "Service", "stop_by_pid"]

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

_S = typing.TypeVar("_S", bound="Service")


class Service(abc.ABC):
    """Something a test starts and stops: ``with`` calls :meth:`start`, then :meth:`stop`."""

    @abc.abstractmethod
    def start(self) -> object: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def __enter__(self: _S) -> _S:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stop_by_pid(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM to the process's PID, SIGKILL if it has not exited within ``timeout``."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


class LoggedServer(Service):
    """A server process on ``127.0.0.1:port`` whose output goes to ``workdir/log_name``.

    A subclass prepares its files and command line in :meth:`start`, then calls
    :meth:`_launch`; it says what "ready" means in :meth:`_ready`. Ready counts only while
    our process is alive: a port someone else holds would answer the poll while our process
    dies of "address already in use".
    """

    #: How errors name the server, and the error raised when it does not come up.
    label = "the server"
    unavailable: type[Exception] = RuntimeError
    poll_interval = 0.2

    def __init__(
        self, *, workdir: pathlib.Path, log_name: str, startup_timeout: float, stop_timeout: float
    ) -> None:
        self.workdir = pathlib.Path(workdir)
        self.log_path = self.workdir / log_name
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def log_text(self) -> str:
        """Everything the server printed so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    @abc.abstractmethod
    def _ready(self, client: httpx.Client) -> bool:
        """Whether the server answers as ready (a transport error counts as "not yet")."""

    def _launch(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        """Run ``argv`` in ``workdir`` and wait until it is ready; stop it if it never is."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=dict(env),
                start_new_session=True,  # a Ctrl-C aimed at pytest is not also delivered here
            )
        try:
            self._wait_until_ready(self._process)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=httpx.Timeout(2.0)) as client:
            while True:
                try:
                    ready = self._ready(client)
                except httpx.TransportError:
                    ready = False  # not listening yet
                if ready and process.poll() is None:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.unavailable(
                        f"{self.label} did not become ready within {self.startup_timeout:.0f} s. "
                        f"Log tail:\n{_tail(self.log_text())}"
                    )
                try:
                    # Waiting on the process is the poll interval, and notices a crash.
                    code = process.wait(timeout=min(self.poll_interval, remaining))
                except subprocess.TimeoutExpired:
                    continue
                raise self.unavailable(
                    f"{self.label} exited with code {code} before it was ready. "
                    f"Log tail:\n{_tail(self.log_text())}"
                )

    def stop(self) -> None:
        """Stop the server by PID: SIGTERM, then SIGKILL if it has not exited in time."""
        process, self._process = self._process, None
        if process is not None:
            stop_by_pid(process, self.stop_timeout)


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


class EmulatorProcess(Service):
    """``with EmulatorProcess("openai", behaviour="tps=20") as srv: srv.base_url``."""

    def __init__(
        self,
        flavour: str = "ollama",
        *,
        behaviour: str | None = None,
        text: str | None = None,
        models: Sequence[str] | None = None,
        api_key: str | None = None,
        python: str = sys.executable,
        start_timeout: float = 20.0,
    ) -> None:
        self.argv = [python, "-m", "tests.servers", "--flavour", flavour]
        if behaviour:
            self.argv += ["--behaviour", behaviour]
        if text is not None:
            self.argv += ["--text", text]
        if models is not None:
            self.argv += ["--models", ",".join(models)]
        self._api_key = api_key
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, str | int] = {}

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def base_url(self) -> str:
        return str(self.info["base_url"])

    @property
    def root_url(self) -> str:
        return str(self.info["root_url"])

    def start(self) -> EmulatorProcess:
        env = dict(os.environ)
        if self._api_key:  # passed by environment, never on a command line
            env["NBCHAT_EMULATOR_API_KEY"] = self._api_key
        self.process = subprocess.Popen(
            self.argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
        )
        assert self.process.stdout is not None
        line = b""
        deadline = time.monotonic() + self.start_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.stop()
                    raise RuntimeError("the emulator process did not report its address")
                # os.read, not .read(1): a buffered read would keep bytes select() cannot see.
                data = os.read(self.process.stdout.fileno(), 4096)
                if not data:
                    self.stop()
                    raise RuntimeError("the emulator process exited before starting")
                line += data
        self.info = json.loads(line)
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        stop_by_pid(process, 10)
        if process.stdout is not None:
            process.stdout.close()
