"""comm — what one reply costs on the widget's comm, against a full-text-trait baseline.

Measured at the kernel: the widget's comm is replaced by one that counts what would go on
the wire — each message's payload (a custom message's content, an update's trait values),
JSON-encoded as jupyter_client encodes it, without the Jupyter envelope — and when.

For each token rate (100, 1,000 and 10,000 tokens/s) a fresh chat gets one reply from the
offline demo (``demo:long`` cut to a few seconds of tokens, so every rate streams for a
while), three ways:

- **nbchat, UI**: a ``submit`` from the front end, streamed by a task on an event loop;
- **nbchat, ask**: ``chat.ask()`` from code, streamed from the calling thread;
- **baseline**: a tiny widget whose one synced trait holds the whole text, set per token.

Targets: payload ≤ 2x the reply's JSON size + 4 KB, and at most 30 messages in any
one-second window.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import pathlib
import sys
import time
import typing
from collections.abc import Iterator

import anywidget
import comm
import traitlets
from comm.base_comm import BaseComm

from nbchat.providers.base import TextDelta
from nbchat.session import Conversation
from nbchat.widget import Chat

RESULTS = pathlib.Path(__file__).parent / "results" / "comm.json"
RATES = (100, 1_000, 10_000)
PROMPT = "Tell me a long story."
MAX_PER_SECOND = 30
SLACK_BYTES = 4096


def wire_size(value: object) -> int:
    """Bytes of ``value`` as jupyter_client puts it on the wire (UTF-8 JSON)."""
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


class CountingComm(BaseComm):
    """Counts the payload of every comm message after the opening one."""

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.sent: list[tuple[float, int]] = []  # (time, payload bytes)
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, typing.Any] | None = None,
        metadata: dict[str, typing.Any] | None = None,
        buffers: list[bytes] | None = None,
        **keys: typing.Any,
    ) -> None:
        if msg_type != "comm_msg" or data is None:
            return  # comm_open carries the bundle once per widget, not per reply
        method = data.get("method")
        payload = data.get("content") if method == "custom" else data.get("state")
        self.sent.append((time.monotonic(), wire_size(payload)))


@contextlib.contextmanager
def counting_comms() -> Iterator[None]:
    original = comm.create_comm
    comm.create_comm = CountingComm
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


def summarize(sent: list[tuple[float, int]], reply: str) -> dict[str, typing.Any]:
    times = [t for t, _ in sent]
    payload = sum(n for _, n in sent)
    reply_json = wire_size(reply)
    budget = 2 * reply_json + SLACK_BYTES
    return {
        "messages": len(sent),
        "payload_bytes": payload,
        "reply_json_bytes": reply_json,
        "seconds": round(times[-1] - times[0], 3) if times else 0.0,
        "max_messages_in_1s": max_in_window(times),
        "budget_bytes": budget,
        # What the messages themselves add on top of the text sent twice (deltas, then the
        # committed message): envelopes, ids, offsets, the prompt, the meta.
        "beyond_twice_reply_bytes": payload - 2 * reply_json,
        "within_bytes": payload <= budget,
        "within_rate": max_in_window(times) <= MAX_PER_SECOND,
    }


def options(rate: int, seconds: float) -> dict[str, typing.Any]:
    return {"tokens_per_second": rate, "max_tokens": max(int(rate * seconds), 50)}


def run_ask(rate: int, seconds: float) -> dict[str, typing.Any]:
    chat = Chat("demo:long", **options(rate, seconds))
    reply = chat.ask(PROMPT)
    counter = typing.cast(CountingComm, chat.comm)
    result = summarize(counter.sent, reply)
    chat.close()
    return result


def run_ui(rate: int, seconds: float) -> dict[str, typing.Any]:
    async def go() -> dict[str, typing.Any]:
        chat = Chat("demo:long", **options(rate, seconds))
        counter = typing.cast(CountingComm, chat.comm)
        ended = asyncio.Event()
        chat.observe(lambda change: ended.set() if change["new"] != "streaming" else None, "status")
        counter.handle_msg(
            {
                "content": {
                    "data": {"method": "custom", "content": {"kind": "submit", "text": PROMPT}}
                },
                "buffers": [],
            }
        )
        await ended.wait()
        await asyncio.sleep(0)  # let the task send `done` after the final update
        reply = chat.messages[-1]["content"]
        result = summarize(counter.sent, reply)
        chat.close()
        return result

    return asyncio.run(go())


def run_baseline(rate: int, seconds: float) -> dict[str, typing.Any]:
    widget = FullTextWidget()
    conversation = Conversation("demo:long", **options(rate, seconds))
    for event in conversation.prompt(PROMPT):
        if isinstance(event, TextDelta):
            widget.text += event.text
    counter = typing.cast(CountingComm, widget.comm)
    result = summarize(counter.sent, widget.text)
    widget.close()
    return result


def measure(rates: tuple[int, ...], seconds: float) -> dict[str, typing.Any]:
    results: dict[str, typing.Any] = {
        "python": sys.version.split()[0],
        "seconds_per_reply": seconds,
        "rates": {},
    }
    with counting_comms():
        for rate in rates:
            row = {
                "nbchat_ui": run_ui(rate, seconds),
                "nbchat_ask": run_ask(rate, seconds),
                "baseline": run_baseline(rate, seconds),
            }
            base, ours = row["baseline"], row["nbchat_ui"]
            row["bytes_ratio"] = round(base["payload_bytes"] / ours["payload_bytes"], 1)
            row["messages_ratio"] = round(base["messages"] / ours["messages"], 1)
            results["rates"][str(rate)] = row
    return results


def report(results: dict[str, typing.Any]) -> str:
    lines = [
        f"comm: one reply of ~{results['seconds_per_reply']} s per rate, "
        f"Python {results['python']}",
        f"{'tokens/s':>9} {'path':<11} {'msgs':>6} {'max/1s':>7} {'payload B':>12} "
        f"{'reply B':>9} {'budget B':>9} {'beyond 2x':>10}  bytes  rate",
    ]
    for rate, row in results["rates"].items():
        for path in ("nbchat_ui", "nbchat_ask", "baseline"):
            r = row[path]
            ok = ("ok" if r["within_bytes"] else "OVER", "ok" if r["within_rate"] else "OVER")
            lines.append(
                f"{int(rate):>9,} {path:<11} {r['messages']:>6,} {r['max_messages_in_1s']:>7} "
                f"{r['payload_bytes']:>12,} {r['reply_json_bytes']:>9,} "
                f"{r['budget_bytes']:>9,} {r['beyond_twice_reply_bytes']:>10,}  {ok[0]:<5}  {ok[1]}"
            )
        lines.append(
            f"{'':>9} baseline / nbchat: {row['bytes_ratio']}x bytes, "
            f"{row['messages_ratio']}x messages"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks comm")
    parser.add_argument("--quick", action="store_true", help="one-second replies")
    args = parser.parse_args(argv)
    results = measure(RATES, 1.0 if args.quick else 3.0)
    print(report(results))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
