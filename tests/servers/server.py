"""The emulator server: routes of each flavour, scripted replies, a request log.

:class:`EmulatorServer` runs on its own event loop in a background thread, so sync and
async tests alike can use it; :class:`~tests.servers.process.EmulatorProcess` runs the
same server as a separate process.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import threading
import time
import typing
from collections.abc import Callable, Sequence

from . import ollama_native
from .http_errors import error_plan, json_error_plan, litellm_refusal
from .openai_compat import DIALECTS, Dialect, models_body, nonstream_plan, stream_plan
from .plan import Plan, play, whole
from .process import Service
from .script import Behaviour, Reply, parse_behaviour, split_model
from .wire import Connection, Request, Responder, serve

__all__ = ["DEFAULT_MODELS", "FLAVOURS", "EmulatorServer", "RecordedRequest"]

#: Every flavour: "ollama" is a whole Ollama (native API, ``/v1`` and discovery routes);
#: the others are OpenAI-compatible servers.
FLAVOURS = ("ollama", *DIALECTS)
DEFAULT_MODELS = ("llama3.2:latest", "qwen3:8b")

_PREFIX = {"openrouter": "/api/v1", "groq": "/openai/v1"}
_HTML = (
    "<!doctype html><html><head><title>Sign in · Corporate Proxy</title></head>"
    "<body><form>Sign in</form></body></html>"
)
_LLAMA_UI = "<!DOCTYPE html><html><head><title>llama.cpp - chat</title></head><body></body></html>"


@dataclasses.dataclass
class RecordedRequest:
    """One request the server received, and how its answer ended."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    client_left: bool = False  # the client closed the connection before the answer ended
    #: time.perf_counter() when the request had arrived whole, and when its answer ended
    received_at: float = dataclasses.field(default_factory=time.perf_counter)
    answered_at: float | None = None

    def json(self) -> typing.Any:
        return json.loads(self.body) if self.body else None


