"""long — the cost of one more turn in a long conversation, in a real JupyterLab in Chromium.

Procedure (issue 14): a fresh page and kernel per depth N; a throwaway chat draws two replies
(so the baseline is a fresh chat in a warm page); ``chat = nbchat.Chat("demo:math",
tokens_per_second=0)`` holding N turns — loaded from a conversation saved with
``Conversation.save``, not generated — is shown; ``chat.ask(...)`` runs three times, a cell
each; then ``chat`` is shown again (a second view: what opening a saved notebook costs).

Per measured turn, from running its cell until its reply's last words are in the chat and the
page is quiet (main thread busy < 5 % over 0.5 s): main-thread **busy** time, wall (delta of
``TaskDuration``) and CPU (``tdur`` of the outermost tasks of a ``toplevel`` trace: holds up
on a loaded machine); **long tasks** (the page's ``longtask`` observer; the longest also in
CPU time); **bytes received** on the kernel websocket (CDP frames, JupyterLab's binary v1
protocol decoded): the widget's ``comm_msg`` frames, their payload counted as
``benchmarks/comm.py`` counts it, the static transcript's display messages, all frames;
**DOM elements** of the page and of the chat views (``.nbc-root``).

``--code NAME=SRC[:MAX]`` (repeatable) measures other checkouts' ``src`` (first on the
kernel's ``sys.path``), interleaved depth by depth: a before and an after share one run.
``--disable NAME=PLUGIN`` loads that code's pages with one of this checkout's JupyterLab
plugins disabled (``jupyter-nbchat:toc``: the page as it was before that plugin), so a
front-end fix outside the widget gets its before and after in one run too. Ratios are
against N = 0 of the same code in the same run. ``--profile`` also records every
measured turn with Chromium's sampling profiler (``results/long-NAME-N-K.cpuprofile``, and
the functions with the most CPU time, printed): for attribution only, the profiler's
overhead inflates that run's figures. ``--explain`` traces more (script calls, style, layout,
paint, GC) and prints each turn's longest task as a tree of what ran in it (attribution
only too). ``python -m benchmarks long``
(after ``npm run build``), ``-- --depths 0,100``; raw figures: ``results/long.json``.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import json
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import time
import typing

from tests.e2e.harness import BUNDLE, CHROMIUM, CHROMIUM_ARGS, Jupyter, JupyterServer

from benchmarks.comm import SLACK_BYTES, wire_size
from benchmarks.render import _main_thread_events, explain_longest

if typing.TYPE_CHECKING:
    from playwright.sync_api import Browser, CDPSession

__all__ = ["main"]

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = pathlib.Path(__file__).parent / "results" / "long.json"
MODEL = "demo:math"
DEPTHS = (0, 10, 40, 100, 1000)
RUNS = 3
SEED_PROMPT = "Turn {i}: what is the Gaussian integral?"
PROMPT = "Measured turn {k} after {n}: what is the Gaussian integral?"
WARM_PROMPT = "Warm-up {i}: what is the Gaussian integral?"
DONE = "nbc-bench-done"  # printed last by every cell: the cell ran to its end
QUIET_SHARE, QUIET_WINDOW, POLL = 0.05, 0.5, 0.1  # share of busy time, seconds, seconds
PROFILE_INTERVAL_US = 250
#: anywidget's page error when a model's ESM does not load and initialize within 2 s.
ANYWIDGET_TIMEOUT = "[anywidget] Failed to initialize model."

# In every page before JupyterLab's scripts: a long-task recorder, and the conditions the
# benchmark waits on (no layout, no walk of the whole DOM per look).
PAGE_SCRIPT = r"""
(() => {
  const longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  const roots = () => document.querySelectorAll(".jp-OutputArea-output .nbc-root");
  // The reply headed `title` is complete in view `i` when the smallest element holding its
  // heading and its last words `end` holds no other h1: the reply's own body.
  const shown = (i, title, end) => {
    const root = roots()[i];
    const heads = root ? [...root.querySelectorAll("h1")] : [];
    const head = heads.filter((h) => h.textContent.trim() === title).pop();
    for (let el = head && head.parentElement; el && el !== root; el = el.parentElement) {
      if ((el.textContent || "").includes(end)) return el.querySelectorAll("h1").length === 1;
    }
    return false;
  };
  window.__bench = {
    shown,
    now: () => performance.now(),
    longTasksSince: (t0) => longTasks.filter(([s]) => s >= t0).map(([, d]) => d),
    dom: () => ({
      page: document.getElementsByTagName("*").length,
      chat: [...roots()].reduce((n, r) => n + r.getElementsByTagName("*").length + 1, 0),
    }),
    // Resolves after the paint of the first frame where view `i` shows the reply.
    watchOpen: (i, title, end) => new Promise((resolve) => {
      const t0 = performance.now();
      const tick = () => shown(i, title, end)
        ? requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0)))
        : requestAnimationFrame(tick);
      tick();
    }),
  };
})();
"""


class Reply(typing.NamedTuple):
    title: str  # the reply's h1, as the page shows it
    end: str  # its last words, plain text


def reply(prompt: str) -> Reply:
    """Heading and last words of the demo's (deterministic) reply to ``prompt``."""
    import nbchat

    text = nbchat.Conversation(MODEL, tokens_per_second=0).prompt(prompt).result()
    first = text.lstrip().splitlines()[0]
    assert first.startswith("# "), f"{MODEL} replies no longer start with a heading: {first!r}"
    return Reply(first[2:].strip(), " ".join(text.split()[-3:]))


