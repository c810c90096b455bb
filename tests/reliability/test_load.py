"""Load: many chats streaming at once in one kernel, and a long conversation's memory.

The bounds are the issue's: every reply complete and uncorrupted; a trivial cell still runs
within 1 s (measured as the kernel's own execute round trip); per reply, comm payload at
most 2x the reply's JSON size + 4 KB and at most 30 messages in any one-second window.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import json
import operator
import statistics
import time
import tracemalloc
import typing

import pytest
from tests.comms import branch
from tests.reliability.harness import KernelSession, widget_custom
from tests.servers import EmulatorProcess
from tests.servers.script import tokenize

from nbchat import Conversation, testing

WIDGETS = 50
TOKENS_PER_SECOND = 200
#: One second of tokens at 200/s.
TOKENS = 200
MAX_PER_SECOND = 30
SLACK_BYTES = 4096
RESPONSIVE_S = 1.0


def reply_text(index: int) -> str:
    """A reply of exactly ``TOKENS`` tokens that no other widget's reply shares a piece of."""
    words = [f" w{index:02d}n{j:03d}"[:7] if j % 2 else f" {index:02d}:{j:03d}" for j in range(400)]
    pieces = tokenize("".join(words))
    assert len(pieces) >= TOKENS
    return "".join(pieces[:TOKENS])


def wire_size(value: object) -> int:
    """Bytes of ``value`` as jupyter_client encodes it (UTF-8 JSON), without the envelope."""
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def payload(msg: dict[str, typing.Any]) -> object:
    data = msg["content"]["data"]
    return data.get("content") if data.get("method") == "custom" else data.get("state")


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, low = 0, 0
    for high, now in enumerate(times):
        while now - times[low] > window:
            low += 1
        best = max(best, high - low + 1)
    return best


def sent_at(msg: dict[str, typing.Any]) -> float:
    """When the kernel sent ``msg`` (its own clock, not this process's receipt time)."""
    date = msg["header"]["date"]
    if isinstance(date, str):
        date = datetime.datetime.fromisoformat(date)
    return float(date.timestamp())


def rebuild(customs: list[dict[str, typing.Any]]) -> tuple[str, str]:
    """The reply as a front end rebuilds it from ``start`` and in-order deltas, and its end."""
    text, seq, end = "", 0, ""
    for msg in customs:
        if msg["kind"] == "start":
            text, seq = msg["text"], 0
        elif msg["kind"] == "delta":
            assert msg["seq"] == seq + 1, "a delta is missing or out of order"
            seq = msg["seq"]
            if "text" in msg:  # a delta carries only what changed
                assert msg["offset"] == len(text.encode("utf-16-le")) // 2, "it does not fit"
                text += msg["text"]
        elif msg["kind"] in ("done", "error"):
            end = msg["kind"]
    return text, end


@dataclasses.dataclass
class Run:
    """What the fifty chats did, measured once for the tests below."""

    texts: list[str]
    replies: list[tuple[str, str]]  # (end, rebuilt text) per chat
    committed: list[list[tuple[str, str]]]  # the synced branch after the reply, per chat
    bytes_sent: list[int]  # comm payload per reply
    busiest_second: list[int]  # most messages of one chat in any one-second window
    round_trips: list[float]  # execute round trips of "1 + 1" while the chats streamed
    idle_round_trips: list[float]  # the same with nothing streaming: the baseline
    streaming_during: list[int]  # chats still streaming when each probe was sent


