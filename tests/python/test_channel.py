"""The delta channel, driven by a fake clock: no sleeps, every timing exact."""

from __future__ import annotations

import bisect
import itertools
import random
import typing

import pytest

from nbchat.widget._channel import (
    MAX_HOLD,
    MIN_INTERVAL,
    MIN_UNITS,
    TOKENS_INTERVAL,
    Channel,
)
from nbchat.widget._protocol import ServerMessage
from nbchat.widget._scheduler import PollingScheduler


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """A channel on a fake clock, and everything it sent (with the time it was sent)."""

    def __init__(self, interval: float = MIN_INTERVAL) -> None:
        self.clock = FakeClock()
        self.scheduler = PollingScheduler(self.clock)
        self.sent: list[tuple[float, ServerMessage]] = []
        self.channel = Channel(self._send, self.scheduler, interval=interval)

    def _send(self, msg: ServerMessage) -> None:
        self.sent.append((self.clock.now, msg))

    def advance(self, seconds: float) -> None:
        """Let time pass, running timers at their deadlines (as an event loop would)."""
        end = self.clock.now + seconds
        while True:
            timeout = self.scheduler.timeout()
            if timeout is None or self.clock.now + timeout > end:
                break
            self.clock.now += timeout
            self.scheduler.run_due()
        self.clock.now = end

    def stream(self, tokens: list[str], rate: float) -> list[tuple[float, int]]:
        """Add ``tokens`` at ``rate`` a second; return when each arrived, and where it ends
        in the reply (UTF-16 units)."""
        arrivals, end = [], 0
        for token in tokens:
            self.channel.add_text(token)
            end += js_len(token)
            arrivals.append((self.clock.now, end))
            self.advance(1 / rate)
        return arrivals

    def kinds(self) -> list[str]:
        return [m["kind"] for _, m in self.sent]

    def messages(self, kind: str) -> list[dict[str, typing.Any]]:
        return [typing.cast(dict[str, typing.Any], m) for _, m in self.sent if m["kind"] == kind]


DELTA_KEYS = {"kind", "id", "seq", "offset", "text", "reasoning_offset", "reasoning", "tokens"}


class Client:
    """What a front end does with the messages: apply deltas in order, check offsets."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.text = ""
        self.reasoning = ""
        self.seq = 0
        self.finished: str | None = None

    def apply(self, msg: ServerMessage) -> None:
        m = typing.cast(dict[str, typing.Any], msg)
        if m["kind"] == "start":
            self.id, self.text, self.seq, self.finished = m["id"], m["text"], 0, None
        elif m["kind"] == "delta":
            assert set(m) <= DELTA_KEYS
            assert m["id"] == self.id
            assert m["seq"] == self.seq + 1, "seq gap"
            # Each pair comes whole or not at all, and only with something in it.
            assert ("offset" in m) == ("text" in m) == bool(m.get("text"))
            assert ("reasoning_offset" in m) == ("reasoning" in m) == bool(m.get("reasoning"))
            assert "text" in m or "reasoning" in m, "an empty delta"
            if "text" in m:
                assert m["offset"] == js_len(self.text), "offset mismatch"
                self.text += m["text"]
            if "reasoning" in m:
                assert m["reasoning_offset"] == js_len(self.reasoning)
                self.reasoning += m["reasoning"]
            self.seq = m["seq"]
        elif m["kind"] == "snapshot":
            if m["id"] is not None:
                assert m["seq"] > self.seq
                self.id, self.text, self.reasoning, self.seq = (
                    m["id"],
                    m["text"],
                    m["reasoning"],
                    m["seq"],
                )
        elif m["kind"] in ("done", "error"):
            assert m["id"] == self.id
            if m["kind"] == "done":
                assert m["seq"] == self.seq + 1
            self.finished = m["kind"]


def js_len(text: str) -> int:
    """JavaScript's ``.length``, counted independently of the code under test."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def longest_wait(rig: Rig, arrivals: list[tuple[float, int]]) -> float:
    """The longest any text waited between arriving and going out in a delta."""
    ends = [end for _, end in arrivals]
    worst = 0.0
    for sent_at, msg in rig.sent:
        if msg["kind"] == "delta" and "text" in msg:
            # The oldest text in a delta is the token holding its first unit.
            oldest = bisect.bisect_right(ends, msg["offset"])
            worst = max(worst, sent_at - arrivals[oldest][0])
    return worst


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most messages sent within any closed interval of ``window`` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [5, 100, 300, 1_000, 10_000])
def test_messages_per_second_stay_bounded_and_no_text_waits_past_the_hold(rate: int) -> None:
    rig = Rig()
    rig.channel.start("r1", model="demo:x")
    rig.advance(1.0)
    tokens = [f"t{i} " for i in range(3 * rate)]  # three seconds of reply
    arrivals = rig.stream(tokens, rate)
    rig.channel.done()

    times = [t for t, _ in rig.sent]
    assert max_in_window(times) <= 1 / MIN_INTERVAL + 2  # deltas + the final tail + done
    assert max_in_window(times) <= 30
    # What the eye sees lags the model by at most the hold, at any rate.
    assert longest_wait(rig, arrivals) <= MAX_HOLD + 1e-9
    # Coalescing is not starvation: while text flows, a delta goes out at least every hold.
    assert len(rig.messages("delta")) >= min(len(tokens), 3 / MAX_HOLD) - 2
    client = Client()
    for _, msg in rig.sent:
        client.apply(msg)
    assert client.text == "".join(tokens)
    assert client.finished == "done"