def write_seed(path: pathlib.Path, turns: int) -> None:
    import nbchat

    conversation = nbchat.Conversation(MODEL, tokens_per_second=0)
    for i in range(turns):
        conversation.prompt(SEED_PROMPT.format(i=i)).result()
    conversation.save(str(path))


def cells(src: str, n: int, seed: str | None) -> list[str]:
    """Warm-up; the chat made (its model initialized before it is shown: a loaded long
    conversation can keep the page busy past anywidget's 2 s limit otherwise); shown; the
    measured turns; a second view."""
    done = f"print({DONE!r})"
    make = (
        f"nbchat.Chat(conversation=nbchat.Conversation.load({seed!r}, tokens_per_second=0))"
        if seed
        else f"nbchat.Chat({MODEL!r}, tokens_per_second=0)"
    )
    measured = [
        f"_ = chat.ask({PROMPT.format(k=k, n=n)!r})\n"
        "print('turn-json', len(json.dumps(chat.messages[-2:], ensure_ascii=False).encode()))\n"
        + done
        for k in range(1, RUNS + 1)
    ]
    return [
        f"import json, sys\nsys.path.insert(0, {src!r})\nimport nbchat\n"
        f"assert nbchat.__file__.startswith({src!r}), nbchat.__file__\n"
        f"_warm = nbchat.Chat({MODEL!r}, tokens_per_second=0)\ndisplay(_warm)\n"
        f"for _i in range(2):\n    _ = _warm.ask({WARM_PROMPT!r}.format(i=_i))\n{done}",
        f"_warm.close()\nchat = {make}\nassert len(chat.messages) == {2 * n}\n{done}",
        f"display(chat)\n{done}",
        *measured,
        f"display(chat)\n{done}",
    ]


# ---------------------------------------------------------------------------------------
# Bytes received: websocket frames, decoded.


def decode(payload: bytes | str) -> tuple[str, dict[str, typing.Any]]:
    """(msg_type, content) of a kernel websocket message: JSON, or ``v1.kernel.websocket.
    jupyter.org`` (n offsets; channel, header, parent header, metadata, content, buffers)."""
    if isinstance(payload, str):
        msg = json.loads(payload)
        return msg["header"]["msg_type"], msg.get("content", {})
    count = int.from_bytes(payload[:8], "little")
    at = [int.from_bytes(payload[8 * i : 8 * i + 8], "little") for i in range(1, count + 1)]
    header, content = (json.loads(payload[at[i] : at[i + 1]]) for i in (1, 4))
    return header["msg_type"], content