@pytest.fixture(scope="module")
def fifty(kernel: KernelSession) -> Run:
    texts = [reply_text(i) for i in range(WIDGETS)]
    (kernel.cwd / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    with EmulatorProcess("ollama") as server:
        # Each chat asks the emulator, by header, for its own text at 200 tokens/s.
        comm_ids: list[str] = kernel.value(
            "import json, pathlib, urllib.parse, nbchat\n"
            "texts = json.loads(pathlib.Path('texts.json').read_text())\n"
            "chats = [nbchat.Chat(conversation=nbchat.Conversation(\n"
            f"    'ollama:llama3.2', base_url='{server.root_url}', headers={{'X-Emulator':\n"
            f"        'tps={TOKENS_PER_SECOND},text=' + urllib.parse.quote(text)}}))\n"
            "    for text in texts]\n"
            "print(json.dumps([chat.model_id for chat in chats]))"
        )
        assert len(comm_ids) == WIDGETS
        idle = [round_trip(kernel) for _ in range(20)]
        seen = len(kernel.iopub)
        for comm_id in comm_ids:  # what 50 front ends send when their Send is pressed
            kernel.to_widget(comm_id, {"kind": "submit", "text": "Go."})

        def streaming() -> int:
            done = sum(
                1
                for m in kernel.iopub[seen:]
                if m["msg_type"] == "comm_msg" and (widget_custom(m) or {}).get("kind") == "done"
            )
            return WIDGETS - done

        # While they stream: a trivial cell, again and again, timed by its execute reply.
        round_trips: list[float] = []
        streaming_during: list[int] = []
        deadline = time.monotonic() + 120
        while streaming() and time.monotonic() < deadline:
            streaming_during.append(streaming())
            round_trips.append(round_trip(kernel))

    run = Run(texts, [], [], [], [], round_trips, idle, streaming_during)
    for comm_id in comm_ids:
        messages = [m for m in kernel.iopub[seen:] if m["content"].get("comm_id") == comm_id]
        run.replies.append(rebuild([c for c in map(widget_custom, messages) if c is not None]))
        data = [m["content"]["data"] for m in messages]
        state: dict[str, typing.Any] = {}  # the chats began empty: the updates hold it all
        for d in data:
            state.update(d.get("state", {}))
        run.committed.append([(m["role"], m["content"]) for m in branch(state)])
        run.bytes_sent.append(sum(wire_size(payload(m)) for m in messages))
        run.busiest_second.append(max_in_window(sorted(sent_at(m) for m in messages)))
    print(
        f"\n{WIDGETS} chats x {TOKENS} tokens at {TOKENS_PER_SECOND}/s: execute round trip "
        f"max {max(round_trips) * 1000:.0f} ms over {len(round_trips)} probes "
        f"({max(round_trips) / statistics.median(idle):.0f}x an idle kernel's median "
        f"{statistics.median(idle) * 1000:.1f} ms); busiest "
        f"second {max(run.busiest_second)} messages; payload up to "
        f"{max(map(operator.truediv, run.bytes_sent, map(budget, texts))):.2f}x the issue's budget"
    )
    return run


def round_trip(kernel: KernelSession) -> float:
    """Seconds from sending a trivial cell to the kernel's execute reply."""
    start = time.monotonic()
    msg_id = kernel.send_execute("1 + 1")
    assert kernel.reply(msg_id, timeout=30)["content"]["status"] == "ok"
    return time.monotonic() - start


def budget(text: str) -> int:
    """The issue's bound on one reply's comm payload."""
    return 2 * wire_size(text) + SLACK_BYTES


@pytest.mark.kernel
def test_fifty_replies_at_once_all_arrive_complete_and_uncorrupted(fifty: Run) -> None:
    for text, (rebuilt, end), committed in zip(
        fifty.texts, fifty.replies, fifty.committed, strict=True
    ):
        assert (end, rebuilt) == ("done", text)
        assert committed == [("user", "Go."), ("assistant", text)]


@pytest.mark.kernel
def test_the_kernel_answers_a_cell_within_a_second_while_fifty_chats_stream(fifty: Run) -> None:
    assert max(fifty.streaming_during) >= WIDGETS // 2  # probed while most chats streamed
    assert len(fifty.round_trips) >= 3
    assert max(fifty.round_trips) < RESPONSIVE_S, fifty.round_trips


@pytest.mark.kernel
def test_comm_traffic_per_reply_is_within_the_issue_bounds(fifty: Run) -> None:
    assert max(fifty.busiest_second) <= MAX_PER_SECOND
    for sent, text in zip(fifty.bytes_sent, fifty.texts, strict=True):
        assert sent <= budget(text), f"{sent} bytes for a {wire_size(text)}-byte reply"


# ---------------------------------------------------------------------------------------
# A long conversation.

TURNS = 1000
FILLER = " ".join(f"w{j:06d}" for j in range(124))  # ~1 KB of word-sized tokens


def test_a_thousand_turns_keep_memory_proportional_to_the_text() -> None:
    # Each turn keeps two ~1 KB messages (made inside the measurement, so they count). What
    # a message costs beyond its text — its dict, id, meta and str header — measured about
    # 450 bytes here, so growth runs at ~1.45x the text; k = 2 leaves room for allocator
    # noise, and still fails on any per-turn leak: a turn's events (~7x its text) or a
    # copy of the request (which grows with the history, so it would be quadratic).
    k, constant = 2.0, 256 * 1024
    script = testing.script(f"Reply: {FILLER}")
    conversation = Conversation(script.model)

    def turn(i: int) -> None:
        conversation.prompt(f"{i} {FILLER}").result()
        script.requests.clear()  # the fake records every request; that is not nbchat's memory

    for i in range(10):  # warm up: worker thread, caches, first allocations
        turn(i)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(10, TURNS + 10):
            turn(i)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    messages = conversation.messages
    assert len(messages) == 2 * (TURNS + 10)
    assert messages[-2]["content"] == f"{TURNS + 9} {FILLER}"
    assert messages[-1]["content"] == f"Reply: {FILLER}"
    kept = sum(len(m["content"]) for m in messages[20:])
    print(f"\n{TURNS} turns: memory grew {grown / kept:.2f}x the {kept:,} characters kept")
    assert grown <= k * kept + constant, f"grew {grown:,} bytes for {kept:,} characters"
