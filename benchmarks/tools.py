"""The tool loop's own overhead per round trip, timed on the wire.

A real HTTP server on 127.0.0.1 (the emulator in ``tests/servers``, Ollama NDJSON and
OpenAI SSE) stamps, with ``time.perf_counter()``, when it has written the last byte of an
answer (``answered_at``) and when a request has arrived whole (``received_at``). One
conversation, with one trivial synchronous tool approved by ``approve="always"``, runs
rounds of two turns:

1. a turn whose first answer is a tool call and whose second is text: the **tool round
   trip** is the call's last byte → the follow-up request (with the tool's result) in;
2. a plain turn, answered in text: the **baseline** is turn 1's last byte → this turn's
   request in — what nbchat costs from one reply's end to the next request anyway (the
   turn ends, the caller asks again, the history is rebuilt and a new connection opened).

Both gaps are measured on the same server, in the same conversation (same history size,
same tools in every request), round by round, so load on the machine hits both alike. The
tool's own runtime (timed inside it) is reported apart and subtracted: the
issue's target (< 5 ms) is the loop's overhead without it (approval is automatic here).

The server runs in a thread of this process (it must be scripted with tool calls, which
the separate-process emulator cannot be), so both figures include its sharing of the GIL.

Run: ``python -m benchmarks tools`` (``-- --turns 30``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import pathlib
import ssl
import statistics
import sys
import time
import typing

import httpx
from tests.servers import EmulatorServer, RecordedRequest, Reply, ToolCallSpec

import nbchat

__all__ = ["Run", "main", "measure"]

RESULTS = pathlib.Path(__file__).parent / "results" / "tools.json"
PROTOCOLS = {"ollama": "Ollama NDJSON", "openai": "OpenAI SSE"}
WARM_UP = 2  # rounds left out of the figures (imports, first connections, caches)


#: (entered, returned) perf_counter() of each lookup() call: the tool's own runtime,
#: finer than the result's ``elapsed_s`` (rounded to the millisecond).
RAN: list[tuple[float, float]] = []


def lookup(key: str) -> str:
    """Look a key up (the benchmark's trivial tool).

    Args:
        key: The key.
    """
    entered = time.perf_counter()
    value = f"value of {key}"
    RAN.append((entered, time.perf_counter()))
    return value


@dataclasses.dataclass
class Run:
    """One protocol's figures (milliseconds per round) and what the server received."""

    protocol: str
    tool_gap_ms: list[float]  # the call's last byte → the follow-up request in
    tool_runtime_ms: list[float]  # the tool's own elapsed time, inside the gap
    baseline_ms: list[float]  # a plain reply's last byte → the next turn's request in
    floor_ms: list[float]  # bare httpx: a stream read to its end → the next POST in
    bodies: list[typing.Any]  # every chat request's JSON body, in order (warm-up included)

    @property
    def overhead_ms(self) -> list[float]:
        return [g - t for g, t in zip(self.tool_gap_ms, self.tool_runtime_ms, strict=True)]


def _model(flavour: str) -> str:
    return "ollama:qwen3" if flavour == "ollama" else "openai:qwen3"


def measure(flavour: str, turns: int, warm_up: int = WARM_UP) -> Run:
    """``turns`` measured rounds (after ``warm_up`` more) against a ``flavour`` emulator."""
    rounds = warm_up + turns
    RAN.clear()
    with EmulatorServer(flavour) as server:
        for i in range(rounds):
            call = ToolCallSpec("lookup", {"key": f"k{i}"}, id=f"call_{i:04d}")
            server.enqueue(
                Reply(text="", tool_calls=[call]),
                Reply(text=f"Found k{i}."),
                Reply(text="Plain answer."),
            )
        chat = nbchat.Conversation(
            _model(flavour), base_url=server.base_url, tools=[lookup], approve="always"
        )
        for i in range(rounds):
            chat.prompt(f"Look up k{i}.").result()
            chat.prompt("And without tools?").result()
        requests = settled(server)
        if len(requests) != 3 * rounds:
            raise RuntimeError(f"expected {3 * rounds} chat requests, got {len(requests)}")
        runtimes = [(returned - entered) * 1000 for entered, returned in RAN]
    tool_gap, baseline = [], []
    for i in range(warm_up, rounds):
        called, followed, plain = requests[3 * i : 3 * i + 3]
        tool_gap.append(gap_ms(called, followed))
        baseline.append(gap_ms(followed, plain))
    bodies = [r.json() for r in requests]
    follow_ups = bodies[1::3]
    return Run(
        protocol=flavour,
        tool_gap_ms=tool_gap,
        tool_runtime_ms=runtimes[warm_up:],
        baseline_ms=baseline,
        floor_ms=asyncio.run(floor(flavour, follow_ups))[warm_up - 1 :],
        bodies=bodies,
    )


async def floor(flavour: str, bodies: list[typing.Any]) -> list[float]:
    """The wire's floor: a bare httpx client reads each answer to its end and at once POSTs
    the next body (nbchat's own follow-ups, so the same bytes) on a new client, as nbchat
    makes one per request — with one TLS context for all, as nbchat shares one (a context
    per client costs ~17 ms, which would swamp the rest). ``len(bodies) - 1`` gaps."""
    context = ssl.create_default_context()
    with EmulatorServer(flavour) as server:
        path = "/api/chat" if flavour == "ollama" else "/chat/completions"
        url = server.base_url + path
        for body in bodies:
            async with (
                httpx.AsyncClient(timeout=None, verify=context) as client,
                client.stream("POST", url, json=body) as response,
            ):
                async for _ in response.aiter_raw():
                    pass
        requests = settled(server)
    return [gap_ms(before, after) for before, after in itertools.pairwise(requests)]


def settled(server: EmulatorServer) -> list[RecordedRequest]:
    """The chat requests, once the server has stamped the end of every answer."""
    if not server.wait_for(lambda: all(r.done.is_set() for r in server.requests)):
        raise RuntimeError("the emulator did not finish its answers")
    return server.chat_requests


def gap_ms(before: RecordedRequest, after: RecordedRequest) -> float:
    """``before``'s last byte out → ``after`` in whole, in milliseconds."""
    if before.answered_at is None:
        raise RuntimeError(f"no end time for {before.path}")
    return (after.received_at - before.answered_at) * 1000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(run: Run) -> dict[str, dict[str, float]]:
    rows = {
        "tool round trip": run.tool_gap_ms,
        "tool runtime": run.tool_runtime_ms,
        "loop overhead": run.overhead_ms,
        "baseline turn-to-turn": run.baseline_ms,
        "bare httpx floor": run.floor_ms,
    }
    return {
        name: {"median": statistics.median(v), "p95": p95(v), "min": min(v), "max": max(v)}
        for name, v in rows.items()
    }


def report(results: dict[str, typing.Any]) -> str:
    lines = [f"tools: {results['turns']} rounds per protocol, Python {results['python']}"]
    for flavour, label in PROTOCOLS.items():
        rows = results[flavour]
        lines.append(f"\n  {label:<24} median ms    p95 ms    min ms    max ms")
        for name, row in rows.items():
            lines.append(
                f"    {name:<22} {row['median']:>9.3f} {row['p95']:>9.3f} "
                f"{row['min']:>9.3f} {row['max']:>9.3f}"
            )
        trip = rows["tool round trip"]["median"]
        ratio = trip / rows["baseline turn-to-turn"]["median"]
        over_floor = trip / rows["bare httpx floor"]["median"]
        target = "✓" if rows["loop overhead"]["median"] < 5 else "✗"
        lines.append(
            f"    round trip / baseline (median) {ratio:.2f}x, / bare httpx {over_floor:.2f}x;"
            f" loop overhead < 5 ms {target}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks tools")
    parser.add_argument("--turns", type=int, default=30, help="measured rounds per protocol")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS, help="raw figures (JSON)")
    args = parser.parse_args(argv)
    results: dict[str, typing.Any] = {"turns": args.turns, "python": sys.version.split()[0]}
    for flavour in PROTOCOLS:
        results[flavour] = summary(measure(flavour, args.turns))
    print(report(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