class EmulatorServer(Service):
    """A misbehaving-on-request model server on 127.0.0.1.

    >>> with EmulatorServer("ollama") as srv:        # doctest: +SKIP
    ...     srv.enqueue(Reply(text="Hi!"))
    ...     provider = OllamaProvider(base_url=srv.base_url)

    ``behaviour`` applies to every request (a :class:`Behaviour` or its string form);
    ``enqueue`` scripts the next replies (a string is the reply's text); with an empty
    queue the server answers ``reply`` (default: :data:`~tests.servers.DEFAULT_TEXT`).
    """

    def __init__(
        self,
        flavour: str = "ollama",
        *,
        reply: Reply | None = None,
        behaviour: Behaviour | str | None = None,
        models: Sequence[str] = DEFAULT_MODELS,
        api_key: str | None = None,
        port: int = 0,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown flavour {flavour!r}; one of {FLAVOURS}")
        self.flavour = flavour
        self.reply = reply or Reply()
        self.behaviour = parse_behaviour(behaviour) if isinstance(behaviour, str) else behaviour
        self.models = list(models)
        self.api_key = api_key
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._queue: collections.deque[Reply] = collections.deque()
        self._changed = threading.Condition()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._plans: dict[typing.Hashable, Plan] = {}

    # -- addresses -------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What a provider's ``base_url`` should be: the root for Ollama, else ``…/v1``."""
        if self.flavour == "ollama":
            return self.root_url
        return self.root_url + _PREFIX.get(self.flavour, "/v1")

    @property
    def openai_base_url(self) -> str:
        """The OpenAI-compatible base (for Ollama: its ``/v1``)."""
        return self.root_url + _PREFIX.get(self.flavour, "/v1")

    # -- scripting and inspection ----------------------------------------------------------

    def enqueue(self, *replies: Reply | str) -> None:
        """Answer the next chat requests with these replies, in order."""
        for reply in replies:
            self._queue.append(Reply(text=reply) if isinstance(reply, str) else reply)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith(("/chat", "/chat/completions"))]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until ``condition()`` holds (checked whenever a request starts or ends)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._run, name=f"emulator-{self.flavour}")
        self._thread.daemon = True
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the emulator did not start within 10 s")
        if self._failure is not None:
            raise RuntimeError("the emulator failed to start") from self._failure
        return self

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def serve_forever(self) -> None:
        """Run in the calling thread until :meth:`stop` (the CLI uses this)."""
        self._run()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by start()
            self._failure = exc
            self._ready.set()
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connected, "127.0.0.1", self.port)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()
            for _ in range(3):  # let closed transports finish closing before the loop does
                await asyncio.sleep(0)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await serve(self._handle, Connection(reader, writer))
        except asyncio.CancelledError:
            pass  # stop() cancels open connections; asyncio would log a cancelled callback
        finally:
            self._tasks.discard(task)

    # -- answering -------------------------------------------------------------------

    async def _handle(self, request: Request, responder: Responder) -> None:
        record = RecordedRequest(request.method, request.path, request.headers, request.body)
        with self._changed:
            self.requests.append(record)
            self._changed.notify_all()
        try:
            plan, behaviour = self._route(request)
            if self.flavour != "ollama" and plan.server_headers:  # x-litellm-version…
                for name, value in DIALECTS[self.flavour].headers:
                    plan.headers.setdefault(name, value)
            await play(plan, responder, behaviour, responder.conn)
        finally:
            record.answered_at = time.perf_counter()
            record.client_left = responder.conn.gone.is_set() and not responder.finished
            with self._changed:
                record.done.set()
                self._changed.notify_all()

    def _route(self, request: Request) -> tuple[Plan, Behaviour]:
        method, path = request.method, request.path
        plain = Behaviour()
        if self.flavour == "ollama":
            return self._route_ollama(request)
        dialect = DIALECTS[self.flavour]
        prefix = _PREFIX.get(self.flavour, "/v1")
        if path == f"{prefix}/chat/completions" and method == "POST":
            return self._chat(request, dialect.name)
        # LiteLLM's proxy serves its routes with and without /v1.
        bare = self.flavour == "litellm" and path == "/models"
        if (path == f"{prefix}/models" or bare) and method in ("GET", "HEAD"):
            listed = whole(200, models_body(dialect, self.models))
            listed.server_headers = self.flavour != "litellm"  # its /models has none
            return self._authorised(request, dialect.envelope) or listed, plain
        if self.flavour == "litellm" and path == "/":
            home = whole(200, b'"LiteLLM: RUNNING"', "application/json")
            home.server_headers = False
            return home, plain
        if self.flavour == "lmstudio":  # any other path: 200 with an error body
            return json_error_plan("lmstudio", method, path), plain
        if self.flavour == "llama.cpp" and path == "/":
            return whole(200, _LLAMA_UI, "text/html; charset=utf-8"), plain
        if self.flavour in ("llama.cpp", "vllm") and path == "/health":
            return whole(200, {"status": "ok"} if self.flavour == "llama.cpp" else b""), plain
        if self.flavour == "vllm" and path == "/version":
            return whole(200, {"version": "0.11.0"}), plain
        return self._route_missing(dialect, method, path), plain

    def _route_missing(self, dialect: Dialect, method: str, path: str) -> Plan:
        missing = error_plan(dialect.envelope, "not_found", 404, model="", method=method, path=path)
        missing.server_headers = self.flavour != "litellm"
        return missing

    def _route_ollama(self, request: Request) -> tuple[Plan, Behaviour]:
        method, path, plain = request.method, request.path, Behaviour()
        if path == "/api/chat" and method == "POST":
            return self._chat(request, "ollama")
        if path == "/v1/chat/completions" and method == "POST":
            return self._chat(request, "ollama-v1")
        if method not in ("GET", "HEAD"):
            return whole(404, "404 page not found"), plain
        if path == "/":
            return ollama_native.running(), plain
        if path == "/api/version":
            return whole(200, ollama_native.version_body()), plain
        if path == "/api/tags":
            tags = whole(200, ollama_native.tags_body(self.models))
            return self._authorised(request, "ollama") or tags, plain
        if path == "/v1/models":
            listed = whole(200, models_body(DIALECTS["ollama-v1"], self.models))
            return self._authorised(request, "openai") or listed, plain
        return whole(404, "404 page not found"), plain

    def _authorised(self, request: Request, envelope: str) -> Plan | None:
        if not self.api_key:
            return None
        auth = request.headers.get("authorization", "")
        if auth == f"Bearer {self.api_key}":
            return None
        if envelope == "litellm":
            return litellm_refusal(auth)
        return error_plan(envelope, "unauthorized", 401, model="", auth=auth)

    def _chat(self, request: Request, dialect_name: str) -> tuple[Plan, Behaviour]:
        envelope = "ollama" if dialect_name == "ollama" else DIALECTS[dialect_name].envelope
        try:
            body = request.json()
            name, from_model = split_model(str(body.get("model", "")))
            header = request.headers.get("x-emulator")
            from_header = parse_behaviour(header) if header else None
        except (ValueError, AttributeError) as exc:
            return whole(400, {"error": f"emulator: bad request: {exc}"}), Behaviour()
        reply = self._queue.popleft() if self._queue else self.reply
        b = (self.behaviour or Behaviour()).merged(reply.behaviour)
        b = b.merged(from_model).merged(from_header)
        reply = _with_content(reply, b, body)
        if denied := self._authorised(request, envelope):
            return denied, b
        auth = request.headers.get("authorization", "")
        leak = f" {auth}" if b.leak_key and auth else ""
        if b.overflow and not body.get("stream", dialect_name == "ollama"):
            b = dataclasses.replace(b, error="context")
        if b.reject_tools and body.get("tools"):
            return _tools_refused(dialect_name, name), b
        if b.blind and _has_images(body):
            return _images_refused(dialect_name, name), b
        if b.error or b.status:
            plan = error_plan(
                envelope,
                b.error,
                b.status,
                model=name,
                auth=auth,
                retry_after=b.retry_after,
                leak=leak.strip(),
            )
            return plan, b
        if b.html:
            return whole(200, _HTML, "text/html; charset=utf-8"), b
        if b.json_error:
            return json_error_plan(self.flavour, request.method, request.path), b
        key = (dialect_name, name, b, request.body) if b.repeat > 1 else None
        if key is not None and key in self._plans:  # benchmarks ask for the same long reply
            return self._plans[key], b
        if dialect_name == "ollama":
            if b.nonstream or body.get("stream") is False:
                return whole(200, _ollama_whole(reply, name)), b
            plan = ollama_native.chat_plan(reply, b, name, leak)
            if key is not None:
                self._plans[key] = plan
            return plan, b
        dialect = DIALECTS[dialect_name]
        if b.reject_stream_options and "stream_options" in body:
            message = "Unrecognized request argument supplied: stream_options"
            error = {"message": message, "type": "invalid_request_error", "param": None}
            return whole(400, {"error": {**error, "code": None}}), b
        if b.nonstream or not body.get("stream"):
            return nonstream_plan(dialect, reply, name), b
        if b.overflow:
            b = dataclasses.replace(b, empty=True)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        plan = stream_plan(dialect, reply, b, name, include_usage, leak)
        if key is not None:
            self._plans[key] = plan
        return plan, b


