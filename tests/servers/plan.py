"""A response as data: status, headers and the body's frames, played by the server.

Flavours turn a request into a :class:`Plan`; :func:`play` writes it, applying the
behaviour that is the same for every protocol (pacing, stalls, drops, chunk splitting).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import typing

from .script import Behaviour
from .wire import Connection, Responder

__all__ = ["Frame", "Plan", "dumps", "play", "whole"]


@dataclasses.dataclass(frozen=True)
class Frame:
    data: bytes
    token: bool = False  # a text or reasoning piece: what *_after counts


@dataclasses.dataclass
class Plan:
    status: int
    headers: dict[str, str]
    frames: list[Frame] = dataclasses.field(default_factory=list)
    body: bytes | None = None  # a whole (Content-Length) body instead of frames
    lazy_head: bool = False  # Ollama writes its status line only with the first frame
    end: bool = True  # send the terminating chunk
    # False: an answer a gateway gives itself (LiteLLM's /models, its auth refusals), which
    # carries none of the headers it adds to routed chat answers.
    server_headers: bool = True


def whole(status: int, body: bytes | str | typing.Any, media: str | None = None) -> Plan:
    """A complete response: bytes, text, or a JSON-able value."""
    if isinstance(body, str):
        data, media = body.encode(), media or "text/plain; charset=utf-8"
    elif isinstance(body, bytes):
        data = body
    else:
        data, media = json.dumps(body, separators=(",", ":")).encode(), media or "application/json"
    headers = {"Content-Type": media} if media else {}
    return Plan(status, headers, body=data)


def dumps(obj: typing.Any, *, style: str = "compact", ascii: bool = False) -> str:
    """JSON the way different servers write it."""
    if style == "spaced":  # Python's json.dumps defaults (FastAPI/sse-starlette servers)
        return json.dumps(obj, ensure_ascii=ascii)
    if style == "sorted":  # nlohmann::json in llama.cpp: keys in alphabetical order
        return json.dumps(obj, ensure_ascii=ascii, separators=(",", ":"), sort_keys=True)
    return json.dumps(obj, ensure_ascii=ascii, separators=(",", ":"))


async def play(plan: Plan, responder: Responder, behaviour: Behaviour, conn: Connection) -> None:
    b = behaviour
    if plan.body is not None:
        await responder.whole(plan.status, plan.body, plan.headers)
        return
    if not plan.lazy_head:
        await responder.head(plan.status, plan.headers)
    if b.first_delay and await conn.wait_gone(b.first_delay):
        return
    if plan.lazy_head:
        await responder.head(plan.status, plan.headers)
    if b.bulk:  # as fast as the socket takes it: pre-framed chunks in big writes
        framed = b"".join(b"%x\r\n%b\r\n" % (len(f.data), f.data) for f in plan.frames)
        framed += b"0\r\n\r\n"
        for start in range(0, len(framed), 65536):
            await responder.raw(framed[start : start + 65536])
        responder.finished = True
        return
    pending: list[bytes] = []

    async def flush() -> None:
        if pending:
            data = b"".join(pending)
            pending.clear()
            await _send(responder, data, b)

    sent = 0
    for frame in plan.frames:
        if frame.token:
            if b.drop_after is not None and sent == b.drop_after:
                await flush()
                responder.drop(reset=b.reset)
                return
            if b.stall_after is not None and sent == b.stall_after:
                await flush()
                if await conn.wait_gone(b.stall):
                    return
            if b.tps and sent:
                await flush()
                if await conn.wait_gone(1.0 / b.tps):
                    return
            sent += 1
        pending.append(frame.data)
        if len(pending) >= b.batch:
            await flush()
    await flush()
    if b.hang:
        await conn.wait_gone(None)
    elif plan.end:
        await responder.end()
    else:
        responder.drop()


async def _send(responder: Responder, data: bytes, b: Behaviour) -> None:
    if b.bytewise:
        for i in range(len(data)):
            await responder.chunk(data[i : i + 1])
            await asyncio.sleep(0)  # let each byte leave as its own write
    elif b.split is not None and 0 < b.split < len(data):
        await responder.chunk(data[: b.split])
        await asyncio.sleep(0)
        await responder.chunk(data[b.split :])
    else:
        await responder.chunk(data)
