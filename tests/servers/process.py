"""The emulator in its own process, for tests that point another process (a Jupyter
kernel) at it, and for benchmarks that must not share a core's GIL with the client.

The process is ``python -m tests.servers`` run from the repository root; it prints one
JSON line with its address, and is stopped by its PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import os
import pathlib
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import TracebackType

__all__ = ["REPO_ROOT", "EmulatorProcess"]

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


class EmulatorProcess:
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
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
