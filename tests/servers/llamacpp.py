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
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from tests.ports import free_port as _free_port
from tests.servers.process import REPO_ROOT, LoggedServer

__all__ = [
    "LLAMA_PYTHON",
    "REPO_ROOT",
    "LlamaCppServer",
    "LlamaCppUnavailable",
    "ServedModel",
]

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


class LlamaCppServer(LoggedServer):
    """``with LlamaCppServer([ServedModel(...)], workdir=...) as server: server.base_url``."""

    label = "llama.cpp server"
    unavailable = LlamaCppUnavailable
    poll_interval = 0.1

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
        super().__init__(
            workdir=workdir,
            log_name="llama-server.log",
            startup_timeout=startup_timeout,
            stop_timeout=stop_timeout,
        )
        self.models = tuple(models)
        # llama-cpp-python's default: a streaming reply ends with a bare [DONE] (no
        # finish_reason) as soon as another request arrives. Kept, as users run it so.
        self.interrupt_requests = interrupt_requests

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``…/v1``)."""
        return f"{self.root}/v1"

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
        self._launch(
            [str(LLAMA_PYTHON), "-m", "llama_cpp.server", "--config_file", str(config)], env
        )

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

    def _ready(self, client: httpx.Client) -> bool:
        return client.get(f"{self.base_url}/models").status_code == 200


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
