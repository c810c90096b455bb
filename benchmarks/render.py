"""Render cost of the front end in headless Chromium, against baselines from the same run.

The built ``widget.js`` runs in a plain page (``render.html``, served on 127.0.0.1) with a
fake anywidget model that plays the kernel: it streams the demo provider's 10,000-token
Markdown + math reply (``demo:long``) as the delta channel would (one coalesced delta per
33 ms), then writes ``messages`` and sends ``done``. Measured:

1. a 10,000-token reply streamed at 1,000 tokens/s: scripting time (Chromium's
   ``ScriptDuration``) against a one-shot render of the same text (target <= 2x), and the
   longest main-thread task (target: none over 50 ms; from a trace, plus the page's
   ``longtask`` observer);
2. opening a 1,000-message history: time to first paint, against an empty widget
   (target < 1 s);
3. a 2,000 tokens/s stream: from the last delta to the frame showing it painted
   (target < 100 ms).

Run: ``python -m benchmarks render`` (after ``npm run build``); rows also go to
``benchmarks/results/render.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import os
import pathlib
import statistics
import sys
import threading
import typing

from tests.e2e.harness import CHROMIUM_ARGS

from nbchat.providers.base import ChatRequest, TextDelta
from nbchat.providers.demo import DemoProvider

if typing.TYPE_CHECKING:
    from playwright.sync_api import Browser, CDPSession, Page

__all__ = ["main"]

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATIC = ROOT / "src" / "nbchat" / "static"
HARNESS = pathlib.Path(__file__).with_name("render.html")
RESULTS = pathlib.Path(__file__).parent / "results" / "render.json"
CHROMIUM = "/usr/bin/chromium"
END_MARKER = " nbcEndOfStream"
TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline"]


# ---------------------------------------------------------------------------------------
# Inputs.


async def _demo_tokens(model: str, prompt: str) -> list[str]:
    request = ChatRequest(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        options={"tokens_per_second": 0},
    )
    return [e.text async for e in DemoProvider().astream(request) if isinstance(e, TextDelta)]


def long_reply_tokens() -> list[str]:
    """The demo's 10,000-token reply, its last token made unique so the page can spot it."""
    tokens = asyncio.run(_demo_tokens("long", "Write a long answer."))
    return [*tokens[:-1], END_MARKER]


def history(n: int) -> list[dict[str, object]]:
    """``n`` messages: short questions, and the demo showcase reply (Markdown, code, math)."""
    reply = "".join(asyncio.run(_demo_tokens("showcase", "Show what you can render")))
    messages: list[dict[str, object]] = []
    for i in range(n // 2):
        messages.append({"id": f"u{i}", "role": "user", "content": f"Question {i}: and then?"})
        messages.append(
            {
                "id": f"a{i}",
                "role": "assistant",
                "content": reply,
                "meta": {"model": "demo:showcase", "tokens": 400, "tokens_per_s": 40.0},
            }
        )
    return messages


# ---------------------------------------------------------------------------------------
# The page server (loopback only; stopped in ``finally``).


class _Handler(http.server.BaseHTTPRequestHandler):
    files: typing.ClassVar[dict[str, tuple[pathlib.Path, str]]] = {
        "/": (HARNESS, "text/html; charset=utf-8"),
        "/widget.js": (STATIC / "widget.js", "text/javascript; charset=utf-8"),
        "/widget.css": (STATIC / "widget.css", "text/css; charset=utf-8"),
    }

    def do_GET(self) -> None:
        entry = self.files.get(self.path)
        if entry is None:
            self.send_error(404)
            return
        body = entry[0].read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", entry[1])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


# ---------------------------------------------------------------------------------------
# Measuring.


def _script_seconds(cdp: CDPSession) -> float:
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "ScriptDuration"))


def _scripted(
    page: Page, cdp: CDPSession, expression: str, *args: object
) -> tuple[float, typing.Any]:
    """Run ``expression`` (a promise) in the page; return (scripting ms, its result)."""
    before = _script_seconds(cdp)
    result = page.evaluate(expression, list(args))
    return (_script_seconds(cdp) - before) * 1000, result


_SCRIPT_EVENTS = frozenset(
    {
        "FunctionCall",
        "FireAnimationFrame",
        "TimerFire",
        "EventDispatch",
        "EvaluateScript",
        "v8.callFunction",
        "v8.evaluateModule",
        "V8.Execute",
    }
)


def _main_thread_events(trace: bytes) -> list[dict[str, typing.Any]]:
    """Complete events on the renderer's main thread, in time order."""
    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrRendererMain"
    }
    spans = [e for e in events if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in main]
    return sorted((e for e in spans if "dur" in e), key=lambda e: (e["ts"], -e["dur"]))


