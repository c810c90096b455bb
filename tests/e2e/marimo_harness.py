"""Serve a marimo notebook with ``marimo run`` on 127.0.0.1, headless and offline; stop by PID.

marimo (from PyPI, the test extra) runs with this interpreter, so the notebook imports the
nbchat under test. ``HOME`` and the XDG folders point into a temporary directory (marimo
writes its config and logs there), the update check is off (``marimo run`` never makes
it, but the variable costs nothing), and the notebook's kernel gets ``NBCHAT_MODEL`` set to
the demo so it can never reach a real model server. The server is ready when ``GET /health``
answers ``healthy`` while our process is still alive (a port someone else holds would also
answer, then our process exits: the research for this harness met exactly that). The
notebook's kernel starts per browser session: wait for the widget in the page.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import TracebackType

from tests.ports import free_port

__all__ = ["MarimoServer", "marimo_missing"]

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def marimo_missing() -> str | None:
    """Why marimo cannot run here, or ``None``."""
    try:
        import marimo  # noqa: F401
    except ImportError:
        return "marimo is not installed: `make setup` installs the test extra (marimo)"
    return None


class MarimoServer:
    """``with MarimoServer(notebook, workdir) as server: page.goto(server.url)``."""

    def __init__(self, notebook: pathlib.Path, workdir: pathlib.Path) -> None:
        self.notebook = notebook
        self.workdir = workdir
        self.port = 0
        self.log_path = workdir / "marimo.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MarimoServer:
        home = self.workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".state"),
            "MARIMO_SKIP_UPDATE_CHECK": "1",
            "NBCHAT_MODEL": "demo:showcase",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("OPENAI_API_KEY", None)
        argv = [
            sys.executable,
            "-m",
            "marimo",
            "-y",  # never prompt
            "run",
            str(self.notebook),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--headless",
            "--no-token",
            "--no-sandbox",  # never offer a uv sandbox
            "--no-check",  # the startup lint is not what we test
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C aimed at pytest is not also delivered here
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"marimo exited early; log:\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2.0) as resp:
                    healthy = json.loads(resp.read()).get("status") == "healthy"
                if healthy and self._process.poll() is None:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            # Waiting on the process is the poll interval, and notices it dying.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=0.2)
        raise TimeoutError(f"marimo did not answer /health; log:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        """SIGTERM to our PID (marimo shuts its kernels down), SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)

    def __enter__(self) -> MarimoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
