"""An autosaved file survives its writer being killed at any moment (SIGKILL: no cleanup).

A child process chats in a loop, saving every turn to ``talk.json``, and reports each turn
once it is saved. It is killed — at chosen points inside a save (half a journal record
written; the new snapshot written but not renamed; renamed but the journal not emptied),
and at random moments. After every kill, reading the file succeeds and holds the turns
reported, plus at most the one under way when the kill came: the old state or the new,
never a broken file.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from nbchat import Conversation
from nbchat.session import autosave

ROOT = pathlib.Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from nbchat import Conversation, testing
    from nbchat.session import autosave

    path, crash, crash_turn = sys.argv[1], sys.argv[2], int(sys.argv[3])
    autosave.COMPACT_AT = 0  # fold the journal as soon as it outgrows the snapshot
    conversation = Conversation(testing.script("x" * 30000).model, file=path)
    turn = len(conversation.messages) // 2
    die = lambda: os.kill(os.getpid(), signal.SIGKILL)
    write_all, replace = autosave._write_all, os.replace

    def half_a_record(fd, data):
        if turn == crash_turn and data.startswith(b'{"of"'):
            write_all(fd, data[: len(data) // 2])
            die()
        write_all(fd, data)

    def replacing(source, target):
        if turn >= crash_turn and crash == "before-rename":
            die()
        replace(source, target)
        if turn >= crash_turn and crash == "after-rename":
            die()

    if crash == "mid-record":
        autosave._write_all = half_a_record
    elif crash in ("before-rename", "after-rename"):
        os.replace = replacing
    while True:
        turn += 1
        conversation.prompt(f"turn {turn}").result()
        print(turn, flush=True)
    """
)


def start(talk: pathlib.Path, crash: str = "none", at: int = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(talk), crash, str(at)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def saved_turns(talk: pathlib.Path) -> list[int]:
    """The turns on disk, checked to be whole: turn n asked, then its whole reply."""
    json.loads(talk.read_text(encoding="utf-8"))  # the snapshot is always complete JSON
    restored = autosave.read(talk)
    assert restored is not None
    messages = restored.transcript.messages
    assert len(messages) % 2 == 0
    turns = []
    for question, reply in zip(messages[::2], messages[1::2], strict=True):
        assert question["content"].startswith("turn ")
        assert reply["content"] == "x" * 30000
        turns.append(int(question["content"].split()[1]))
    assert turns == list(range(1, len(turns) + 1))
    return turns


def reported(process: subprocess.Popen[str], last: int) -> int:
    """The last turn the killed child said was saved."""
    assert process.stdout is not None
    for line in process.stdout:
        last = int(line)
    process.stdout.close()
    return last


@pytest.mark.parametrize("crash", ["mid-record", "before-rename", "after-rename"])
def test_a_writer_killed_inside_a_save_leaves_the_old_or_the_new_state(
    tmp_path: pathlib.Path, crash: str
) -> None:
    talk = tmp_path / "talk.json"
    at = 6  # with COMPACT_AT = 0 both kinds of save happen within the first turns
    with start(talk, crash, at) as process:
        last = reported(process, 0)  # reads until the child dies
        assert process.wait(60) == -signal.SIGKILL, "the crash point was never reached"
    assert last >= at - 1
    turns = saved_turns(talk)
    assert len(turns) in (last, last + 1)
    # and the next writer carries on from there
    with start(talk) as process:
        assert process.stdout is not None
        assert int(process.stdout.readline()) == len(turns) + 1
        process.kill()
        process.wait(10)
        process.stdout.close()
    assert saved_turns(talk)[-1] >= len(turns) + 1


def test_a_writer_killed_at_random_moments_never_leaves_a_broken_file(
    tmp_path: pathlib.Path,
) -> None:
    talk = tmp_path / "talk.json"
    rng = random.Random(int(os.environ.get("NBCHAT_CRASH_SEED", "12")))
    last = 0
    for _round in range(12):
        with start(talk) as process:
            assert process.stdout is not None
            wanted = last + rng.randint(1, 4)
            while last < wanted:
                last = int(process.stdout.readline())
            time.sleep(rng.uniform(0, 0.02))  # somewhere inside the next turn's save, or not
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            last = reported(process, last)
        turns = saved_turns(talk)
        assert len(turns) in (last, last + 1)
        last = len(turns)
    assert last >= 12
    assert Conversation(file=talk).file == str(talk)  # and it opens for writing
