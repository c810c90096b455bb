"""The one httpx boundary: clients, timeouts, and every httpx failure made an nbchat error.

Everything a provider sends goes through :func:`stream` (a streamed POST) or
:func:`request` (a small GET). Both map transport failures, error statuses and bodies
that are not the protocol to :mod:`nbchat.errors`, and the mapping covers every chunk
read of a body, not just the send. Every text that leaves this module is redacted
(:func:`~nbchat.errors.redact`), so an API key a server echoes back stays here
(what an error *body* means is :mod:`._status`'s business; it is re-exported here).

Timeouts of a reply are enforced with asyncio (:mod:`._deadline`), not httpx read
timeouts: the first token may take as long as a model load (no limit unless
``Timeouts.first_token``), and after the first byte of the body ``Timeouts.idle`` bounds
each wait for the next chunk. One table (:data:`_TABLE`) says which nbchat error each
failure below us becomes, before a response and while reading one.

Clients are made per request. A client pools connections on the event loop it first ran
on, and nbchat runs on several loops (the kernel's, a worker thread's, one per test), so a
shared client would carry sockets into loops that cannot use them, or leak them when a
loop closes. Building a client is cheap once the TLS context is shared (about 0.05 ms
against 17 ms with a fresh context); the cost is a new connection per reply.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import ssl
import threading
import typing
from collections.abc import AsyncIterator, Callable, Mapping

import httpx

from ..errors import (
    IdleTimeout,
    InvalidRequest,
    NbchatError,
    ProtocolError,
    ResponseError,
    ServerError,
    ServerUnreachable,
    StreamInterrupted,
    redact_userinfo,
)
from ._deadline import Deadline, FirstByteLate, IdleTooLong
from ._status import (
    Endpoint,
    ErrorInfo,
    build_error,
    classify,
    error_from_payload,
    parse_error_body,
)
from .base import Timeouts

__all__ = [
    "ERROR_BODY_LIMIT",
    "Endpoint",
    "ErrorInfo",
    "body_chunks",
    "classify",
    "content_type",
    "error_from_payload",
    "error_from_response",
    "model_names",
    "new_client",
    "parse_error_body",
    "raise_for_status",
    "read_capped",
    "reject_body",
    "request",
    "stream",
]

#: How much of an error body we read: enough for any JSON error, not a whole HTML site.
ERROR_BODY_LIMIT = 64 * 1024
_WRITE_TIMEOUT = 30.0

_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None


# ---------------------------------------------------------------------------------------
# Clients and URLs.


def _shared_ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle is the expensive part of a client; the context is immutable
    # once built and safe to share between threads and loops.
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


def new_client(*, connect: float, read: float | None = None) -> httpx.AsyncClient:
    """A fresh client for one reply (or one round of probes) on the running loop."""
    timeout = httpx.Timeout(connect=connect, read=read, write=_WRITE_TIMEOUT, pool=connect)
    return httpx.AsyncClient(timeout=timeout, verify=_shared_ssl_context(), follow_redirects=False)


def body_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive, decompressed if the server compressed them.

    Streams are rarely compressed; reading them raw skips a decoder layer per chunk.
    """
    if response.headers.get("content-encoding", "identity").lower() in ("", "identity"):
        return response.aiter_raw()
    return response.aiter_bytes()


def content_type(response: httpx.Response) -> str:
    """The media type alone, lower case: ``text/event-stream``."""
    value: str = response.headers.get("content-type", "")
    return value.partition(";")[0].strip().lower()


# ---------------------------------------------------------------------------------------
# The error table.

_SEND, _READ = "send", "read"  # before a response, and while reading its body


@dataclasses.dataclass(frozen=True)
class _Rule:
    """An nbchat error to raise. ``message`` and ``hint`` are ``str.format`` templates over
    ``label``, ``url`` (the base URL), ``target`` (the URL asked), ``why`` (in a few words,
    what went wrong below httpx), ``exc`` (httpx's own text), ``seconds`` (of a deadline)
    and ``unreachable`` (the endpoint's hint for a server that is not there)."""

    error: type[NbchatError]
    message: str
    hint: str | None = None  # None: the error class's own default
    chain: bool = True  # False where httpx's text may repeat the URL (and its password)


_BAD_URL = _Rule(
    InvalidRequest,
    "Cannot use {target!r} as a URL ({exc}).",
    "Give a base URL like http://localhost:11434 or https://api.openai.com/v1.",
    chain=False,
)
_NO_SERVER = _Rule(ServerUnreachable, "No server at {url} ({why})", "{unreachable}")
_FIRST_BYTE_LATE = _Rule(
    IdleTimeout,
    "{label} did not start the reply within {seconds:g} s.",
    "The model may still be loading; raise Timeouts(first_token=…) or wait.",
)

