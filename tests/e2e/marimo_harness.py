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

import os
import pathlib
import sys

import httpx
from tests.ports import free_port
from tests.servers.process import LoggedServer

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


class MarimoServer(LoggedServer):
    """``with MarimoServer(notebook, workdir) as server: page.goto(server.url)``."""

    label = "marimo"

    def __init__(self, notebook: pathlib.Path, workdir: pathlib.Path) -> None:
        super().__init__(
            workdir=workdir,
            log_name="marimo.log",
            startup_timeout=START_TIMEOUT,
            # SIGTERM lets marimo shut its kernels down.
            stop_timeout=STOP_TIMEOUT,
        )
        self.notebook = notebook

    @property
    def url(self) -> str:
        return self.root

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
        self._launch(argv, env)
        return self

    def _ready(self, client: httpx.Client) -> bool:
        answer = client.get(f"{self.url}/health")
        try:
            return bool(answer.json().get("status") == "healthy")
        except ValueError:
            return False  # not JSON (yet)
