"""Loopback emulators of the model servers nbchat talks to, able to misbehave on request.

Start one in-process (a background thread with its own event loop)::

    from tests.servers import EmulatorServer, Reply

    with EmulatorServer("ollama", behaviour="tps=30") as srv:
        srv.enqueue(Reply(text="Hi!", reasoning="Greet back."))
        OllamaProvider(base_url=srv.base_url)          # http://127.0.0.1:<port>
        srv.chat_requests[-1].json()                   # what the client sent

or in a separate process (a kernel, a benchmark)::

    with EmulatorProcess("openai", behaviour="drop_after=3") as srv:
        srv.base_url                                   # http://127.0.0.1:<port>/v1

or from a shell: ``python -m tests.servers --flavour vllm --behaviour comments,crlf``.

Flavours (:data:`FLAVOURS`): ``ollama`` (native ``/api/*`` plus ``/v1`` and the discovery
routes), and the OpenAI-compatible ``openai``, ``ollama-v1`` is served by ``ollama``,
``llama.cpp``, ``llama-cpp-python``, ``vllm``, ``openrouter``, ``litellm``, ``lmstudio``,
``groq`` — each with its own chunk shapes, comments, error bodies and mid-stream errors.

Misbehaviour (:class:`Behaviour`) is chosen for the server, per :class:`Reply`, per
request in the model name (``"llama3.2@drop_after=3,crlf"``) or in an ``X-Emulator``
header. See :mod:`tests.servers.script` for every knob; the main ones: ``tps``,
``first_delay``, ``stall_after``/``stall``, ``drop_after``/``reset``, ``split``,
``bytewise``, ``crlf``, ``cr``, ``comments``, ``raw``, ``error=<kind>``, ``status``,
``retry_after``, ``error_after``/``error_style``, ``garbage_after``, ``html``,
``json_error``, ``empty``, ``no_finish``, ``no_done``, ``echo``, ``text``.

Pytest fixtures are in :mod:`tests.servers.fixtures` (import them in a conftest).
"""

from __future__ import annotations

from .process import EmulatorProcess
from .script import DEFAULT_TEXT, ERROR_KINDS, Behaviour, Reply, ToolCallSpec, parse_behaviour
from .server import DEFAULT_MODELS, FLAVOURS, EmulatorServer, RecordedRequest

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_TEXT",
    "ERROR_KINDS",
    "FLAVOURS",
    "Behaviour",
    "EmulatorProcess",
    "EmulatorServer",
    "RecordedRequest",
    "Reply",
    "ToolCallSpec",
    "parse_behaviour",
]