def explain_longest(trace: bytes, depth: int = 4, at_least_ms: float = 0.5) -> list[str]:
    """The longest task (by CPU time) as a tree of what ran in it: ``CPU ms  name  detail``,
    nested by indentation, events under ``at_least_ms`` left out."""
    events = _main_thread_events(trace)
    tasks = [e for e in events if e["name"] in ("RunTask", "ThreadControllerImpl::RunTask")]
    if not tasks:
        return []
    task = max(tasks, key=lambda e: e.get("tdur", e["dur"]))
    end = task["ts"] + task["dur"]
    lines: list[str] = []
    stack: list[float] = []  # ends of the open events around the current one
    for e in events:
        if e["ts"] < task["ts"] or e["ts"] >= end or e is task:
            continue
        while stack and e["ts"] >= stack[-1]:
            stack.pop()
        stack.append(e["ts"] + e["dur"])
        cpu = e.get("tdur", e["dur"]) / 1000
        if len(stack) > depth or cpu < at_least_ms:
            continue
        args = e.get("args", {})
        data = args.get("data", {}) or {}
        where = data.get("functionName") or data.get("type") or ""
        if "elementCount" in args:  # UpdateLayoutTree: how many elements it restyled
            where = f"{args['elementCount']} elements"
        if "dirtyObjects" in (args.get("beginData") or {}):  # Layout: how many it laid out
            where = f"{args['beginData']['dirtyObjects']} of {args['beginData']['totalObjects']}"
        url = str(data.get("url", "")).rsplit("/", 1)[-1].split("?")[0]
        detail = f"{where} {url}:{data.get('lineNumber', '')}" if url else where
        lines.append(f"{'  ' * (len(stack) - 1)}{cpu:6.1f}  {e['name']}  {detail}".rstrip())
    head = f"longest task: {task.get('tdur', task['dur']) / 1000:.1f} ms CPU"
    return [head, *lines]


def _script_cpu_ms(trace: bytes) -> float:
    """CPU time spent running JavaScript (outermost script events only, so none twice)."""
    total = 0.0
    open_until = -1.0  # end of the outermost script event we are inside
    for e in _main_thread_events(trace):
        if e["name"] not in _SCRIPT_EVENTS or e["ts"] < open_until:
            continue
        open_until = e["ts"] + e["dur"]
        total += e.get("tdur", e["dur"]) / 1000
    return total


def _longest_tasks_ms(trace: bytes) -> tuple[float, float]:
    """Longest top-level task on the renderer's main thread: (wall time, CPU time).

    On a shared machine a task's wall time includes the time the thread waited for a CPU;
    its CPU time (the trace's ``tdur``) is what the page itself cost.
    """
    tasks = [
        e
        for e in _main_thread_events(trace)
        if e["name"] in {"RunTask", "ThreadControllerImpl::RunTask"}
    ]
    wall = max((e["dur"] / 1000 for e in tasks), default=0.0)
    cpu = max((e.get("tdur", e["dur"]) / 1000 for e in tasks), default=0.0)
    return wall, cpu


class Row(typing.NamedTuple):
    name: str
    value: str
    baseline: str
    ratio: str
    target: str
    ok: bool


