"""Decode throughput and added time-to-first-token, nbchat against the official clients.

One loopback stream of 100,000 chunks (NDJSON lines from an Ollama emulator, SSE events
from an OpenAI emulator) is read to the end by nbchat, ollama-python and openai-python
in the same run; figures are chunks/s and ratios against those clients. The emulator
runs in its own process so the server does not share the client's interpreter.

Two framings of the same stream:

- ``per-token``: one HTTP chunk per line/event, as Ollama and uvicorn write them; h11
  parses every chunk, whatever client reads it.
- ``coalesced``: 256 lines/events per HTTP chunk, which isolates the decoders.

Time to first token: a 3-token reply, nbchat's first ``TextDelta`` against a bare httpx
streamed POST's first body byte (fresh client each time, as nbchat makes one per reply).

Run: ``python -m benchmarks decode`` (``--quick`` for 20,000 chunks, one round).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import statistics
import sys
import time
import typing
from collections.abc import Awaitable, Callable

import httpx
import ollama
import openai
from httpx_sse import EventSource
from tests.servers import EmulatorProcess

from nbchat.providers.base import ChatRequest, TextDelta
from nbchat.providers.ollama import OllamaProvider
from nbchat.providers.openai import OpenAIProvider

__all__ = ["main"]

RESULTS = pathlib.Path(__file__).parent / "results" / "decode.json"
MESSAGES = [{"role": "user", "content": "Stream, please."}]
FRAMINGS = {"per-token": "bulk", "coalesced": "batch=256"}

Runner = Callable[[str, str], Awaitable[int]]


# -- the clients: each reads the whole stream and builds the text, returns its length ---------


async def nbchat_ollama(base: str, model: str) -> int:
    parts = []
    provider = OllamaProvider(base_url=base)
    async for event in provider.astream(ChatRequest(model=model, messages=MESSAGES)):  # type: ignore[arg-type]
        if type(event) is TextDelta:
            parts.append(event.text)
    return len("".join(parts))


async def ollama_python(base: str, model: str) -> int:
    client = ollama.AsyncClient(host=base)
    parts = []
    async for part in await client.chat(model=model, messages=MESSAGES, stream=True):
        parts.append(part.message.content or "")
    await client._client.aclose()
    return len("".join(parts))


async def nbchat_openai(base: str, model: str) -> int:
    parts = []
    provider = OpenAIProvider(base_url=base)
    async for event in provider.astream(ChatRequest(model=model, messages=MESSAGES)):  # type: ignore[arg-type]
        if type(event) is TextDelta:
            parts.append(event.text)
    return len("".join(parts))


async def openai_python(base: str, model: str) -> int:
    client = openai.AsyncOpenAI(base_url=base, api_key="unused", max_retries=0)
    parts = []
    stream = await client.chat.completions.create(  # type: ignore[call-overload]
        model=model, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    async for chunk in stream:
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
    await client.close()
    return len("".join(parts))


async def httpx_sse_only(base: str, model: str) -> int:
    """httpx-sse framing alone (no JSON): the floor under any SSE decoder built on it."""
    body = {"model": model, "messages": MESSAGES, "stream": True}
    events = 0
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("POST", f"{base}/chat/completions", json=body) as response,
    ):
        async for _ in EventSource(response).aiter_sse():
            events += 1
    return events


# -- measuring ------------------------------------------------------------------------------


async def throughput(run: Runner, base: str, model: str, rounds: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``rounds`` whole streams, after one warm-up.

    CPU time is this process's alone (the server is another process), so it measures the
    client's decoding and stays meaningful on a machine shared with other work.
    """
    await run(base, model)  # warm-up: the server builds and caches the long reply
    wall = cpu = float("inf")
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        await run(base, model)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