class Frames:
    """Kernel websocket frames the page receives (or, with ``sent=True``, sends): (CDP
    timestamp, bytes, msg_type, content). Frames that do not decode are left out."""

    def __init__(self, cdp: CDPSession, *, sent: bool = False) -> None:
        self.frames: list[tuple[float, int, str, dict[str, typing.Any]]] = []
        self.channels: set[str] = set()
        cdp.on("Network.webSocketCreated", self._created)
        direction = "Sent" if sent else "Received"
        cdp.on(f"Network.webSocketFrame{direction}", self._frame)

    def _created(self, params: dict[str, typing.Any]) -> None:
        if "/channels" in params.get("url", ""):
            self.channels.add(params["requestId"])

    def _frame(self, params: dict[str, typing.Any]) -> None:
        if params["requestId"] not in self.channels:
            return
        response = params["response"]
        data = response.get("payloadData", "")
        payload: bytes | str = base64.b64decode(data) if response.get("opcode") == 2 else data
        size = len(payload) if isinstance(payload, bytes) else len(payload.encode())
        with contextlib.suppress(ValueError, KeyError, IndexError):
            self.frames.append((params["timestamp"], size, *decode(payload)))

    def between(self, start: float, end: float) -> dict[str, int]:
        out = dict.fromkeys(("widget", "widget_messages", "widget_payload", "static", "total"), 0)
        for ts, size, msg_type, content in self.frames:
            if not start <= ts <= end:
                continue
            out["total"] += size
            if msg_type == "comm_msg":
                data = content.get("data", {})
                out["widget"] += size
                out["widget_messages"] += 1
                out["widget_payload"] += wire_size(data.get("state", data.get("content")))
            elif msg_type in ("display_data", "update_display_data"):
                out["static"] += size
        return out


def cpu_busy(trace: bytes) -> tuple[float, float]:
    """Main-thread CPU time of the trace's outermost tasks, and of the longest (ms)."""
    ends, total, longest = -1.0, 0.0, 0.0
    for e in _main_thread_events(trace):
        if e["name"] in ("RunTask", "ThreadControllerImpl::RunTask") and e["ts"] >= ends:
            ends = e["ts"] + e["dur"]
            cpu = e.get("tdur", e["dur"]) / 1000
            total, longest = total + cpu, max(longest, cpu)
    return total, longest


#: What ``--explain`` traces besides ``toplevel``: script calls, style, layout, paint, GC.
EXPLAIN_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8"]


