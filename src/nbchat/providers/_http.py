"""The one httpx boundary: clients, timeouts, and every httpx failure made an nbchat error.

Everything a provider sends goes through :func:`stream` (a streamed POST) or
:func:`request` (a small GET). Both map transport failures, error statuses and bodies
that are not the protocol to :mod:`nbchat.errors`, and the mapping covers every chunk
read of a streamed body, not just the send. Every text that leaves this module is passed
through :func:`~nbchat.errors.redact`, so an API key a server echoes back stays here
(what an error *body* means is :mod:`._status`'s business; it is re-exported here).

Timeouts are enforced with asyncio, not httpx read timeouts: the first token may take as
long as a model load (no limit unless ``Timeouts.first_token``), and after the first byte
of the body ``Timeouts.idle`` bounds each wait for the next chunk.

Clients are made per request. A client pools connections on the event loop it first ran
on, and nbchat runs on several loops (the kernel's, a worker thread's, one per test), so a
shared client would carry sockets into loops that cannot use them, or leak them when a
loop closes. Building a client is cheap once the TLS context is shared (about 0.05 ms
against 17 ms with a fresh context); the cost is a new connection per reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import threading
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

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

T = typing.TypeVar("T")

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
# Waiting with a deadline.


async def _within(aw: Awaitable[T], delay: float | None, on_timeout: Callable[[], Exception]) -> T:
    """Await ``aw``; if it takes longer than ``delay`` seconds raise ``on_timeout()``.

    A timer cancels the waiting task, as ``asyncio.timeout`` does (which 3.10 lacks); a
    cancellation that did not come from our timer passes through untouched.
    """
    if delay is None:
        return await aw
    task = asyncio.current_task()
    assert task is not None
    cancelling: int = getattr(task, "cancelling", lambda: 0)()
    fired = False

    def fire() -> None:
        nonlocal fired
        fired = True
        task.cancel()

    handle = asyncio.get_running_loop().call_later(max(delay, 0.0), fire)
    try:
        return await aw
    except asyncio.CancelledError:
        if fired and _uncancel(task) <= cancelling:
            raise on_timeout() from None
        raise
    finally:
        handle.cancel()


def _uncancel(task: asyncio.Task[typing.Any]) -> int:
    # Python 3.11+ counts cancellations; 3.10 has no count to restore.
    uncancel: Callable[[], int] | None = getattr(task, "uncancel", None)
    return uncancel() if uncancel is not None else 0


class _Clock:
    """The deadlines of one reply: the first token's (from the start), then the idle one.

    Body reads are many and fast, so they do not each schedule a timer: one timer per
    reply wakes up at the earliest moment the current read could be overdue, and moves
    itself forward while reads keep completing.
    """

    def __init__(self, endpoint: Endpoint, timeouts: Timeouts) -> None:
        self.endpoint = endpoint
        self.timeouts = timeouts
        self.started = time.monotonic()
        self.got_bytes = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._reader: asyncio.Task[typing.Any] | None = None
        self._reading_since: float | None = None  # loop time, while a read is waiting
        self._cancelling = 0
        self._fired = False
        self._stopped = False

    def delay(self) -> float | None:
        if self.got_bytes:
            return self.timeouts.idle
        if self.timeouts.first_token is None:
            return None
        return self.timeouts.first_token - (time.monotonic() - self.started)

    async def read(self, chunks: AsyncIterator[bytes]) -> bytes:
        """The next chunk, or :meth:`timed_out` if it is late (StopAsyncIteration at EOF)."""
        delay = self.delay()
        if delay is None:
            return await chunks.__anext__()
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        task = self._reader = asyncio.current_task()
        assert task is not None
        self._cancelling = getattr(task, "cancelling", lambda: 0)()
        self._reading_since = now = loop.time()
        if self._timer is None:
            self._timer = loop.call_at(now + max(delay, 0.0), self._check)
        try:
            return await chunks.__anext__()
        except asyncio.CancelledError:
            if self._fired and _uncancel(task) <= self._cancelling:
                raise self.timed_out() from None
            raise
        finally:
            self._reading_since = None

    def _check(self) -> None:
        self._timer = None
        delay = self.delay()
        if self._stopped or delay is None or self._loop is None:
            return
        since = self._reading_since
        now = self._loop.time()
        if since is not None and now >= since + delay and self._reader is not None:
            self._fired = True
            self._reader.cancel()
            return
        due = (since + delay) if since is not None else (now + delay)
        self._timer = self._loop.call_at(due, self._check)

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def timed_out(self) -> NbchatError:
        where = self.endpoint.label
        if self.got_bytes:
            seconds = self.timeouts.idle
            return build_error(
                IdleTimeout,
                self.endpoint,
                f"{where} sent nothing for {seconds:g} s in the middle of the reply.",
                hint="The text so far is kept; raise Timeouts(idle=…) for slow servers.",
            )
        seconds = self.timeouts.first_token
        return build_error(
            IdleTimeout,
            self.endpoint,
            f"{where} did not start the reply within {seconds:g} s.",
            hint="The model may still be loading; raise Timeouts(first_token=…) or wait.",
        )


class _GuardedStream(httpx.AsyncByteStream):
    """The response body with deadlines and error mapping around every chunk read."""

    def __init__(self, inner: httpx.AsyncByteStream, clock: _Clock) -> None:
        self._inner = inner
        self._clock = clock

    async def __aiter__(self) -> AsyncIterator[bytes]:
        clock = self._clock
        chunks = self._inner.__aiter__()
        try:
            while True:
                try:
                    chunk = await clock.read(chunks)
                except StopAsyncIteration:
                    return
                except httpx.DecodingError as exc:
                    raise build_error(
                        ProtocolError, clock.endpoint, f"Could not decode the reply body: {exc}"
                    ) from exc
                except httpx.TransportError as exc:
                    raise build_error(
                        StreamInterrupted,
                        clock.endpoint,
                        f"The connection to {clock.endpoint.label} broke during the reply "
                        f"({_describe(exc)}).",
                    ) from exc
                if chunk:
                    clock.got_bytes = True
                    yield chunk
        finally:
            clock.stop()

    async def aclose(self) -> None:
        self._clock.stop()
        await self._inner.aclose()


# ---------------------------------------------------------------------------------------
# Requests.


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
    clock = _Clock(endpoint, timeouts)
    async with new_client(connect=timeouts.connect) as client:
        try:
            req = client.build_request("POST", url, json=body, headers=headers)
        except httpx.HTTPError as exc:  # bad URL
            raise _bad_url(endpoint, url, exc) from None
        response = await _within(_send(client, req, endpoint, url), clock.delay(), clock.timed_out)
        try:
            response.stream = _GuardedStream(response.stream, clock)  # type: ignore[arg-type]
            if response.status_code >= 300:
                raise await error_from_response(endpoint, response)
            yield response
        finally:
            await response.aclose()


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
    try:
        req = client.build_request(method, url, headers=headers)
    except httpx.HTTPError as exc:
        raise _bad_url(endpoint, url, exc) from None
    response = await _send(client, req, endpoint, url)
    try:
        body = await read_capped(response, limit=16 * 1024 * 1024)
    except httpx.TimeoutException as exc:
        raise build_error(
            ServerError, endpoint, f"{endpoint.label} did not answer {url} in time."
        ) from exc
    except httpx.TransportError as exc:
        raise build_error(
            StreamInterrupted,
            endpoint,
            f"The connection to {endpoint.label} broke ({_describe(exc)}).",
        ) from exc
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


async def _send(
    client: httpx.AsyncClient, req: httpx.Request, endpoint: Endpoint, url: str
) -> httpx.Response:
    try:
        return await client.send(req, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise _unreachable(endpoint, exc) from exc
    except httpx.UnsupportedProtocol as exc:
        raise _bad_url(endpoint, url, exc) from None
    except httpx.TimeoutException as exc:
        raise build_error(
            ServerUnreachable,
            endpoint,
            f"{endpoint.label} at {redact_userinfo(endpoint.base_url)} did not answer in time.",
            hint=endpoint.unreachable_hint,
        ) from exc
    except httpx.TransportError as exc:
        # The server took the connection and closed it without an HTTP answer: plain
        # HTTP sent to a TLS port, a crash, or something that is not an HTTP server.
        raise build_error(
            ServerUnreachable,
            endpoint,
            f"The server at {redact_userinfo(endpoint.base_url)} closed the connection "
            f"without an HTTP answer ({_describe(exc)}).",
            hint="Check the URL: http or https, and the port.",
        ) from exc


def _bad_url(endpoint: Endpoint, url: str, exc: Exception) -> NbchatError:
    return build_error(
        InvalidRequest,
        endpoint,
        f"Cannot use {redact_userinfo(url)!r} as a URL ({exc}).",
        hint="Give a base URL like http://localhost:11434 or https://api.openai.com/v1.",
    )


def _unreachable(endpoint: Endpoint, exc: Exception) -> NbchatError:
    return build_error(
        ServerUnreachable,
        endpoint,
        f"No server at {redact_userinfo(endpoint.base_url)} ({_describe(exc)})",
        hint=endpoint.unreachable_hint,
    )


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