#: Each failure below us, by when it happened, and the nbchat error it becomes. The most
#: specific class wins (``ConnectTimeout`` over ``TimeoutException``), as in httpx's own
#: ``map_httpcore_exceptions``. Timeouts between tokens are ours (:mod:`._deadline`),
#: not httpx's: streamed replies have no httpx read timeout.
_TABLE: Mapping[tuple[str, type[Exception]], _Rule] = {
    (_SEND, httpx.InvalidURL): _BAD_URL,
    (_SEND, httpx.UnsupportedProtocol): _BAD_URL,
    (_SEND, httpx.ConnectError): _NO_SERVER,
    (_SEND, httpx.ConnectTimeout): _NO_SERVER,
    (_SEND, httpx.TimeoutException): _Rule(
        ServerUnreachable, "{label} at {url} did not answer in time.", "{unreachable}"
    ),
    # The server took the connection and closed it without an HTTP answer: plain HTTP
    # sent to a TLS port, a crash, or something that is not an HTTP server.
    (_SEND, httpx.TransportError): _Rule(
        ServerUnreachable,
        "The server at {url} closed the connection without an HTTP answer ({why}).",
        "Check the URL: http or https, and the port.",
    ),
    (_SEND, FirstByteLate): _FIRST_BYTE_LATE,
    (_READ, FirstByteLate): _FIRST_BYTE_LATE,
    (_READ, IdleTooLong): _Rule(
        IdleTimeout,
        "{label} sent nothing for {seconds:g} s in the middle of the reply.",
        "The text so far is kept; raise Timeouts(idle=…) for slow servers.",
    ),
    (_READ, httpx.DecodingError): _Rule(ProtocolError, "Could not decode the reply body: {exc}"),
    (_READ, httpx.TimeoutException): _Rule(ServerError, "{label} did not answer {target} in time."),
    (_READ, httpx.TransportError): _Rule(
        StreamInterrupted, "The connection to {label} broke during the reply ({why})."
    ),
}


class _Boundary:
    """Within it, a failure the table knows becomes its nbchat error (others pass)."""

    __slots__ = ("endpoint", "moment", "target")

    def __init__(self, endpoint: Endpoint, moment: str, target: str) -> None:
        self.endpoint, self.moment, self.target = endpoint, moment, target

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if not isinstance(exc, Exception) or isinstance(exc, NbchatError):
            return
        rules = [(c, r) for (m, c), r in _TABLE.items() if m == self.moment and isinstance(exc, c)]
        if not rules:
            return
        rule = max(rules, key=lambda found: len(found[0].__mro__))[1]  # the most specific
        endpoint = self.endpoint
        words = {
            "label": endpoint.label,
            "url": redact_userinfo(endpoint.base_url),
            "target": redact_userinfo(self.target),
            "why": _describe(exc),
            "exc": str(exc),
            "seconds": getattr(exc, "seconds", 0.0),
            "unreachable": endpoint.unreachable_hint,
        }
        kw = {} if rule.hint is None else {"hint": rule.hint.format(**words)}
        error = build_error(rule.error, endpoint, rule.message.format(**words), **kw)
        raise error from (exc if rule.chain else None)