def hot_functions(profile: dict[str, typing.Any], top: int = 25) -> list[str]:
    """The functions a CPU profile spent most time in, self and total (a sample counts
    once per function on its stack): ``total ms  self ms  name  script:line``."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", ())}

    def key(node: dict[str, typing.Any]) -> str:
        frame = node["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1].split("?")[0] or "-"
        return f"{frame['functionName'] or '(anonymous)'}  {where}:{frame['lineNumber'] + 1}"

    idle = {"(idle)", "(program)", "(root)", "(garbage collector)"}
    total: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for sample, delta in zip(profile["samples"], profile["timeDeltas"], strict=False):
        node = nodes[sample]
        if node["callFrame"]["functionName"] in idle:
            own[node["callFrame"]["functionName"]] += delta
            continue
        own[key(node)] += delta
        seen: set[str] = set()
        at: int | None = sample
        while at is not None:
            name = key(nodes[at])
            if name not in seen and nodes[at]["callFrame"]["functionName"] != "(root)":
                seen.add(name)
                total[name] += delta
            at = parent.get(at)
    busy = sum(v for k, v in own.items() if k not in idle) / 1000
    out = [f"script {busy:.0f} ms, GC {own['(garbage collector)'] / 1000:.0f} ms; top by total:"]
    out += [f"{v / 1000:8.1f} {own[k] / 1000:8.1f}  {k}" for k, v in total.most_common(top)]
    return out


# ---------------------------------------------------------------------------------------
# One depth, one page.


class Bench:
    def __init__(self, jupyter: Jupyter, cdp: CDPSession, timeout: float) -> None:
        self.jupyter, self.page, self.cdp, self.timeout = jupyter, jupyter.page, cdp, timeout
        self.frames = Frames(cdp)
        #: Where the next measure() writes a CPU profile of what it measures (then None).
        self.profile_to: pathlib.Path | None = None
        #: Trace more than ``toplevel`` and print what the longest task ran.
        self.explain = False

    def wait_for(self, expression: str, arg: object = None) -> None:
        self.page.wait_for_function(expression, arg=arg, polling=100, timeout=self.timeout * 1e3)

    def run(self, index: int, start: bool = True) -> str:
        """Run cell ``index`` to its end (its DONE line, or an error); its printed text."""
        if start:
            self.jupyter.run_cell(index)
        # Only the cell's stdout/stderr: the chat's own text can be a megabyte of DOM.
        printed = """(i) => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i]
            .querySelectorAll('[data-mime-type^="application/vnd.jupyter.std"]')]
            .map((o) => o.textContent).join('')"""
        self.wait_for(
            f"([i, done]) => {{ const text = ({printed})(i);"
            " return text.includes(done) || text.includes('Traceback'); }",
            [index, DONE],
        )
        text = typing.cast(str, self.page.evaluate(printed, index))
        if DONE not in text:
            raise RuntimeError(f"cell {index} failed: {text[-2000:]}")
        return text

    def shown(self, reply: Reply, view: int = 0) -> None:
        self.wait_for("([i, t, e]) => window.__bench.shown(i, t, e)", [view, *reply])

    def metrics(self) -> dict[str, float]:
        raw = self.cdp.send("Performance.getMetrics")["metrics"]
        return {m["name"]: float(m["value"]) for m in raw}

    def quiet(self) -> None:
        """Until the main thread was busy < QUIET_SHARE of the last QUIET_WINDOW seconds."""
        seen: collections.deque[tuple[float, float]] = collections.deque()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            m = self.metrics()
            seen.append((m["Timestamp"], m["TaskDuration"]))
            while len(seen) > 2 and seen[-1][0] - seen[1][0] >= QUIET_WINDOW:
                seen.popleft()
            span = seen[-1][0] - seen[0][0]
            if span >= QUIET_WINDOW and seen[-1][1] - seen[0][1] < QUIET_SHARE * span:
                return
            time.sleep(POLL)  # the interval between two samples, not a wait for an event
        raise TimeoutError("the page did not go quiet")

    def measure(self, action: typing.Callable[[], object]) -> dict[str, typing.Any]:
        """Costs of ``action`` (which waits for its own end) until the page is quiet."""
        browser = self.page.context.browser
        assert browser is not None
        before = self.metrics()
        t0 = self.page.evaluate("() => window.__bench.now()")
        profile_to, self.profile_to = self.profile_to, None
        if profile_to is not None:
            self.cdp.send("Profiler.enable")
            self.cdp.send("Profiler.setSamplingInterval", {"interval": PROFILE_INTERVAL_US})
            self.cdp.send("Profiler.start")
        categories = ["toplevel", *(EXPLAIN_CATEGORIES if self.explain else ())]
        browser.start_tracing(page=self.page, categories=categories)
        try:
            value = action()
            self.quiet()
        finally:
            trace = browser.stop_tracing()
            if profile_to is not None:
                profile = self.cdp.send("Profiler.stop")["profile"]
                self.cdp.send("Profiler.disable")
                profile_to.parent.mkdir(parents=True, exist_ok=True)
                profile_to.write_text(json.dumps(profile))
                print(f"  profile: {profile_to}", flush=True)
                for line in hot_functions(profile):
                    print(f"    {line}", flush=True)
        after = self.metrics()
        if self.explain:
            for line in explain_longest(trace):
                print(f"    {line}", flush=True)
        busy_cpu, longest_cpu = cpu_busy(trace)
        long_tasks = self.page.evaluate("(t) => window.__bench.longTasksSince(t)", t0)
        dom = self.page.evaluate("() => window.__bench.dom()")
        return {
            "value": value,
            "busy_s": after["TaskDuration"] - before["TaskDuration"],
            "busy_cpu_s": busy_cpu / 1000,
            "longest_ms": max(long_tasks, default=0.0),
            "longest_cpu_ms": longest_cpu,
            "long_tasks": len(long_tasks),
            **self.frames.between(before["Timestamp"], after["Timestamp"]),
            "dom_page": dom["page"],
            "dom_chat": dom["chat"],
        }


def set_disabled(server: JupyterServer, plugins: dict[str, bool]) -> None:
    """Disable (True) or enable these JupyterLab plugins in the pages opened from now on:
    the server reads its ``labconfig/page_config.json`` on every page request."""
    labconfig = server.root.parent / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": plugins}))


def run_depth(
    browser: Browser,
    server: JupyterServer,
    name: str,
    src: str,
    n: int,
    timeout: float,
    profile: bool = False,
    explain: bool = False,
) -> dict[str, typing.Any]:
    seed = None
    if n:
        seed = f"seed-{n}.json"
        if not (server.root / seed).exists():
            write_seed(server.root / seed, n)
    notebook = cells(src, n, seed)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script(PAGE_SCRIPT)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "timeTicks"})
    cdp.send("Network.enable")
    jupyter = Jupyter(server, page, f"long-{name}-{n}")
    bench = Bench(jupyter, cdp, timeout)
    bench.explain = explain
    result: dict[str, typing.Any] = {"n": n, "src": src}
    try:
        jupyter.open_notebook(*notebook, name=f"long-{name}-{n}.ipynb")
        bench.run(0)
        bench.shown(reply(WARM_PROMPT.format(i=1)))
        page.evaluate(  # drop the warm-up chat's view: the measured chat is view 0
            """() => { const app = window.jupyterapp;
                app.shell.currentWidget.content.activeCellIndex = 0;
                return app.commands.execute('notebook:clear-cell-output'); }"""
        )
        bench.run(1)
        bench.quiet()  # the chat's front-end model is made and initialized
        bench.run(2)
        if n:
            bench.shown(reply(SEED_PROMPT.format(i=n - 1)))
        bench.quiet()
        if any(ANYWIDGET_TIMEOUT in e for e in jupyter.console_errors):
            # Every later comm message would be dropped: the chat would never update.
            raise RuntimeError(f"{ANYWIDGET_TIMEOUT} (N = {n})")
        result["runs"] = []
        for k in range(1, RUNS + 1):
            if profile:
                bench.profile_to = RESULTS.with_name(f"long-{name}-{n}-{k}.cpuprofile")
            last = reply(PROMPT.format(k=k, n=n))

            def turn(index: int = 2 + k, last: Reply = last) -> int:
                text = bench.run(index)
                bench.shown(last)
                return int(text.split("turn-json")[1].split()[0])

            row = bench.measure(turn)
            row["turn_json"] = row["value"]
            result["runs"].append(row)
            print(f"  N={n} turn {k}: {describe(row)}", flush=True)

        def open_view() -> float:
            page.evaluate(
                "([t, e]) => { window.__open = window.__bench.watchOpen(1, t, e); }", [*last]
            )
            jupyter.run_cell(3 + RUNS)
            painted = float(page.evaluate("() => window.__open"))
            bench.run(3 + RUNS, start=False)
            return painted

        result["open"] = bench.measure(open_view)
        print(f"  N={n} open: painted in {result['open']['value']:.0f} ms", flush=True)
        result["console_errors"] = jupyter.unexpected_console_errors()
    finally:
        with contextlib.suppress(Exception):
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        context.close()
    return result


def describe(x: dict[str, typing.Any]) -> str:
    return (
        f"busy {x['busy_s']:.2f} s ({x['busy_cpu_s']:.2f} s CPU), {x['long_tasks']} long tasks,"
        f" longest {x['longest_ms']:.0f} ms ({x['longest_cpu_ms']:.0f} ms CPU), widget"
        f" {x['widget']:,} B, DOM {x['dom_page']:,} / {x['dom_chat']:,}"
    )


# ---------------------------------------------------------------------------------------
# Report.


def _med(runs: list[dict[str, typing.Any]], key: str) -> float:
    return float(statistics.median(float(x[key]) for x in runs))


def _budget(x: dict[str, typing.Any]) -> float:
    """The widget payload against 2x the turn's JSON + 4 KB (``benchmarks/comm.py``)."""
    return float(x["widget_payload"]) / float(2 * x["turn_json"] + SLACK_BYTES)


