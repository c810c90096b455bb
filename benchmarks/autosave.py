"""autosave — what saving one turn costs, in a 5-turn and in a 500-turn conversation.

Turns are real turns of a ``Conversation(..., file=...)`` against the scripted demo model
at full speed: a ~80-character question and a 1,500-character reply. A turn's save is
timed where it happens (``Autosave.put``: the journal append and its fsync — and, when
due, folding the journal into a new snapshot). The baseline, measured in the same run,
rewrites the whole file the crash-safe way at every turn (temporary file, fsync, rename),
which is what calling ``chat.save()`` after each turn would cost.

Two measurements, because the machine is shared and fsync's latency moves with the load:

1. **Interleaved, per turn.** Copies of a 5-turn and a 500-turn file are opened in turn
   (40 times each, alternating), and after a first turn (which warms up what opening the
   file disturbed), a second one is saved into each: median wall time and CPU time of
   that save, nbchat and baseline. Both sizes see the same load.
2. **Amortised, bytes.** One conversation grows to 500 turns; the bytes each save writes
   are counted (exact, no noise). Per turn over turns n/2..n, for n = 10, 100, 250, 500:
   folds are included, so this is the long-run cost per turn.

The files go to ``benchmarks/results/autosave/`` (a real disk: fsync is the point).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import statistics
import sys
import time

from nbchat import testing
from nbchat.messages import Message
from nbchat.session import Conversation, autosave

RESULTS = pathlib.Path(__file__).parent / "results"
FOLDER = RESULTS / "autosave"
QUESTION = "Could you explain, with a short example, how this part of the code works?"
REPLY = ("Here is how it works: the function reads the input, checks it, and then " * 21)[:1500]
SIZES = (5, 500)


class Meter:
    """Wraps ``Autosave.put`` and ``autosave._write_all``: time and bytes of each save."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.written: list[int] = []
        self._bytes = 0

    def __enter__(self) -> Meter:
        self._put, self._write_all = autosave.Autosave.put, autosave._write_all
        put, write_all = self._put, self._write_all

        def timed(saver: autosave.Autosave, messages: list[Message]) -> None:
            self._bytes = 0
            wall, cpu = time.perf_counter(), time.thread_time()
            put(saver, messages)
            self.cpu.append(time.thread_time() - cpu)
            self.wall.append(time.perf_counter() - wall)
            self.written.append(self._bytes)

        def counted(fd: int, data: bytes) -> None:
            self._bytes += len(data)
            write_all(fd, data)

        autosave.Autosave.put = timed  # type: ignore[method-assign,assignment]
        autosave._write_all = counted
        return self

    def __exit__(self, *exc: object) -> None:
        autosave.Autosave.put = self._put  # type: ignore[method-assign]
        autosave._write_all = self._write_all


def turn(conversation: Conversation, n: int) -> None:
    conversation.prompt(f"{n}. {QUESTION}").result()


def rewrite(conversation: Conversation, path: pathlib.Path) -> tuple[float, float, int]:
    """The baseline: the whole file, the crash-safe way. (wall s, cpu s, bytes)"""
    data = conversation.to_json().encode("utf-8")
    wall, cpu = time.perf_counter(), time.thread_time()
    autosave._replace(path, data)
    return time.perf_counter() - wall, time.thread_time() - cpu, len(data)


def grow(turns: int, path: pathlib.Path) -> tuple[Meter, list[int]]:
    """One conversation to ``turns`` turns: nbchat's saves, and the baseline's bytes."""
    model = testing.script(REPLY).model
    conversation = Conversation(model, file=path)
    baseline: list[int] = []
    with Meter() as meter:
        for n in range(1, turns + 1):
            turn(conversation, n)
            baseline.append(len(conversation.to_json().encode("utf-8")))
    conversation.close()
    restored = autosave.read(path)
    assert restored is not None
    assert len(restored.transcript.messages) == 2 * turns  # all of it is on disk
    return meter, baseline