def test_a_slow_stream_sends_a_fuller_delta_per_hold_not_one_per_interval() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.stream(["ab"] * 300, rate=100)  # 200 units a second: 64 would take 320 ms
    times = [t for t, m in rig.sent if m["kind"] == "delta"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= MAX_HOLD - 1e-9
    assert 3 / MAX_HOLD - 1 <= len(times) <= 3 / MAX_HOLD + 1
    assert all(len(d["text"]) >= 18 for d in rig.messages("delta")[1:])  # ~20 units each


def test_enough_pending_text_goes_out_at_the_interval_not_the_hold() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.channel.add_text("a")  # the line was quiet: at once
    sent_a = rig.clock.now
    rig.advance(0.01)
    rig.channel.add_text("b")  # a little text: it may wait for the hold
    assert rig.kinds() == ["start", "delta"]
    rig.channel.add_text("c" * (MIN_UNITS - 1))  # now worth a delta: due at the interval
    assert rig.kinds() == ["start", "delta"]
    rig.advance(MIN_INTERVAL)
    assert [d["text"] for d in rig.messages("delta")] == ["a", "b" + "c" * (MIN_UNITS - 1)]
    assert rig.sent[-1][0] == pytest.approx(sent_a + MIN_INTERVAL)

    sent_c = rig.sent[-1][0]
    rig.advance(sent_c + (MIN_INTERVAL + MAX_HOLD) / 2 - rig.clock.now)  # between the two
    rig.channel.add_text("x")
    assert len(rig.messages("delta")) == 2  # a little text still waits
    rig.channel.add_text("🙂" * (MIN_UNITS // 2))  # UTF-16 units count: 2 per emoji
    assert len(rig.messages("delta")) == 3  # enough, and the interval is over: at once
    assert rig.sent[-1][0] == rig.clock.now < sent_c + MAX_HOLD


def test_first_token_goes_out_at_once_when_the_line_is_quiet() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)  # model loading: nothing for a second
    rig.channel.add_text("Hello")
    assert rig.kinds() == ["start", "delta"]
    assert rig.sent[-1][0] == rig.clock.now  # no added latency


def test_a_pause_after_a_burst_is_flushed_by_the_trailing_timer() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.channel.add_text("a")  # sent at once
    rig.advance(0.005)
    rig.channel.add_text("b")  # within the interval: held back
    rig.channel.add_text("c")
    assert rig.kinds() == ["start", "delta"]
    sent_a = rig.sent[-1][0]

    rig.advance(10.0)  # the model pauses; no further token arrives
    deltas = rig.messages("delta")
    assert [d["text"] for d in deltas] == ["a", "bc"]
    assert rig.sent[-1][0] == pytest.approx(sent_a + MAX_HOLD)  # a small tail: the hold


def test_a_large_tail_after_a_burst_goes_out_at_the_interval() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.channel.add_text("a")
    rig.advance(0.005)
    rig.channel.add_text("z" * MIN_UNITS)
    rig.advance(10.0)
    assert [d["text"] for d in rig.messages("delta")] == ["a", "z" * MIN_UNITS]
    assert rig.sent[-1][0] == pytest.approx(rig.sent[-2][0] + MIN_INTERVAL)


def test_slow_tokens_are_each_sent_without_delay() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    for word in ["one ", "two ", "three"]:
        rig.advance(0.2)  # 5 tokens/s: slower than the hold
        rig.channel.add_text(word)
        assert rig.sent[-1][1]["kind"] == "delta"
        assert rig.sent[-1][0] == rig.clock.now
    assert [d["text"] for d in rig.messages("delta")] == ["one ", "two ", "three"]


def test_offsets_count_utf16_units_with_emoji_and_astral_math() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    pieces = ["a😀", "b", "𝛼β", "👩‍👩‍👧", "z"]
    for piece in pieces:
        rig.advance(1.0)  # one delta per piece
        rig.channel.add_text(piece)
    deltas = rig.messages("delta")
    assert [d["offset"] for d in deltas] == [0, 3, 4, 7, 15]
    expected, total = [], 0
    for piece in pieces:
        expected.append(total)
        total += js_len(piece)
    assert [d["offset"] for d in deltas] == expected


def test_a_delta_names_only_what_it_carries() -> None:
    # The timings below rely on these.
    assert MAX_HOLD < 0.2
    assert TOKENS_INTERVAL <= 0.6
    rig = Rig()
    rig.channel.start("1a2b3c4d", model="m")
    rig.advance(1.0)
    rig.channel.add_reasoning("Let me think")
    rig.advance(0.2)
    rig.channel.add_reasoning(" 🤔")
    rig.advance(0.01)
    rig.channel.add_text("Answer")  # with more reasoning, within the hold: one delta
    rig.channel.add_reasoning(".")
    rig.advance(0.2)
    rig.channel.add_text("")  # a count only: nothing to send
    rig.advance(0.2)
    rig.channel.add_text("!")  # the count was last sent over TOKENS_INTERVAL ago
    assert [m for _, m in rig.sent[1:]] == [
        {
            "kind": "delta",
            "id": "1a2b3c4d",
            "seq": 1,
            "reasoning_offset": 0,
            "reasoning": "Let me think",
            "tokens": 1,
        },
        {"kind": "delta", "id": "1a2b3c4d", "seq": 2, "reasoning_offset": 12, "reasoning": " 🤔"},
        {
            "kind": "delta",
            "id": "1a2b3c4d",
            "seq": 3,
            "offset": 0,
            "text": "Answer",
            "reasoning_offset": 15,
            "reasoning": ".",
        },
        {"kind": "delta", "id": "1a2b3c4d", "seq": 4, "offset": 6, "text": "!", "tokens": 6},
    ]


def test_the_token_count_rides_along_a_few_times_a_second_and_is_exact() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.stream(["x"] * 300, rate=100)  # one unit per token: tokens == text length
    deltas = [(t, m) for t, m in rig.sent if m["kind"] == "delta"]
    counted = [(t, m) for t, m in deltas if "tokens" in m]
    assert counted[0][1] is deltas[0][1]  # the first delta says how many at once
    for _, m in counted:
        assert m["tokens"] == m["offset"] + len(m["text"])  # exact, not an estimate
    times = [t for t, _ in counted]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= TOKENS_INTERVAL - 1e-9  # not in every delta…
    assert max(gaps) <= TOKENS_INTERVAL + MAX_HOLD + 1e-9  # …but refreshed a few times a second
    assert len(counted) <= len(deltas) / 4

    rig.channel.request_snapshot()  # a snapshot carries the exact count: the next delta not
    rig.advance(MAX_HOLD)
    rig.channel.add_text("y")
    rig.advance(MAX_HOLD)
    assert rig.kinds()[-2:] == ["snapshot", "delta"]
    assert rig.messages("snapshot")[-1]["tokens"] == 300
    assert "tokens" not in rig.messages("delta")[-1]


def test_a_slow_reply_costs_one_small_envelope_per_hold() -> None:
    import json

    rig = Rig()
    rig.channel.start("1a2b3c4d", model="m")
    rig.advance(1.0)
    seconds, rate = 10, 100
    rig.stream([f"w{i % 97} " for i in range(seconds * rate)], rate)
    deltas = rig.messages("delta")
    envelopes = [len(json.dumps(d)) - len(json.dumps(d["text"])) for d in deltas]
    assert len(deltas) <= seconds / MAX_HOLD + 1
    # kind, an 8-character id, seq, a five-digit offset, and now and then the count.
    assert sum(envelopes) / len(envelopes) <= 80


def test_seq_runs_one_two_three_and_done_takes_the_next() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    for word in ["a", "b", "c"]:
        rig.advance(1.0)
        rig.channel.add_text(word)
    rig.channel.done()
    assert [m.get("seq") for _, m in rig.sent] == [None, 1, 2, 3, 4]
    assert rig.kinds() == ["start", "delta", "delta", "delta", "done"]


def test_done_sends_the_pending_tail_first_and_cancels_the_timer() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.channel.add_text("a")
    rig.channel.add_text("b")  # pending, timer armed
    rig.channel.done()
    assert rig.kinds() == ["start", "delta", "delta", "done"]
    assert rig.messages("delta")[-1]["text"] == "b"
    rig.advance(1.0)  # the cancelled timer must not fire into the next reply
    assert rig.kinds() == ["start", "delta", "delta", "done"]
    assert rig.channel.reply_id is None


def test_fail_sends_the_tail_then_error_and_no_done() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.channel.add_text("partial")
    rig.channel.add_text(" text")
    rig.channel.fail("Connection lost.", "The text so far is kept.")
    assert rig.kinds() == ["start", "delta", "delta", "error"]
    error = rig.messages("error")[0]
    assert error == {
        "kind": "error",
        "id": "r1",
        "message": "Connection lost.",
        "hint": "The text so far is kept.",
    }
    client = Client()
    for _, msg in rig.sent:
        client.apply(msg)
    assert (client.text, client.finished) == ("partial text", "error")


def test_a_continued_reply_starts_from_its_partial_text() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m", text="Once upon a 🕰", reasoning="hmm")
    rig.advance(1.0)
    rig.channel.add_text(" time")
    rig.advance(1.0)
    rig.channel.add_reasoning(", yes")
    start, (first, second) = rig.messages("start")[0], rig.messages("delta")
    assert start["text"] == "Once upon a 🕰"
    assert start["reasoning"] == "hmm"  # so the front end continues it without a resync
    assert first["offset"] == js_len("Once upon a 🕰")
    assert second["reasoning_offset"] == 3


def test_snapshot_holds_sent_and_pending_text_and_deltas_continue_after_it() -> None:
    rig = Rig()
    rig.channel.start("r1", model="demo:x")
    rig.advance(1.0)
    rig.channel.add_text("Hello ")
    rig.channel.add_text("wor")  # pending
    rig.channel.request_snapshot()  # within the interval: waits for its slot
    assert rig.kinds() == ["start", "delta"]
    rig.advance(MIN_INTERVAL)
    snapshot = rig.messages("snapshot")[0]
    assert snapshot == {
        "kind": "snapshot",
        "id": "r1",
        "seq": 2,
        "text": "Hello wor",
        "reasoning": "",
        "model": "demo:x",
        "tokens": 2,
        "blocking": False,
    }
    rig.advance(1.0)
    rig.channel.add_text("ld")
    rig.channel.done()

    late = Client()  # a view that connected late sees only what follows its snapshot
    for _, msg in rig.sent[rig.kinds().index("snapshot") :]:
        late.apply(msg)
    assert late.text == "Hello world"
    assert late.finished == "done"


def test_snapshot_requests_are_rate_limited_like_deltas() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.channel.add_text("x" * 1000)
    for _ in range(1000):  # a front end stuck asking, every millisecond for a second
        rig.channel.request_snapshot()
        rig.advance(0.001)
    rig.advance(1.0)
    snapshots = rig.messages("snapshot")
    assert 1 <= len(snapshots) <= 1 / MIN_INTERVAL + 1


def test_snapshot_while_idle_says_nothing_is_in_flight() -> None:
    rig = Rig()
    rig.channel.request_snapshot()
    assert rig.messages("snapshot") == [
        {
            "kind": "snapshot",
            "id": None,
            "seq": 0,
            "text": "",
            "reasoning": "",
            "model": "",
            "tokens": 0,
            "blocking": False,
        }
    ]


def test_random_chunking_and_snapshots_reconstruct_the_reply_exactly() -> None:
    rng = random.Random(7)
    alphabet = "ab ç😀\n$`|𝛼"
    for _ in range(20):
        rig = Rig()
        rig.channel.start("r", model="m", text="pre")
        whole = "pre"
        clients = [Client()]
        for _ in range(300):
            piece = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
            rig.channel.add_text(piece)
            whole += piece
            if rng.random() < 0.03:
                rig.channel.request_snapshot()
            rig.advance(rng.choice([0.0, 0.001, 0.01, 0.05, 0.3]))
        rig.channel.done()
        for _, msg in rig.sent:
            clients[0].apply(msg)
        assert clients[0].text == whole
        assert clients[0].finished == "done"


def test_one_reply_at_a_time() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    with pytest.raises(RuntimeError, match="still in flight"):
        rig.channel.start("r2", model="m")
    rig.channel.done()
    rig.channel.start("r2", model="m")
    assert rig.channel.reply_id == "r2"


def test_lone_surrogates_become_replacement_characters() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.channel.add_text("bad \ud800 pair")
    text = rig.messages("delta")[0]["text"]
    assert text == "bad \ufffd pair"
    text.encode("utf-8")  # encodable, so the comm's JSON will be too


def test_close_drops_the_reply_silently() -> None:
    rig = Rig()
    rig.channel.start("r1", model="m")
    rig.advance(1.0)
    rig.channel.add_text("a")
    rig.channel.add_text("b")
    rig.channel.close()
    rig.advance(1.0)
    assert rig.kinds() == ["start", "delta"]
    assert rig.channel.reply_id is None


def test_bytes_sent_stay_proportional_to_the_reply() -> None:
    import json

    rig = Rig()
    rig.channel.start("r1", model="m")
    reply = "".join(f"word{i} " for i in range(20_000))
    for i in range(0, len(reply), 5):
        rig.channel.add_text(reply[i : i + 5])
        rig.advance(0.0002)
    rig.channel.done()
    sent = sum(len(json.dumps(m)) for _, m in rig.sent)
    assert sent < 1.2 * len(json.dumps(reply))