def _tools_refused(dialect: str, model: str) -> Plan:
    """How a server says no to ``tools`` (tests/servers/tool_samples.py has the sources)."""
    if dialect == "ollama":
        return whole(400, {"error": f"registry.ollama.ai/library/{model} does not support tools"})
    if dialect == "vllm":
        message = (
            '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
        )
        body = {"object": "error", "message": message, "type": "BadRequestError"}
        return whole(400, {**body, "param": None, "code": 400})
    message = f"Model {model} does not support tools."
    error = {"message": message, "type": "invalid_request_error", "param": "tools", "code": None}
    return whole(400, {"error": error})


def _has_images(body: typing.Any) -> bool:
    """Whether a chat request holds an image, in either protocol's shape."""
    for message in body.get("messages") or ():
        if message.get("images"):  # Ollama
            return True
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(p, dict) and p.get("type") == "image_url" for p in content
        ):
            return True
    return False


def _images_refused(dialect: str, model: str) -> Plan:
    """How a model without vision says no to images, in each server's words."""
    if dialect == "ollama":
        # server/images.go: CheckCapabilities joins errCapabilities ("does not support")
        # and errCapabilityVision ("vision") after the model's name, as for tools.
        return whole(400, {"error": f"registry.ollama.ai/library/{model} does not support vision"})
    if dialect == "llama.cpp":
        # llama-server without --mmproj: a std::runtime_error, so a 500 "server_error".
        message = (
            "image input is not supported - hint: if this is unexpected, you may need to "
            "provide the mmproj"
        )
        return whole(500, {"error": {"code": 500, "message": message, "type": "server_error"}})
    if dialect == "vllm":
        message = f"{model} is not a multimodal model"
        body = {"object": "error", "message": message, "type": "BadRequestError"}
        return whole(400, {**body, "param": None, "code": 400})
    message = "Invalid content type. image_url is only supported by certain models."
    error = {
        "message": message,
        "type": "invalid_request_error",
        "param": "messages.[0].content.[1].type",
        "code": None,
    }
    return whole(400, {"error": error})


def _with_content(reply: Reply, b: Behaviour, body: typing.Any) -> Reply:
    if b.echo:
        users = [m for m in body.get("messages") or () if m.get("role") == "user"]
        text = str(users[-1].get("content", "")) if users else ""
        reply = dataclasses.replace(reply, text=text, tokens=None)
    if b.text is not None:
        reply = dataclasses.replace(reply, text=b.text, tokens=None)
    if b.reasoning is not None:
        reply = dataclasses.replace(reply, reasoning=b.reasoning, reasoning_tokens=None)
    if b.repeat > 1:
        pieces = reply.text_pieces() * b.repeat
        reply = dataclasses.replace(reply, tokens=pieces, text="".join(pieces))
    return reply


def _ollama_whole(reply: Reply, model: str) -> dict[str, typing.Any]:
    message: dict[str, typing.Any] = {"role": "assistant", "content": reply.text}
    if reply.reasoning:
        message["thinking"] = reply.reasoning
    return {
        "model": model,
        "created_at": "2026-08-21T18:00:00.123456789Z",
        "message": message,
        "done": True,
        "done_reason": reply.finish_reason,
        "prompt_eval_count": reply.prompt_tokens,
        "eval_count": len(reply.text_pieces()),
    }
