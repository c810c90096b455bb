"""A real llama.cpp server (llama-cpp-python's) on 127.0.0.1, for the real-server test tier.

``LlamaCppServer`` is a context manager: it writes a config file, starts
``python -m llama_cpp.server`` from the repository's ``.venv-llama`` on a free loopback port,
waits until ``GET /v1/models`` answers, and at the end stops the process by its PID (SIGTERM,
then SIGKILL after a deadline). The server's output goes to a log file that tests may read.

The server runs in its own virtual environment because llama-cpp-python[server] pins its own
web stack. If that environment is missing the tier fails (it must not be skipped silently):
``make test`` installs it.

Run ``python -m tests.servers.llamacpp`` to serve the tiny model by hand until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx
from tests.ports import free_port as _free_port

__all__ = [
    "LLAMA_PYTHON",
    "REPO_ROOT",
    "LlamaCppServer",
    "LlamaCppUnavailable",
    "ServedModel",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
LLAMA_PYTHON = REPO_ROOT / ".venv-llama" / "bin" / "python"

# Settings the server reads from the environment (pydantic-settings, uvicorn's HOST/PORT):
# only these variables are passed on, so the caller's environment cannot redirect it.
_PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


class LlamaCppUnavailable(RuntimeError):
    """The server's environment is missing or the server did not come up."""


@dataclasses.dataclass(frozen=True)
class ServedModel:
    """One model the server offers under ``alias``."""

    alias: str
    path: Path
    n_ctx: int = 512
    seed: int = 1234
    n_threads: int = 1  # the machine is shared; one thread is plenty for a tiny model
    #: llama-cpp-python's chat handler ("chatml-function-calling" streams tool calls);
    #: None: the model file's own template.
    chat_format: str | None = None


class LlamaCppServer:
    """``with LlamaCppServer([ServedModel(...)], workdir=...) as server: server.base_url``."""

    def __init__(
        self,
        models: Sequence[ServedModel],
        *,
        workdir: Path,
        interrupt_requests: bool = True,
        startup_timeout: float = 120.0,
        stop_timeout: float = 10.0,
    ) -> None:
        if not models:
            raise ValueError("LlamaCppServer needs at least one model")
        self.models = tuple(models)
        self.workdir = Path(workdir)
        # llama-cpp-python's default: a streaming reply ends with a bare [DONE] (no
        # finish_reason) as soon as another request arrives. Kept, as users run it so.
        self.interrupt_requests = interrupt_requests
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.log_path = self.workdir / "llama-server.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``…/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def log_text(self) -> str:
        """Everything the server printed so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if not LLAMA_PYTHON.exists():
            raise LlamaCppUnavailable(
                f"llama-cpp-python's environment is missing ({LLAMA_PYTHON}). "
                "Run `make test` (it installs .venv-llama), then run this tier again."
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        config = self.workdir / "llama-server.json"
        config.write_text(json.dumps(self._config(), indent=2), encoding="utf-8")
        env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
        env["PYTHONUNBUFFERED"] = "1"  # the server's print() lines reach the log as they happen
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(LLAMA_PYTHON), "-m", "llama_cpp.server", "--config_file", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=env,
                start_new_session=True,  # a Ctrl-C aimed at pytest is not also delivered here
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server by PID: SIGTERM, then SIGKILL if it has not exited in time."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=self.stop_timeout)

    def __enter__(self) -> LlamaCppServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers ----------------------------------------------------------------------------

    def _config(self) -> dict[str, object]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "interrupt_requests": self.interrupt_requests,
            "models": [
                {
                    "model": str(model.path),
                    "model_alias": model.alias,
                    "n_ctx": model.n_ctx,
                    "seed": model.seed,
                    "n_threads": model.n_threads,
                    "n_threads_batch": model.n_threads,
                    "verbose": True,
                    **({"chat_format": model.chat_format} if model.chat_format else {}),
                }
                for model in self.models
            ],
        }

    def _wait_until_ready(self) -> None:
        """Poll ``/v1/models`` until it answers 200, the process dies, or the deadline passes."""
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=httpx.Timeout(2.0)) as client:
            while True:
                try:
                    if client.get(f"{self.base_url}/models").status_code == 200:
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LlamaCppUnavailable(
                        f"llama.cpp server did not answer within {self.startup_timeout:.0f} s. "
                        f"Log tail:\n{_tail(self.log_text())}"
                    )
                try:
                    # Waiting on the process doubles as the poll interval and notices a crash.
                    code = self._process.wait(timeout=min(0.1, remaining))
                except subprocess.TimeoutExpired:
                    continue
                raise LlamaCppUnavailable(
                    f"llama.cpp server exited with code {code} before it was ready. "
                    f"Log tail:\n{_tail(self.log_text())}"
                )


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


def main() -> int:
    import tempfile

    from tests.servers.tiny_gguf import write_tiny_llama

    with tempfile.TemporaryDirectory(prefix="nbchat-llama-") as tmp:
        model = write_tiny_llama(Path(tmp))
        with LlamaCppServer([ServedModel("tiny", model)], workdir=Path(tmp)) as server:
            print(f"llama.cpp server (pid {server.pid}) at {server.base_url}; Ctrl-C stops it.")
            print(f"log: {server.log_path}")
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