def measure(
    browser: Browser, url: str, tokens: list[str], messages: list[dict[str, object]], runs: int
) -> list[Row]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_function("window.benchReady === true")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    text = "".join(tokens)

    # Warm the JIT on both paths first, so neither measurement pays for it alone.
    page.evaluate("([t]) => bench.oneShot(t)", [text[:4000]])
    page.evaluate("([t]) => bench.stream(t, 20000)", [tokens[:800]])

    # Each figure is the least of `runs` (other processes only ever add time).
    one_ms, stream_ms = float("inf"), float("inf")
    long_tasks: list[float] = []
    for _ in range(runs):
        ms, one = _scripted(page, cdp, "([t]) => bench.oneShot(t)", text)
        one_ms = min(one_ms, ms)
        ms, streamed = _scripted(page, cdp, "([t, r]) => bench.stream(t, r)", tokens, 1000)
        stream_ms = min(stream_ms, ms)
        long_tasks += streamed["longTasks"]
        assert one["shownLength"] > 0.9 * len(text), one
        assert streamed["shownLength"] == one["shownLength"], (streamed, one)
        assert streamed["atBottom"], "the list did not follow the stream to its end"

    # Both again under a trace: CPU time (what the page cost, whatever else the machine was
    # doing) and the longest task. Tracing adds overhead, so these stay apart from the above.
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    page.evaluate("([t]) => bench.oneShot(t)", [text])
    one_cpu = _script_cpu_ms(browser.stop_tracing())
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    page.evaluate("([t, r]) => bench.stream(t, r)", [tokens, 1000])
    trace = browser.stop_tracing()
    stream_cpu = _script_cpu_ms(trace)
    longest_wall, longest_cpu = _longest_tasks_ms(trace)
    print("the stream's longest task (traced run), what ran in it:")
    for line in explain_longest(trace):
        print(f"  {line}")

    empty = [page.evaluate("([m]) => bench.open(m)", [[]]) for _ in range(5)]
    full = [page.evaluate("([m]) => bench.open(m)", [messages]) for _ in range(5)]
    assert all(r["atBottom"] for r in full), "a long history did not open at its end"
    empty_ms = statistics.median(r["ms"] for r in empty)
    full_ms = statistics.median(r["ms"] for r in full)

    fast = [page.evaluate("([t, r]) => bench.stream(t, r)", [tokens, 2000]) for _ in range(runs)]
    assert all(r["atBottom"] for r in fast), "the list did not follow the stream to its end"
    lags = [r["lastTokenMs"] if r["lastTokenMs"] is not None else float("inf") for r in fast]
    page.close()

    return [
        Row(
            "stream 10k tokens @1k tok/s: scripting CPU",
            f"{stream_cpu:.0f} ms",
            f"{one_cpu:.0f} ms one-shot",
            f"{stream_cpu / one_cpu:.2f}x",
            "<= 2x",
            stream_cpu <= 2 * one_cpu,
        ),
        Row(
            "  scripting wall (ScriptDuration)",
            f"{stream_ms:.0f} ms",
            f"{one_ms:.0f} ms one-shot",
            f"{stream_ms / one_ms:.2f}x",
            "<= 2x",
            stream_ms <= 2 * one_ms,
        ),
        Row(
            "  longest main-thread task: CPU time",
            f"{longest_cpu:.1f} ms",
            "",
            "",
            "none > 50 ms",
            longest_cpu <= 50,
        ),
        Row(
            "  longest main-thread task: wall time",
            f"{longest_wall:.1f} ms",
            f"{len(long_tasks)} long tasks in {runs} runs",
            "",
            "none > 50 ms",
            longest_wall <= 50 and not long_tasks,
        ),
        Row(
            f"open {len(messages)}-message history",
            f"{full_ms:.0f} ms",
            f"{empty_ms:.0f} ms empty",
            f"{full_ms / empty_ms:.1f}x",
            "< 1000 ms",
            full_ms < 1000,
        ),
        Row(
            "  replies in the DOM at open",
            f"{full[0]['replies']}",
            "",
            "",
            "",
            True,
        ),
        Row(
            "stream @2k tok/s: last token on screen",
            f"{max(lags):.0f} ms (worst of {runs})",
            f"median {statistics.median(lags):.0f} ms",
            "",
            "< 100 ms",
            max(lags) < 100,
        ),
    ]


def print_table(rows: list[Row]) -> None:
    header = Row("measure", "value", "baseline (same run)", "ratio", "target", True)
    widths = [max(len(getattr(r, f)) for r in [header, *rows]) for f in Row._fields[:5]]
    for row in [header, *rows]:
        cells = [getattr(row, f).ljust(w) for f, w in zip(Row._fields[:5], widths, strict=True)]
        mark = "" if row is header or not row.target else (" ok" if row.ok else " MISSED")
        print("  ".join(cells) + mark)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__)
    parser.add_argument("--history", type=int, default=1000, help="messages in the history")
    parser.add_argument("--runs", type=int, default=3, help="repetitions (the least counts)")
    parser.add_argument("--quick", action="store_true", help="one run of each")
    # `python -m benchmarks -- OPTIONS` hands the same options to every benchmark.
    args, _ = parser.parse_known_args(argv)
    runs = 1 if args.quick else args.runs

    if not (STATIC / "widget.js").is_file() or (STATIC / "widget.js").stat().st_size < 1000:
        print("render: build the front end first (npm run build)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    tokens = long_reply_tokens()
    messages = history(args.history)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                url = f"http://127.0.0.1:{server.server_address[1]}/"
                load = os.getloadavg()[0]
                rows = measure(browser, url, tokens, messages, runs)
                load = max(load, os.getloadavg()[0])
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    print(
        f"render: {len(tokens)} tokens ({len(''.join(tokens))} chars), headless Chromium, "
        f"{os.cpu_count()} CPUs, load average up to {load:.1f} during the run"
    )
    print_table(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([r._asdict() for r in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
