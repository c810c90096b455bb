"""Drive a real JupyterLab 4 / Notebook 7 in headless Chromium, as a user would.

Each server runs on 127.0.0.1 with a token, in its own temporary config, runtime, settings
and workspace folders (news, update checks and autosave off; the extension manager cannot
reach a package index). Servers are stopped by PID: ``POST /api/shutdown``, then SIGTERM.
The browser is the system Chromium; Playwright cannot download one here.

Tests get a :class:`Jupyter` (the ``lab`` or ``notebook7`` fixture in ``conftest.py``):
write a notebook into the server's root, open it, run all cells, and wait for the chat
widget. Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import secrets
import signal
import subprocess
import sys
import time
import typing
import urllib.error
import urllib.request
from collections.abc import Callable

from tests.ports import free_port as _free_port

if typing.TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Locator, Page

__all__ = [
    "ARTIFACTS",
    "BUNDLE",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LABEXT",
    "REPO",
    "AppKind",
    "Jupyter",
    "JupyterServer",
    "notebook_json",
]

REPO = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = pathlib.Path("/usr/bin/chromium")
BUNDLE = REPO / "src" / "nbchat" / "static" / "widget.js"
#: nbchat's prebuilt JupyterLab extension, as `npm run build` leaves it.
LABEXT = REPO / "src" / "nbchat" / "labextension"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Console errors Notebook 7.6 logs on every /notebooks/ page (harmless, not ours).
KNOWN_CONSOLE_NOISE = (
    "Cannot read properties of undefined (reading 'schema')",
    "Command 'filebrowser:open-path' not registered",
)
SERVER_START_TIMEOUT = 60.0
KERNEL_TIMEOUT = 60_000  # ms
WIDGET = ".nbc-root"

AppKind = typing.Literal["lab", "notebook"]


# ---------------------------------------------------------------------------------------
# The server.


def _write_settings(settings_dir: pathlib.Path) -> None:
    """User settings that keep the UI quiet, offline and deterministic."""
    settings = {
        # No news toast, no update check (both would fetch from the internet).
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        # Autosave would write the outputs of a test into its notebook mid-test.
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        # Every cell rendered, however far down; see e2e-notes on windowing.
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }
    for name, values in settings.items():
        path = settings_dir / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class JupyterServer:
    """``jupyter lab`` or ``jupyter notebook`` on a free loopback port; stop by PID."""

    def __init__(self, kind: AppKind, base: pathlib.Path) -> None:
        self.kind = kind
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = base / "root"
        self.root.mkdir(parents=True)
        dirs = {
            name: base / name for name in ("config", "data", "runtime", "settings", "workspaces")
        }
        for path in dirs.values():
            path.mkdir()
        (base / "ipython").mkdir()
        _write_settings(dirs["settings"])
        # This checkout's build of the extension, whatever the venv holds (pip copies it once,
        # at install time): the user data dir comes before the venv's on JupyterLab's path.
        (dirs["data"] / "labextensions").mkdir()
        (dirs["data"] / "labextensions" / "jupyter-nbchat").symlink_to(LABEXT)
        app = "LabApp" if kind == "lab" else "JupyterNotebookApp"
        argv = [
            str(pathlib.Path(sys.executable).parent / "jupyter"),
            kind,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--{app}.expose_app_in_browser=True",
        ]
        if kind == "lab":
            argv += [
                "--LabApp.extension_manager=readonly",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
            "IPYTHONDIR": str(base / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            # In a virtualenv jupyter_core puts the env's data dirs before the user's unless
            # told otherwise, and the venv's jupyter-nbchat may be another checkout's build.
            "JUPYTER_PREFER_ENV_PATH": "0",
            # The kernel must never find a real model server by accident: demo only.
            "NBCHAT_MODEL": "demo:showcase",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("OPENAI_API_KEY", None)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"server-{kind}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _request(self, method: str, path: str, timeout: float = 5.0) -> bytes:
        req = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return typing.cast(bytes, resp.read())

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter {self.kind} exited; see {self.log_path}")
            try:
                self._request("GET", "/api/status", timeout=2.0)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                # Not listening yet: wait on the process (not a bare sleep) before retrying.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.25)
        raise TimeoutError(f"jupyter {self.kind} did not answer /api/status; see {self.log_path}")

    def page_url(self, notebook: str) -> str:
        if self.kind == "lab":
            # ?reset: start from an empty workspace, not the tabs an earlier test left open.
            return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"
        return f"{self.url}/notebooks/{notebook}?token={self.token}"

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(Exception):
                self._request("POST", "/api/shutdown")
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self._log.close()


# ---------------------------------------------------------------------------------------
# The page.


def notebook_json(*cells: str) -> dict[str, typing.Any]:
    """A notebook with these code cells and a kernelspec (so no kernel dialog opens)."""
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


class Jupyter:
    """One browser page on one server, with the moves a user makes."""

    def __init__(self, server: JupyterServer, page: Page, test_name: str) -> None:
        self.server = server
        self.page = page
        self.test_name = re.sub(r"[^\w.-]+", "_", test_name)
        self.console_errors: list[str] = []
        self._shots = 0
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.console_errors.append(msg.text)

    # -- notebooks ------------------------------------------------------------------------

    def open_notebook(self, *cells: str, name: str | None = None) -> None:
        """Write a notebook with ``cells`` into the server root and open it; kernel idle."""
        name = name or f"{self.test_name}.ipynb"
        (self.server.root / name).write_text(json.dumps(notebook_json(*cells)))
        self.page.goto(self.server.page_url(name))
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell"
            " && document.querySelector('.jp-Notebook .jp-Cell')",
            timeout=KERNEL_TIMEOUT,
        )
        self.wait_kernel_idle()

    def wait_kernel_idle(self) -> None:
        """Wait until the notebook's kernel exists and is idle (the status bar says "Idle"
        before a kernel is there at all, so ask the session instead)."""
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const kernel = w && w.sessionContext && w.sessionContext.session
                    && w.sessionContext.session.kernel;
                return kernel && kernel.status === 'idle'
                    && kernel.connectionStatus === 'connected';
            }""",
            timeout=KERNEL_TIMEOUT,
        )

    def cell_count(self) -> int:
        return self.page.locator(".jp-Notebook .jp-Cell").count()

    def run_all(self) -> None:
        """Run every cell (from the app's command registry) and wait for the kernel."""
        # Not awaited in the page: a command that opens a dialog would never resolve.
        self.page.evaluate(
            """() => {
                const app = window.jupyterapp;
                const panel = app.shell.currentWidget;
                if (panel) app.shell.activateById(panel.id);
                void app.commands.execute('notebook:run-all-cells');
            }"""
        )
        # Done when no cell shows [*], every code cell has a count, and the kernel is idle.
        self.page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll(
                    '.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')];
                return prompts.length > 0 && prompts.every(
                    (p) => /\\[\\d+\\]/.test(p.textContent || ''));
            }""",
            timeout=KERNEL_TIMEOUT,
        )
        self.wait_kernel_idle()

    def run_cell(self, index: int) -> None:
        """Run one cell (made active first), as Ctrl+Enter would; does not wait for it."""
        self.page.evaluate(
            """(index) => {
                const app = window.jupyterapp;
                const panel = app.shell.currentWidget;
                app.shell.activateById(panel.id);
                panel.content.activeCellIndex = index;
                void app.commands.execute('notebook:run-cell');
            }""",
            index,
        )

    def set_theme(self, name: str) -> None:
        """Switch the app's theme ("JupyterLab Dark"…) and wait until the page shows it."""
        light = "false" if "Dark" in name else "true"
        self.page.evaluate(
            "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})",
            name,
        )
        self.page.wait_for_function(
            "(light) => document.body.dataset.jpThemeLight === light", arg=light
        )

    def execution_counts(self) -> list[str]:
        return typing.cast(
            list[str],
            self.page.eval_on_selector_all(
                ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt",
                "els => els.map((e) => e.textContent || '')",
            ),
        )

    # -- the widget -----------------------------------------------------------------------

    def widgets(self) -> Locator:
        return self.page.locator(f".jp-OutputArea-output {WIDGET}")

    def widget(self, index: int = 0) -> Locator:
        locator = self.widgets().nth(index)
        locator.wait_for(state="visible", timeout=KERNEL_TIMEOUT)
        return locator

    def submit(self, prompt: str, index: int = 0) -> None:
        """Type ``prompt`` into the widget's input, as a person would, and press Enter."""
        box = self.widget(index).locator("textarea.nbc-input")
        box.click()
        box.press_sequentially(prompt, delay=5)
        box.press("Enter")

    def reply_length(self, index: int = 0) -> int:
        """Characters of the last assistant message's rendered text in view ``index``."""
        return typing.cast(
            int,
            self.widget(index)
            .locator(".nbc-msg-assistant .nbc-body")
            .last.evaluate("el => el.textContent.length"),
        )

    def watch_stream(
        self, until: Callable[[], bool], index: int = 0, timeout: float = 60.0
    ) -> list[int]:
        """Distinct growing lengths of the reply seen until ``until()`` (one per frame)."""
        lengths: list[int] = []
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the reply did not finish; lengths seen: {lengths}")
            with contextlib.suppress(Exception):  # the message may not exist yet
                length = self.reply_length(index)
                if not lengths or length != lengths[-1]:
                    lengths.append(length)
            # One animation frame in the page: the pace at which the view can change.
            self.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r(0)))")
        return lengths

    def is_streaming(self, index: int = 0) -> bool:
        return self.widget(index).locator(".nbc-msg.is-streaming").count() > 0

    def wait_idle(self, index: int = 0, timeout: float = 60_000) -> None:
        """Wait until no message of view ``index`` streams and one assistant reply settled."""
        self.widget(index).locator(".nbc-msg-assistant").last.wait_for(timeout=timeout)
        self.page.wait_for_function(
            """([sel, i]) => {
                const root = document.querySelectorAll(sel)[i];
                return root && root.querySelector('.nbc-msg-assistant')
                    && !root.querySelector('.nbc-msg.is-streaming');
            }""",
            arg=[f".jp-OutputArea-output {WIDGET}", index],
            timeout=timeout,
        )

    # -- artifacts ------------------------------------------------------------------------

    def screenshot(self, label: str, target: Locator | None = None) -> pathlib.Path:
        self._shots += 1
        path = ARTIFACTS / f"{self.server.kind}-{self.test_name}-{self._shots:02d}-{label}.png"
        (target or self.page).screenshot(path=str(path))
        return path

    def unexpected_console_errors(self) -> list[str]:
        return [e for e in self.console_errors if not any(n in e for n in KNOWN_CONSOLE_NOISE)]
