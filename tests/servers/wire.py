"""A minimal HTTP/1.1 server on asyncio streams, with byte-level control of the answer.

Emulators need to misbehave in ways a web framework will not let them: every chunk of a
chunked body is exactly the bytes we choose (h11 hands each chunk to httpx as its own
read, so chunk boundaries are what the client sees), a body can stop without its
terminating chunk, the connection can be reset, and a stall can wait until the client
goes away. This module does only HTTP framing; what to say lives in the flavours.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import typing
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping

__all__ = ["ClientGone", "Connection", "Request", "Responder", "serve"]

_MAX_HEAD = 64 * 1024
_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    499: "Client Closed Request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ClientGone(Exception):
    """The client closed the connection while we were answering."""


@dataclasses.dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.target).path

    def json(self) -> typing.Any:
        return json.loads(self.body) if self.body else None


class Connection:
    """One client connection: reads requests, notices when the client leaves."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._buffer = bytearray()
        self._watch: asyncio.Task[bytes] | None = None
        self.gone = asyncio.Event()

    async def read_request(self) -> Request | None:
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > _MAX_HEAD or (self._buffer and not self._buffer[:1].isalpha()):
                # Not HTTP (a TLS ClientHello starts with 0x16): answer as Go's server does.
                if self._buffer:
                    self.writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                    await self.writer.drain()
                    # Read what the client still sends: closing with unread bytes is a RST.
                    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
                        while await asyncio.wait_for(self.reader.read(65536), 2.0):
                            pass
                return None
            data = await self._read()
            if not data:
                return None
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        self._buffer = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(self._buffer) < length:
            data = await self._read()
            if not data:
                return None
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return Request(method, target, headers, body)

    async def _read(self) -> bytes:
        if self._watch is not None:
            task, self._watch = self._watch, None
            data = await task
        else:
            data = await self.reader.read(65536)
        self._buffer += data
        return data

    def watch(self) -> None:
        """Start noticing EOF while we answer (clients do not pipeline, so any read
        during a response is EOF or the next request, which is kept)."""
        if self._watch is None:
            self._watch = asyncio.ensure_future(self.reader.read(65536))
            self._watch.add_done_callback(self._watched)

    def _watched(self, task: asyncio.Task[bytes]) -> None:
        if task.cancelled() or task.exception() is not None or not task.result():
            self.gone.set()

    async def wait_gone(self, timeout: float | None) -> bool:
        """Wait until the client leaves (True) or ``timeout`` passes (False)."""
        self.watch()
        try:
            await asyncio.wait_for(self.gone.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True


class Responder:
    """Writes one response. Chunked bodies go out one :meth:`chunk` per HTTP chunk."""

    def __init__(self, conn: Connection, request: Request) -> None:
        self.conn = conn
        self.request = request
        self.started = False
        self.finished = False
        self.keep_alive = request.headers.get("connection", "").lower() != "close"

    async def head(
        self, status: int, headers: Mapping[str, str] | None = None, *, chunked: bool = True
    ) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        all_headers = dict(headers or {})
        if chunked:
            all_headers["Transfer-Encoding"] = "chunked"
        if not self.keep_alive:
            all_headers["Connection"] = "close"
        lines += [f"{k}: {v}" for k, v in all_headers.items()]
        self.started = True
        self.conn.watch()
        await self._write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def chunk(self, data: bytes) -> None:
        if data:
            await self._write(b"%x\r\n%b\r\n" % (len(data), data))

    async def end(self) -> None:
        await self._write(b"0\r\n\r\n")
        self.finished = True

    async def whole(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A complete response with a Content-Length."""
        all_headers = {**(headers or {}), "Content-Length": str(len(body))}
        await self.head(status, all_headers, chunked=False)
        if self.request.method != "HEAD":
            await self._write(body)
        self.finished = True

    async def raw(self, data: bytes) -> None:
        """Bytes exactly as given: no chunk framing (for close-delimited bodies)."""
        await self._write(data)

    def drop(self, *, reset: bool = False) -> None:
        """End the connection mid-body: FIN (incomplete chunked read) or RST."""
        self.keep_alive = False
        if reset:
            self.conn.writer.transport.abort()
        else:
            self.conn.writer.close()

    async def _write(self, data: bytes) -> None:
        if self.conn.gone.is_set():
            raise ClientGone
        self.conn.writer.write(data)
        try:
            await self.conn.writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self.conn.gone.set()
            raise ClientGone from exc


Handler = Callable[[Request, Responder], Awaitable[None]]


async def serve(handler: Handler, conn: Connection) -> None:
    """Answer requests on one connection until either side closes it."""
    try:
        while True:
            request = await conn.read_request()
            if request is None:
                return
            responder = Responder(conn, request)
            try:
                await handler(request, responder)
            except ClientGone:
                return
            if not responder.finished or not responder.keep_alive:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        if conn._watch is not None:
            conn._watch.cancel()
        conn.writer.close()
