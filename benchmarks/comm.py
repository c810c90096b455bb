"""comm — what one reply costs on the widget's comm, against a full-text-trait baseline.

Measured at the kernel: the widget's comm is replaced by one that counts what would go on
the wire — each message's payload (a custom message's content, an update's trait values),
JSON-encoded as jupyter_client encodes it, without the Jupyter envelope — and when.

For each token rate (100, 1,000 and 10,000 tokens/s) and reply length (short: the offline
demo's ``demo:long`` cut to 300 tokens; medium: cut to 2,000; long: all of its 10,000
tokens), a fresh chat gets one reply, three ways:

- **nbchat, UI**: a ``submit`` from the front end, streamed by a task on an event loop;
- **nbchat, ask**: ``chat.ask()`` from code, streamed from the calling thread;
- **baseline**: a tiny widget whose one synced trait holds the whole text, set per token.

Targets: payload ≤ 2x the reply's JSON size + 4 KB, and at most 30 messages in any
one-second window. Every reply streams in real time, so a full run takes about 7 minutes
(most of it the 100-second replies at 100 tokens/s); ``--quick`` runs the short replies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import pathlib
import sys
import typing
from collections.abc import Iterator

import anywidget
import comm
import ipywidgets
import traitlets
from tests.comms import RecordingComm, custom
from tests.python.widget_rig import until

from nbchat.providers.base import TextDelta
from nbchat.session import Conversation
from nbchat.widget import Chat

RESULTS = pathlib.Path(__file__).parent / "results" / "comm.json"
RATES = (100, 1_000, 10_000)
#: Reply lengths in tokens; ``None`` is all of ``demo:long`` (10,000 tokens).
LENGTHS: dict[str, int | None] = {"short": 300, "medium": 2_000, "long": None}
PROMPT = "Tell me a long story."
MAX_PER_SECOND = 30
SLACK_BYTES = 4096


def wire_size(value: object) -> int:
    """Bytes of ``value`` as jupyter_client puts it on the wire (UTF-8 JSON)."""
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


class Counted(typing.NamedTuple):
    time: float
    size: int  # payload bytes
    kind: str  # a custom message's kind, or "update"
    text_size: int  # of a delta: its text and reasoning, JSON-escaped; the rest is envelope


def counted(widget: ipywidgets.Widget) -> list[Counted]:
    """The payload of every comm message after the opening one, as it would go on the wire."""
    out = []
    for sent in typing.cast(RecordingComm, widget.comm).log:
        if sent.msg_type != "comm_msg":
            continue  # comm_open carries the bundle once per widget, not per reply
        method = sent.data.get("method")
        payload = sent.data.get("content") if method == "custom" else sent.data.get("state")
        kind, text_size = "update", 0
        if method == "custom" and isinstance(payload, dict):
            kind = str(payload.get("kind"))
            if kind == "delta":
                pieces = [payload[k] for k in ("text", "reasoning") if k in payload]
                # Without the quotes: the reply's own JSON size counts them once, not per delta.
                text_size = sum(wire_size(piece) - 2 for piece in pieces)
        out.append(Counted(sent.time, wire_size(payload), kind, text_size))
    return out


@contextlib.contextmanager
def recording_comms() -> Iterator[None]:
    original = comm.create_comm
    comm.create_comm = RecordingComm
    try:
        yield
    finally:
        comm.create_comm = original


class FullTextWidget(anywidget.AnyWidget):
    """The baseline: the reply so far in one synced trait, reassigned per token."""

    _esm = "export default { render({ model, el }) { el.textContent = model.get('text'); } }"
    text = traitlets.Unicode("").tag(sync=True)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def summarize(sent: list[Counted], reply: str) -> dict[str, typing.Any]:
    times = [m.time for m in sent]
    payload = sum(m.size for m in sent)
    reply_json = wire_size(reply)
    budget = 2 * reply_json + SLACK_BYTES
    deltas = [m for m in sent if m.kind == "delta"]
    envelopes = sum(m.size - m.text_size for m in deltas)
    seconds = times[-1] - times[0] if times else 0.0
    return {
        "messages": len(sent),
        "payload_bytes": payload,
        "reply_json_bytes": reply_json,
        "seconds": round(seconds, 3),
        "max_messages_in_1s": max_in_window(times),
        "budget_bytes": budget,
        "budget_ratio": round(payload / budget, 3),
        # What the messages themselves add on top of the text sent twice (deltas, then the
        # committed message): the deltas' envelopes, and the rest (the prompt, the reply's
        # meta, start and done).
        "beyond_twice_reply_bytes": payload - 2 * reply_json,
        "deltas": len(deltas),
        # Over a second or more; a shorter reply's rate says little.
        "deltas_per_s": round(len(deltas) / seconds, 1) if seconds >= 1 else None,
        "delta_envelope_bytes": envelopes,
        "mean_envelope_bytes": round(envelopes / len(deltas), 1) if deltas else 0.0,
        "within_bytes": payload <= budget,
        "within_rate": max_in_window(times) <= MAX_PER_SECOND,
    }


def options(rate: int, tokens: int | None) -> dict[str, typing.Any]:
    chosen: dict[str, typing.Any] = {"tokens_per_second": rate}
    if tokens is not None:
        chosen["max_tokens"] = tokens
    return chosen


def run_ask(rate: int, tokens: int | None) -> dict[str, typing.Any]:
    chat = Chat("demo:long", **options(rate, tokens))
    reply = chat.ask(PROMPT)
    result = summarize(counted(chat), reply)
    chat.close()
    return result


def run_ui(rate: int, tokens: int | None) -> dict[str, typing.Any]:
    async def go() -> dict[str, typing.Any]:
        chat = Chat("demo:long", **options(rate, tokens))
        counter = typing.cast(RecordingComm, chat.comm)
        counter.handle_msg(
            {
                "content": {
                    "data": {"method": "custom", "content": {"kind": "submit", "text": PROMPT}}
                },
                "buffers": [],
            }
        )
        await until(lambda: bool(custom(chat, "done")), timeout=600)
        reply = chat.messages[-1]["content"]
        result = summarize(counted(chat), reply)
        chat.close()
        return result

    return asyncio.run(go())


def run_baseline(rate: int, tokens: int | None) -> dict[str, typing.Any]:
    widget = FullTextWidget()
    conversation = Conversation("demo:long", **options(rate, tokens))
    for event in conversation.prompt(PROMPT):
        if isinstance(event, TextDelta):
            widget.text += event.text
    result = summarize(counted(widget), widget.text)
    widget.close()
    return result


#: The comparison case: this many models, each this many tokens at this rate, at once.
COMPARE = {"models": 3, "tokens": 2_000, "tokens_per_second": 200}


def run_compare(ui: bool) -> dict[str, typing.Any]:
    """One prompt to three ``demo:long`` columns at once; every comm of the comparison
    (its own and its columns') counted together, as one widget on screen."""
    from nbchat.widget._compare import Compare

    async def submit(cmp: Compare) -> None:
        typing.cast(RecordingComm, cmp.comm).handle_msg(
            {
                "content": {
                    "data": {"method": "custom", "content": {"kind": "submit", "text": PROMPT}}
                },
                "buffers": [],
            }
        )
        await until(lambda: all(custom(c, "done") for c in cmp.columns), timeout=600)

    n = COMPARE["models"]
    cmp = Compare(
        ["demo:long"] * n,
        tokens_per_second=COMPARE["tokens_per_second"],
        max_tokens=COMPARE["tokens"],
    )
    if ui:
        asyncio.run(submit(cmp))
    else:
        cmp.ask(PROMPT)
    sent = sorted((m for w in (cmp, *cmp.columns) for m in counted(w)), key=lambda m: m.time)
    replies = [c.messages[-1]["content"] for c in cmp.columns]
    result = summarize(sent, "".join(replies))
    # Budget and reply size over the N replies: each reply's JSON, summed.
    reply_json = sum(wire_size(r) for r in replies)
    result["reply_json_bytes"] = reply_json
    result["budget_bytes"] = 2 * reply_json + n * SLACK_BYTES
    result["budget_ratio"] = round(result["payload_bytes"] / result["budget_bytes"], 3)
    result["within_bytes"] = result["payload_bytes"] <= result["budget_bytes"]
    cmp.close()
    return result


def measure(rates: tuple[int, ...], lengths: dict[str, int | None]) -> dict[str, typing.Any]:
    results: dict[str, typing.Any] = {"python": sys.version.split()[0], "rows": []}
    with recording_comms():
        for length, tokens in lengths.items():
            for rate in rates:
                row: dict[str, typing.Any] = {
                    "length": length,
                    "tokens_per_second": rate,
                    "nbchat_ui": run_ui(rate, tokens),
                    "nbchat_ask": run_ask(rate, tokens),
                    "baseline": run_baseline(rate, tokens),
                }
                base, ours = row["baseline"], row["nbchat_ui"]
                row["bytes_ratio"] = round(base["payload_bytes"] / ours["payload_bytes"], 1)
                row["messages_ratio"] = round(base["messages"] / ours["messages"], 1)
                results["rows"].append(row)
                print(report_row(row), flush=True)
    return results


HEADER = (
    f"{'length':<7}{'tok/s':>7} {'path':<11}{'seconds':>8}{'msgs':>7}{'max/1s':>7}"
    f"{'payload B':>13}{'reply B':>9}{'budget B':>10}{'/budget':>8}{'deltas/s':>9}"
    f"{'envelope':>9}"
)


def report_row(row: dict[str, typing.Any]) -> str:
    lines = []
    for path in ("nbchat_ui", "nbchat_ask", "baseline"):
        r = row[path]
        envelope = f"{r['mean_envelope_bytes']:>8.1f}B" if r["deltas"] else f"{'':>9}"
        per_s = "" if not r["deltas"] or r["deltas_per_s"] is None else f"{r['deltas_per_s']:.1f}"
        lines.append(
            f"{row['length']:<7}{row['tokens_per_second']:>7,} {path:<11}{r['seconds']:>8.1f}"
            f"{r['messages']:>7,}{r['max_messages_in_1s']:>7,}{r['payload_bytes']:>13,}"
            f"{r['reply_json_bytes']:>9,}{r['budget_bytes']:>10,}{r['budget_ratio']:>8.2f}"
            f"{per_s:>9}{envelope}"
        )
    lines.append(
        f"{'':>15}baseline / nbchat ui: {row['bytes_ratio']}x bytes, "
        f"{row['messages_ratio']}x messages"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks comm")
    parser.add_argument("--quick", action="store_true", help="the short replies only")
    parser.add_argument(
        "--compare", action="store_true", help="only the comparison case (3 models at once)"
    )
    args = parser.parse_args(argv)
    if args.compare:
        return main_compare()
    lengths = {"short": LENGTHS["short"]} if args.quick else LENGTHS
    print(f"comm: one reply per length and rate, Python {sys.version.split()[0]}")
    print(HEADER, flush=True)
    results = measure(RATES, lengths)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0


def main_compare() -> int:
    m = COMPARE
    print(
        f"comm: Compare, {m['models']} models x {m['tokens']:,} tokens at "
        f"{m['tokens_per_second']} tok/s, Python {sys.version.split()[0]}"
    )
    results: dict[str, typing.Any] = {"python": sys.version.split()[0], "case": m}
    with recording_comms():
        for path, ui in (("ui", True), ("ask", False)):
            r = results[path] = run_compare(ui)
            print(
                f"{path:<4} {r['seconds']:>6.1f} s {r['messages']:>5} msgs "
                f"max/1s {r['max_messages_in_1s']:>3}  deltas/s {r['deltas_per_s']}  "
                f"payload {r['payload_bytes']:,} B  replies {r['reply_json_bytes']:,} B  "
                f"/budget {r['budget_ratio']:.2f}  envelope {r['mean_envelope_bytes']} B",
                flush=True,
            )
    out = RESULTS.with_name("comm_compare.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