def _describe(exc: BaseException) -> str:
    """Say in a few words what went wrong below httpx."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(isinstance(item, ssl.SSLError) for item in chain):
        return "TLS handshake failed; is it http:// rather than https://?"
    for item in chain:
        if isinstance(item, socket.gaierror):
            return "host name not found"
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, ConnectionResetError):
            return "connection reset"
        if isinstance(item, TimeoutError | httpx.TimeoutException):
            return "timed out"
        if isinstance(item, OSError) and item.errno in (101, 113):
            return "host unreachable"
    text = str(exc) or type(exc).__name__
    if "incomplete chunked read" in text or "peer closed connection" in text:
        return "the server closed the connection mid-reply"
    return text


# ---------------------------------------------------------------------------------------
# Requests.


class _GuardedStream(httpx.AsyncByteStream):
    """The response body with the deadline and the error table around every chunk read."""

    def __init__(
        self, inner: httpx.AsyncByteStream, deadline: Deadline, boundary: _Boundary
    ) -> None:
        self._inner = inner
        self._deadline = deadline
        self._boundary = boundary

    async def __aiter__(self) -> AsyncIterator[bytes]:
        deadline = self._deadline
        within = deadline.within
        chunks = self._inner.__aiter__()
        with self._boundary:
            while True:
                try:
                    chunk = await within(chunks.__anext__())
                except StopAsyncIteration:
                    return
                if chunk:
                    deadline.got_bytes = True
                    yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


@contextlib.asynccontextmanager
async def stream(
    endpoint: Endpoint,
    url: str,
    body: Mapping[str, typing.Any],
    *,
    headers: Mapping[str, str],
    timeouts: Timeouts,
) -> AsyncIterator[httpx.Response]:
    """POST ``body`` as JSON and yield the streaming response, status already checked.

    Reading the body raises nbchat errors only: :class:`StreamInterrupted` for a broken
    connection, :class:`IdleTimeout` past a deadline. Leaving the block closes the
    response, which is how a server learns to stop generating.
    """
    deadline = Deadline(first_token=timeouts.first_token, idle=timeouts.idle)
    try:
        async with new_client(connect=timeouts.connect) as client:
            with _Boundary(endpoint, _SEND, url):
                req = client.build_request("POST", url, json=body, headers=headers)
                response = await deadline.within(client.send(req, stream=True))
            try:
                reading = _Boundary(endpoint, _READ, url)
                response.stream = _GuardedStream(response.stream, deadline, reading)  # type: ignore[arg-type]
                if response.status_code >= 300:
                    raise await error_from_response(endpoint, response)
                yield response
            finally:
                await response.aclose()
    finally:
        deadline.stop()


async def request(
    endpoint: Endpoint,
    url: str,
    *,
    client: httpx.AsyncClient | None = None,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    timeouts: Timeouts | None = None,
) -> httpx.Response:
    """A small non-streaming request; the body is read (up to 16 MiB) before returning.

    The status is not checked: callers that want an error use :func:`raise_for_status`.
    """
    if client is None:
        t = timeouts or Timeouts()
        async with new_client(connect=t.connect, read=t.idle) as own:
            return await request(endpoint, url, client=own, method=method, headers=headers)
    with _Boundary(endpoint, _SEND, url):
        req = client.build_request(method, url, headers=headers)
        response = await client.send(req, stream=True)
    try:
        with _Boundary(endpoint, _READ, url):
            body = await read_capped(response, limit=16 * 1024 * 1024)
    finally:
        await response.aclose()
    # Re-wrap the bytes so callers can use .json()/.text on a closed response.
    return httpx.Response(response.status_code, headers=response.headers, content=body, request=req)


async def model_names(
    endpoint: Endpoint,
    url: str,
    read: Callable[[typing.Any], list[str]],
    *,
    headers: Mapping[str, str],
    timeouts: Timeouts,
) -> list[str]:
    """GET a model list and ``read`` the names out of its JSON; any other answer raises."""
    response = await request(endpoint, url, headers=headers, timeouts=timeouts)
    await raise_for_status(endpoint, response)
    try:
        return read(response.json())
    except (ValueError, AttributeError, KeyError, TypeError) as exc:
        raise await reject_body(endpoint, response, "a model list") from exc


async def raise_for_status(endpoint: Endpoint, response: httpx.Response) -> None:
    """Raise the nbchat error a non-2xx ``response`` (already read) stands for."""
    if response.status_code >= 300:
        raise await error_from_response(endpoint, response)


# ---------------------------------------------------------------------------------------
# Bodies that are not the reply.


async def read_capped(response: httpx.Response, *, limit: int = ERROR_BODY_LIMIT) -> bytes:
    """Up to ``limit`` bytes of the body (the rest is left unread)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)[:limit]


async def error_from_response(endpoint: Endpoint, response: httpx.Response) -> ResponseError:
    """The error an HTTP status (≥ 300) and its body stand for."""
    try:
        body = await read_capped(response)
    except NbchatError:
        body = b""  # the status alone still says enough
    info = parse_error_body(body, content_type(response))
    return classify(endpoint, response.status_code, info, response.headers)


async def reject_body(endpoint: Endpoint, response: httpx.Response, expected: str) -> NbchatError:
    """The error for a 2xx answer that is not ``expected`` (an HTML page, a JSON error…)."""
    media = content_type(response) or "no content type"
    body = await read_capped(response)
    info = parse_error_body(body, content_type(response))
    if not info.html:
        with contextlib.suppress(ValueError):
            data = json.loads(body)
            if isinstance(data, Mapping) and data.get("error"):
                return error_from_payload(endpoint, data["error"], started=False)
    if not body.strip():
        return build_error(
            ProtocolError, endpoint, f"{endpoint.label} answered {media} with an empty body."
        )
    return build_error(
        ProtocolError,
        endpoint,
        f"Expected {expected} from {endpoint.label}, got {media}: {info.message}",
        hint="Is the base URL pointing at the model server (not a web page or a proxy login)?",
    )