async def first_token_nbchat(base: str) -> float:
    provider = OllamaProvider(base_url=base)
    start = time.perf_counter()
    stream = provider.astream(ChatRequest(model="ttft", messages=MESSAGES))  # type: ignore[arg-type]
    async for event in stream:
        if type(event) is TextDelta:
            elapsed = time.perf_counter() - start
            await stream.aclose()  # type: ignore[attr-defined]
            return elapsed
    raise RuntimeError("no text")


async def first_token_httpx(base: str) -> float:
    # The client is made before the clock starts (its TLS setup is not the request's), and
    # used once: a new connection, as nbchat makes for each reply.
    body = {"model": "ttft", "messages": MESSAGES, "stream": True}
    async with httpx.AsyncClient(timeout=None) as client:
        start = time.perf_counter()
        async with client.stream("POST", f"{base}/api/chat", json=body) as response:
            async for chunk in response.aiter_raw():
                if chunk:
                    return time.perf_counter() - start
    raise RuntimeError("no body")


async def measure(chunks: int, rounds: int, ttft_rounds: int) -> dict[str, object]:
    results: dict[str, object] = {"chunks": chunks, "python": sys.version.split()[0]}
    with EmulatorProcess("ollama") as ollama_srv, EmulatorProcess("openai") as openai_srv:
        for framing, knob in FRAMINGS.items():
            model = f"bench@text=%20tok,repeat={chunks},{knob}"
            rows = {
                "nbchat (ollama)": await throughput(
                    nbchat_ollama, ollama_srv.base_url, model, rounds
                ),
                "ollama-python": await throughput(
                    ollama_python, ollama_srv.base_url, model, rounds
                ),
                "nbchat (openai)": await throughput(
                    nbchat_openai, openai_srv.base_url, model, rounds
                ),
                "openai-python": await throughput(
                    openai_python, openai_srv.base_url, model, rounds
                ),
                "httpx-sse alone": await throughput(
                    httpx_sse_only, openai_srv.base_url, model, rounds
                ),
            }
            results[framing] = {
                name: {"wall": chunks / wall, "cpu": chunks / cpu}
                for name, (wall, cpu) in rows.items()
            }
        ours, bare = [], []
        for _ in range(ttft_rounds):  # interleaved, so drift hits both alike
            bare.append(await first_token_httpx(ollama_srv.base_url))
            ours.append(await first_token_nbchat(ollama_srv.base_url))
        results["ttft_ms"] = {
            "bare httpx": statistics.median(bare) * 1000,
            "nbchat": statistics.median(ours) * 1000,
        }
    return results


def report(results: dict[str, typing.Any]) -> str:
    lines = [f"decode: one stream of {results['chunks']:,} chunks, Python {results['python']}"]
    for framing in FRAMINGS:
        rates = results[framing]
        lines.append(f"\n  {framing} framing        chunks/s (wall)   chunks per CPU-second")
        for name, rate in rates.items():
            lines.append(f"    {name:<22} {rate['wall']:>12,.0f}   {rate['cpu']:>12,.0f}")
        for clock in ("wall", "cpu"):
            vs_ollama = rates["nbchat (ollama)"][clock] / rates["ollama-python"][clock]
            vs_openai = rates["nbchat (openai)"][clock] / rates["openai-python"][clock]
            lines.append(
                f"    {clock:>4}: nbchat/ollama-python {vs_ollama:.2f}x, "
                f"nbchat/openai-python {vs_openai:.1f}x"
            )
    ttft = results["ttft_ms"]
    added = ttft["nbchat"] - ttft["bare httpx"]
    lines.append(
        f"\n  time to first token (median): bare httpx {ttft['bare httpx']:.2f} ms, "
        f"nbchat {ttft['nbchat']:.2f} ms, added {added:+.2f} ms"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks decode")
    parser.add_argument("--quick", action="store_true", help="20,000 chunks, one round")
    args = parser.parse_args(argv)
    chunks, rounds, ttft_rounds = (20_000, 1, 20) if args.quick else (100_000, 3, 60)
    results = asyncio.run(measure(chunks, rounds, ttft_rounds))
    print(report(results))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