def interleaved(rounds: int, templates: dict[int, pathlib.Path]) -> dict[int, dict[str, float]]:
    """One more turn saved into a copy of each template, alternating; medians in ms."""
    ours: dict[int, Meter] = {size: Meter() for size in templates}
    base: dict[int, list[tuple[float, float, int]]] = {size: [] for size in templates}
    for index in range(rounds):
        order = list(templates) if index % 2 == 0 else list(reversed(templates))
        for size in order:
            copy = _copy(templates[size], FOLDER / f"copy-{size}")
            conversation = Conversation(file=copy)
            turn(conversation, size + 1)  # warm: opening the copy is not part of a turn
            with ours[size] as meter:
                turn(conversation, size + 2)
            assert meter.written[-1] < 8192  # an append, not a fold
            base[size].append(rewrite(conversation, copy.with_name("whole.json")))
            conversation.close()
    return {
        size: {
            "nbchat_wall_ms": statistics.median(ours[size].wall) * 1000,
            "nbchat_cpu_ms": statistics.median(ours[size].cpu) * 1000,
            "nbchat_bytes": statistics.median(ours[size].written),
            "rewrite_wall_ms": statistics.median(b[0] for b in base[size]) * 1000,
            "rewrite_cpu_ms": statistics.median(b[1] for b in base[size]) * 1000,
            "rewrite_bytes": statistics.median(b[2] for b in base[size]),
        }
        for size in templates
    }


def _copy(template: pathlib.Path, folder: pathlib.Path) -> pathlib.Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    target = folder / template.name
    shutil.copyfile(template, target)
    # On disk before the turn: else the save's fsync would also flush the copy, and the
    # 500-turn copy is 200 times the 5-turn one.
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    autosave._sync_folder(folder)
    return target


def amortised(written: list[int], n: int) -> float:
    """Bytes per turn over turns n/2..n (1-based), folds included."""
    part = written[n // 2 : n]
    return sum(part) / len(part)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks autosave")
    parser.add_argument("--rounds", type=int, default=40)
    options = parser.parse_args(argv)
    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)

    meter, baseline = grow(max(SIZES), FOLDER / "grown.json")
    templates: dict[int, pathlib.Path] = {}
    for size in SIZES:  # a clean file of each size (journal folded in)
        template = FOLDER / f"template-{size}.json"
        conversation = Conversation(testing.script(REPLY).model, file=template)
        for n in range(1, size + 1):
            turn(conversation, n)
        conversation.save(str(template))
        conversation.close()
        templates[size] = template
    per_turn = interleaved(options.rounds, templates)

    bytes_rows = {
        n: {"nbchat": amortised(meter.written, n), "rewrite": amortised(baseline, n)}
        for n in (10, 100, 250, 500)
    }
    print(f"autosave: per-turn save, median of {options.rounds} interleaved saves (ms)")
    print(
        f"{'turns':>6} | {'nbchat wall':>11} {'cpu':>6} {'bytes':>6} | "
        f"{'rewrite wall':>12} {'cpu':>6} {'bytes':>7}"
    )
    for size, row in per_turn.items():
        print(
            f"{size:>6} | {row['nbchat_wall_ms']:11.2f} {row['nbchat_cpu_ms']:6.2f} "
            f"{row['nbchat_bytes']:6.0f} | {row['rewrite_wall_ms']:12.2f} "
            f"{row['rewrite_cpu_ms']:6.2f} {row['rewrite_bytes']:7.0f}"
        )
    small, large = per_turn[SIZES[0]], per_turn[SIZES[-1]]
    print(
        f"500 vs 5 turns: nbchat wall {large['nbchat_wall_ms'] / small['nbchat_wall_ms']:.2f}x, "
        f"cpu {large['nbchat_cpu_ms'] / small['nbchat_cpu_ms']:.2f}x; rewrite wall "
        f"{large['rewrite_wall_ms'] / small['rewrite_wall_ms']:.2f}x, "
        f"cpu {large['rewrite_cpu_ms'] / small['rewrite_cpu_ms']:.2f}x"
    )
    print("amortised bytes written per turn over turns n/2..n (folds included):")
    for n, row in bytes_rows.items():
        print(f"  n={n:>3}: nbchat {row['nbchat']:8.0f}   rewrite {row['rewrite']:9.0f}")
    biggest = max(meter.wall) * 1000
    print(f"slowest single save in 500 turns (a fold): {biggest:.1f} ms")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "autosave.json").write_text(
        json.dumps(
            {"per_turn": per_turn, "amortised_bytes": bytes_rows, "slowest_ms": biggest},
            indent=1,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
