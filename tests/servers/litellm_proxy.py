"""A real LiteLLM proxy (``litellm[proxy]``) on 127.0.0.1, for the gateway test tier.

``LiteLLMProxy`` writes a config file (JSON, which is YAML too) and a ``custom_auth`` module
beside it, starts ``litellm --config … --host 127.0.0.1 --port <free>`` from the repository's
``.venv-litellm`` with an explicit minimal environment, waits until it is ready, and stops
it by PID (SIGTERM, then SIGKILL after a deadline). Its log is a file tests may read.

Why each setting (measured on litellm 1.108.7, see the README's troubleshooting notes):

- ``LITELLM_LOCAL_MODEL_COST_MAP=True``: otherwise it fetches a cost map from GitHub at import;
  ``LITELLM_MODE=PRODUCTION``: otherwise it loads a ``.env`` from its working directory;
  no admin UI, no API docs; ``OLLAMA_API_BASE`` at our Ollama emulator, because the startup
  ``POST /api/show`` of an ``ollama_chat/`` deployment ignores the deployment's ``api_base``
  and would otherwise ask ``localhost:11434`` (a developer's real Ollama).
- ``num_retries: 0`` (both levels): an error is answered at once, not after retries.
- A ``master_key`` and no database. A DB-less proxy answers any other key with 400 "No
  connected db." (it takes every non-master key for a virtual key to look up); with a
  database, a bad key is a 401. ``custom_auth`` (:data:`CUSTOM_AUTH`) reproduces that 401
  without a database when ``db_less_auth`` is false, which is the default: the tier tests
  what a team with virtual keys sees. ``prisma`` must be installed (the Makefile does) or
  every auth failure is a plain-text 500.

Readiness is three things at once: ``GET /health/liveliness`` answers, our process is alive,
and its log says uvicorn is running on our port (a port someone else holds would answer the
poll while our process dies of "address already in use").
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
from tests.ports import free_port
from tests.servers.process import REPO_ROOT, LoggedServer

__all__ = [
    "LITELLM_BIN",
    "MASTER_KEY",
    "Deployment",
    "LiteLLMProxy",
    "LiteLLMUnavailable",
]

LITELLM_BIN = REPO_ROOT / ".venv-litellm" / "bin" / "litellm"
MASTER_KEY = "sk-nbchat-test-master"

#: The research's hook: the master key passes, anything else is refused as a DB-backed proxy
#: refuses an unknown virtual key (401 "Authentication Error, Invalid proxy server token").
CUSTOM_AUTH = f"""\
from fastapi import Request
from litellm.proxy._types import UserAPIKeyAuth

MASTER = {MASTER_KEY!r}


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    if api_key == MASTER:
        return UserAPIKeyAuth(api_key=api_key, user_role="proxy_admin")
    raise Exception("Invalid proxy server token passed.")
"""


class LiteLLMUnavailable(RuntimeError):
    """The proxy's environment is missing or the proxy did not come up."""


@dataclasses.dataclass(frozen=True)
class Deployment:
    """One ``model_list`` entry: what clients ask for, and where the proxy sends it."""

    name: str  # model_name, what /v1/models lists
    model: str  # "openai/<upstream id>" or "ollama_chat/<ollama model>"
    api_base: str  # with /v1 for openai/, the bare root for ollama_chat/
    api_key: str | None = "sk-upstream-not-checked"  # else it falls back to OPENAI_API_KEY

    def entry(self) -> dict[str, object]:
        params: dict[str, object] = {"model": self.model, "api_base": self.api_base}
        if self.api_key is not None and self.model.startswith("openai/"):
            params["api_key"] = self.api_key
        return {"model_name": self.name, "litellm_params": params}


class LiteLLMProxy(LoggedServer):
    """``with LiteLLMProxy([...], workdir=…, ollama_base=…) as proxy: proxy.base_url``."""

    label = "LiteLLM"
    unavailable = LiteLLMUnavailable

    def __init__(
        self,
        deployments: Sequence[Deployment],
        *,
        workdir: Path,
        ollama_base: str,
        db_less_auth: bool = False,
        startup_timeout: float = 90.0,
        stop_timeout: float = 10.0,
    ) -> None:
        super().__init__(
            workdir=workdir,
            log_name="litellm.log",
            startup_timeout=startup_timeout,
            stop_timeout=stop_timeout,
        )
        self.deployments = tuple(deployments)
        self.ollama_base = ollama_base
        self.db_less_auth = db_less_auth
        self.startup_seconds: float | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``…/v1``)."""
        return f"{self.root}/v1"

    def config(self) -> dict[str, object]:
        general: dict[str, object] = {"master_key": MASTER_KEY}
        if not self.db_less_auth:
            general["custom_auth"] = "custom_auth.user_api_key_auth"  # beside the config
        return {
            "model_list": [d.entry() for d in self.deployments],
            "litellm_settings": {"num_retries": 0, "request_timeout": 30},
            "router_settings": {"num_retries": 0},
            "general_settings": general,
        }

    def env(self) -> Mapping[str, str]:
        """Everything the proxy sees: nothing of ours leaks in (no keys, no proxies)."""
        return {
            "PATH": f"{LITELLM_BIN.parent}:/usr/bin:/bin",
            "HOME": str(self.workdir),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_MODE": "PRODUCTION",
            "LITELLM_LOG": "INFO",
            "DISABLE_ADMIN_UI": "True",
            "NO_DOCS": "True",
            "NO_REDOC": "True",
            "OLLAMA_API_BASE": self.ollama_base,
        }

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> LiteLLMProxy:
        if not LITELLM_BIN.exists():
            raise LiteLLMUnavailable(
                f"LiteLLM's environment is missing ({LITELLM_BIN}). "
                "Run `make setup` (it installs .venv-litellm), then run this tier again."
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = self.workdir / "litellm.json"
        config.write_text(json.dumps(self.config(), indent=2), encoding="utf-8")
        (self.workdir / "custom_auth.py").write_text(CUSTOM_AUTH, encoding="utf-8")
        argv = [str(LITELLM_BIN), "--config", str(config), "--host", "127.0.0.1"]
        argv += ["--port", str(self.port)]
        started = time.monotonic()
        self._launch(argv, self.env())
        self.startup_seconds = time.monotonic() - started
        return self

    def _ready(self, client: httpx.Client) -> bool:
        alive = client.get(f"{self.root}/health/liveliness").status_code == 200
        return alive and f"Uvicorn running on http://127.0.0.1:{self.port}" in self.log_text()