def _base(results: list[dict[str, typing.Any]], name: str) -> dict[str, typing.Any] | None:
    return next((b for b in results if b["name"] == name and b["n"] == 0 and "runs" in b), None)


def table(results: list[dict[str, typing.Any]]) -> str:
    lines = [
        "| code | turns before | main-thread busy: wall, median CPU | CPU vs N = 0 | long tasks "
        "| longest task, worst of 3: wall / CPU | received for the turn: widget / static "
        "transcript / all | widget payload / budget | DOM elements: page / chat "
        "| open a 2nd view: painted |",
        "|---|---:|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "runs" not in r:
            lines.append(f"| {r['name']} | {r['n']:,} | {r.get('error', '')} ||||||||")
            continue
        runs, base = r["runs"], _base(results, r["name"])
        cpu = _med(runs, "busy_cpu_s")
        ratio = f"{cpu / _med(base['runs'], 'busy_cpu_s'):.2f}x" if base else ""
        walls, counts = [x["busy_s"] for x in runs], [x["long_tasks"] for x in runs]
        worst = [max(x[k] for x in runs) for k in ("longest_ms", "longest_cpu_ms")]
        kb = [_med(runs, k) / 1000 for k in ("widget", "static", "total")]
        lines.append(
            f"| {r['name']} | {r['n']:,} | {min(walls):.2f}–{max(walls):.2f} s, {cpu:.2f} s "
            f"| {ratio} | {min(counts)}–{max(counts)} | {worst[0]:.0f} / {worst[1]:.0f} ms "
            f"| {kb[0]:.1f} / {kb[1]:.1f} / {kb[2]:.1f} KB | {max(map(_budget, runs)):.2f} "
            f"| {runs[-1]['dom_page']:,} / {runs[-1]['dom_chat']:,} "
            f"| {r['open']['value']:.0f} ms |"
        )
    return "\n".join(lines)


def targets(results: list[dict[str, typing.Any]], name: str) -> list[str]:
    """Issue 14's targets for one code's rows, as ratios within this run."""
    rows = {r["n"]: r for r in results if r["name"] == name and "runs" in r}
    turns = [x for r in rows.values() for x in r["runs"]]
    if 0 not in rows:
        return []
    out = []
    if 100 in rows:
        ratio = _med(rows[100]["runs"], "busy_cpu_s") / _med(rows[0]["runs"], "busy_cpu_s")
        out.append(f"one more turn at 100 / in a fresh chat, CPU busy: {ratio:.2f}x (<= 1.25x)")
    wall, cpu = (max(x[k] for x in turns) for k in ("longest_ms", "longest_cpu_ms"))
    out.append(f"longest task at any depth: {wall:.0f} ms wall, {cpu:.0f} ms CPU (<= 50 ms)")
    out.append(f"widget payload / (2x turn JSON + 4 KB): {max(map(_budget, turns)):.2f} (<= 1)")
    chat = {n: r["runs"][-1]["dom_chat"] for n, r in rows.items()}
    deep = max(chat)
    out.append(f"chat DOM at N = {deep:,}: {chat[deep]:,} elements ({chat[0]:,} at N = 0)")
    if 1000 in rows:
        out.append(f"open at 1,000 turns: {rows[1000]['open']['value']:.0f} ms (< 300 ms)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks long", description=__doc__)
    add = parser.add_argument
    add(
        "--depths",
        type=lambda s: [int(x) for x in s.split(",")],
        default=list(DEPTHS),
        help="turns before the measured ones (default 0,10,40,100,1000; 0 always runs)",
    )
    add(
        "--code",
        action="append",
        default=[],
        metavar="NAME=SRC[:MAX]",
        help="measure this src (up to depth MAX); several interleave (default: this src)",
    )
    add(
        "--disable",
        action="append",
        default=[],
        metavar="NAME=PLUGIN",
        help="open code NAME's pages with this JupyterLab plugin disabled (repeatable)",
    )
    add("--profile", action="store_true", help="CPU-profile every measured turn")
    add("--explain", action="store_true", help="print what each turn's longest task ran")
    add("--timeout", type=float, default=600.0, help="seconds per wait")
    args, _ = parser.parse_known_args(argv)  # `python -m benchmarks -- …` passes all options
    depths = sorted({0, *args.depths})
    codes = []
    for spec in args.code or [f"this={ROOT / 'src'}"]:
        name, _, rest = spec.partition("=")
        src, _, most = rest.partition(":")
        codes.append((name, str(pathlib.Path(src).resolve()), int(most or max(depths))))
    disable: dict[str, set[str]] = collections.defaultdict(set)
    for spec in args.disable:
        name, _, plugin = spec.partition("=")
        disable[name].add(plugin)
    toggled = set().union(*disable.values())
    if not BUNDLE.is_file() or not CHROMIUM.exists():
        print("long: needs `npm run build` and /usr/bin/chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    results: list[dict[str, typing.Any]] = []
    load = os.getloadavg()[0]
    base = pathlib.Path(tempfile.mkdtemp(prefix="nbchat-bench-long-"))
    server = JupyterServer("lab", base)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                # A first page in a fresh browser is slower throughout (its JIT and caches are
                # cold): whichever code and depth came first would pay for it. One throwaway
                # depth warms the browser; nothing of it is kept.
                print("long: warm-up (not measured)", flush=True)
                with contextlib.redirect_stdout(None):
                    run_depth(browser, server, "warm-up", codes[0][1], 0, args.timeout)
                for n in depths:
                    for name, src, most in codes:
                        if n > most:
                            continue
                        print(f"long: {name}, N = {n}", flush=True)
                        if toggled:
                            set_disabled(server, {p: p in disable[name] for p in toggled})
                        try:
                            row = run_depth(
                                browser,
                                server,
                                name,
                                src,
                                n,
                                args.timeout,
                                args.profile,
                                args.explain,
                            )
                        except Exception as exc:  # a depth that falls over is a finding
                            print(f"  failed: {type(exc).__name__}: {exc}", flush=True)
                            row = {"n": n, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
                        results.append({"name": name, **row})
                        load = max(load, os.getloadavg()[0])
                        RESULTS.parent.mkdir(parents=True, exist_ok=True)
                        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
            finally:
                browser.close()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)

    print(f"long: {MODEL}, {os.cpu_count()} CPUs, load average up to {load:.1f}")
    print(table(results))
    for name, _, _ in codes:
        for line in targets(results, name):
            print(f"  {name}: {line}")
    return 0 if all("runs" in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
