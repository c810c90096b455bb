"""Autosave: ``Conversation(..., file=...)`` restores a file and keeps it up to date.

What is on disk is checked by reading the files back with :func:`autosave.read` (which
writes nothing), or by their bytes. Processes that hold a file are real subprocesses.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import numpy
import pytest
from tests.servers import EmulatorServer

from nbchat import Conversation, testing, transcript
from nbchat.errors import ConversationFileError, FileInUse, InvalidRequest, ServerError
from nbchat.images import MemoryImageStore, to_image
from nbchat.messages import Message
from nbchat.session import autosave

KEY = "sk-test-0123456789abcdefSECRET"
ROOT = pathlib.Path(__file__).resolve().parents[2]


def on_disk(path: pathlib.Path) -> transcript.Transcript:
    restored = autosave.read(path)
    assert restored is not None
    return restored.transcript


def files(path: pathlib.Path) -> dict[str, bytes]:
    """Every file of the conversation, by name: to show that nothing was written."""
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir()) if p.is_file()}


def stop_when_stalled(script: testing.Script, conversation: Conversation) -> None:
    def run() -> None:
        if script.stalled.wait(5) and conversation.current is not None:
            conversation.current.stop()

    threading.Thread(target=run, daemon=True).start()


@pytest.fixture
def talk(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "talk.json"


def test_every_turn_is_on_disk_when_it_ends(talk: pathlib.Path) -> None:
    script = testing.script("one", "two")
    conversation = Conversation(script.model, system="S", file=talk, temperature=0.5)
    assert conversation.file == str(talk)
    saved = json.loads(talk.read_text(encoding="utf-8"))  # a new file is written at once
    assert (saved["format"], saved["version"], saved["messages"]) == ("nbchat.transcript", 3, [])
    conversation.prompt("q1").result()
    assert on_disk(talk).messages == conversation.messages
    conversation.prompt("q2").result()
    state = on_disk(talk)
    assert state.messages == list(conversation.tree)
    assert state.leaf == conversation.tree.leaf
    assert (state.model, state.system, state.options) == (script.model, "S", {"temperature": 0.5})


def test_a_turn_appends_one_line_and_leaves_the_snapshot_alone(talk: pathlib.Path) -> None:
    conversation = Conversation(testing.script("reply").model, file=talk)
    snapshot = talk.read_bytes()
    journal = autosave.journal_path(talk)
    for n in range(1, 4):
        conversation.prompt(f"question {n}").result()
        lines = journal.read_bytes().splitlines()
        assert len(lines) == n
        record = json.loads(lines[-1])
        assert [m["content"] for m in record["put"]] == [f"question {n}", "reply"]
        assert talk.read_bytes() == snapshot


def test_the_journal_is_folded_into_the_snapshot_once_it_outgrows_it(
    talk: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(autosave, "COMPACT_AT", 0)
    conversation = Conversation(testing.script("r" * 300).model, file=talk)
    journal = autosave.journal_path(talk)
    sizes = []
    for n in range(12):
        conversation.prompt(f"q{n}").result()
        sizes.append((talk.stat().st_size, journal.stat().st_size))
        assert journal.stat().st_size <= talk.stat().st_size + 400  # never much larger
        assert on_disk(talk).messages == conversation.messages
    assert any(j == 0 for _, j in sizes)  # folded at least once...
    assert sum(1 for _, j in sizes if j == 0) < len(sizes) / 2  # ...but not every turn
    assert json.loads(talk.read_text(encoding="utf-8"))["journal"]["seq"] > 1


def test_restore_brings_back_every_branch_reasoning_error_and_stopped_reply(
    talk: pathlib.Path,
) -> None:
    from nbchat.providers.base import ReasoningDelta

    script = testing.script(
        [ReasoningDelta("hmm "), "thought through"],
        ["half", ServerError("boom")],
        ["partial ", testing.STALL],
        "edited",
    )
    conversation = Conversation(script.model, system="S", file=talk, seed=3)
    conversation.prompt("a").result()
    with pytest.raises(ServerError):
        conversation.prompt("b").result()
    stop_when_stalled(script, conversation)
    conversation.regenerate().result()  # stopped, beside the failed one
    conversation.edit("B").result()
    first = conversation.messages[0]["id"]
    conversation.select(conversation.tree.children(first)[0])
    before = (list(conversation.tree), conversation.messages, conversation.tree.leaf)
    conversation.close()
    assert conversation.file is None

    again = Conversation(file=talk)
    assert (list(again.tree), again.messages, again.tree.leaf) == before
    assert (again.model, again.system, again.options) == (script.model, "S", {"seed": 3})
    kinds = {m["content"]: m for m in again.tree}
    assert kinds["thought through"]["reasoning"] == "hmm "
    assert kinds["half"]["meta"]["error"] == "boom"
    assert kinds["partial "]["meta"]["stopped"] is True
    # and it goes on, saving as before
    again.resume().result()
    assert on_disk(talk).messages == list(again.tree)


def test_a_file_saved_by_hand_or_an_older_nbchat_is_restored_then_kept_as_version_3(
    talk: pathlib.Path,
) -> None:
    fixtures = pathlib.Path(__file__).parent / "fixtures"
    talk.write_bytes((fixtures / "transcript-v1.json").read_bytes())
    testing.script("unused")  # the fixture names demo:script-1
    restored = Conversation("demo:echo", file=talk)
    assert [m["role"] for m in restored.messages] == ["user", "assistant", "user", "assistant"]
    assert json.loads(talk.read_text(encoding="utf-8"))["version"] == 3
    restored.close()

    version_2 = Conversation(testing.script("x").model)
    version_2.prompt("q").result()
    data = json.loads(version_2.to_json())
    data["version"] = 2
    for key in ("leaf", "active"):
        del data[key]
    talk.write_text(json.dumps(data), encoding="utf-8")
    assert Conversation(file=talk).messages == version_2.messages


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"format": "nbchat.transcript", "version": 4, "messages": []}', "newer nbchat"),
        (b'{"format": "nbchat.transcript", "version": 3, "messa', "not complete JSON"),
        (b"", "not complete JSON"),
        (b'{"format": "something else"}', "not an nbchat transcript"),
        (b'{"format": "nbchat.transcript", "version": 3, "messages": [{"id": 1}]}', "messages"),
    ],
)
def test_a_file_that_cannot_be_restored_is_refused_in_one_line_and_left_alone(
    talk: pathlib.Path, content: bytes, words: str
) -> None:
    talk.write_bytes(content)
    before = files(talk)
    with pytest.raises(ConversationFileError, match=words) as caught:
        Conversation(testing.script("x").model, file=talk)
    assert "\n" not in str(caught.value)
    assert "talk.json" in caught.value.message
    assert files(talk) == before  # not touched, and nothing created beside it
    with pytest.raises(ConversationFileError, match=words):
        Conversation.load(str(talk))


def test_a_partial_last_record_is_ignored_and_cut_off_by_the_next_writer(
    talk: pathlib.Path,
) -> None:
    conversation = Conversation(testing.script("r").model, file=talk)
    conversation.prompt("kept").result()
    conversation.close()
    journal = autosave.journal_path(talk)
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"of":"x","seq":9,"put":[{"id":"ab')  # killed mid-write
    assert [m["content"] for m in on_disk(talk).messages] == ["kept", "r"]
    again = Conversation(file=talk)
    again.prompt("next").result()
    assert [m["content"] for m in on_disk(talk).messages] == ["kept", "r", "next", "r"]


def test_a_broken_record_before_the_end_is_refused(talk: pathlib.Path) -> None:
    conversation = Conversation(testing.script("r").model, file=talk)
    conversation.prompt("one").result()
    conversation.prompt("two").result()
    conversation.close()
    journal = autosave.journal_path(talk)
    first, second = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"#" + first[1:] + second)
    before = files(talk)
    with pytest.raises(ConversationFileError, match="broken record before its end"):
        Conversation(file=talk)
    assert files(talk) == before


def test_a_journal_without_its_snapshot_is_refused(talk: pathlib.Path) -> None:
    conversation = Conversation(testing.script("r").model, file=talk)
    conversation.prompt("one").result()
    conversation.close()
    talk.unlink()
    with pytest.raises(ConversationFileError, match=r"records but talk\.json is missing"):
        Conversation(file=talk)


def test_rerunning_in_the_same_process_hands_the_file_over(talk: pathlib.Path) -> None:
    script = testing.script("r")
    old = Conversation(script.model, file=talk)
    old.prompt("before").result()
    new = Conversation(file=talk)  # the cell, run again
    assert new.messages == old.messages
    assert (old.file, new.file) == (None, str(talk))
    old.prompt("old chat").result()  # not written: the new chat owns the file
    assert old._take_notices() == [
        "This chat no longer saves to talk.json: a newer chat in this kernel took the file over."
    ]
    new.prompt("new chat").result()
    assert [m["content"] for m in on_disk(talk).messages] == ["before", "r", "new chat", "r"]


def test_a_chat_that_fails_to_start_leaves_the_file_to_the_one_before(
    talk: pathlib.Path,
) -> None:
    old = Conversation(testing.script("r").model, file=talk)
    with pytest.raises(InvalidRequest, match="not both"):  # restoring and messages= at once
        Conversation(file=talk, messages=[{"id": "x", "role": "user", "content": "q"}])
    assert old.file == str(talk)
    old.prompt("still mine").result()
    assert len(on_disk(talk).messages) == 2


HOLDER = textwrap.dedent(
    """
    import sys, time
    from nbchat import Conversation
    conversation = Conversation("demo:echo", file=sys.argv[1])
    print("holding", flush=True)
    if sys.argv[2] == "close":
        sys.stdin.readline()
        conversation.close()
        print("closed", flush=True)
    time.sleep(60)
    """
)


@contextlib.contextmanager
def holding(talk: pathlib.Path, then: str = "sleep") -> Iterator[subprocess.Popen[str]]:
    """Another process that writes ``talk`` until it is killed (SIGKILL: no cleanup)."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(talk), then],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "holding"
            yield process
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)


def test_a_file_another_live_process_writes_is_refused_until_it_dies(talk: pathlib.Path) -> None:
    with holding(talk):
        before = files(talk)
        with pytest.raises(FileInUse, match="another running kernel or process") as caught:
            Conversation("demo:echo", file=talk)
        assert "chat.close()" in caught.value.hint
        assert files(talk) == before
        Conversation.load(str(talk))  # reading is always fine
    conversation = Conversation("demo:echo", file=talk)  # the dead process's lock is gone
    assert conversation.file == str(talk)


def test_close_releases_the_file_for_another_process(talk: pathlib.Path) -> None:
    with holding(talk, then="close") as holder:
        with pytest.raises(FileInUse):
            Conversation("demo:echo", file=talk)
        assert holder.stdin is not None
        assert holder.stdout is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "closed"
        assert Conversation("demo:echo", file=talk).file == str(talk)


def test_no_key_and_no_password_ever_reach_the_files(
    talk: pathlib.Path, openai_server: EmulatorServer
) -> None:
    url = openai_server.openai_base_url.replace("http://", "http://user:hunter2@")
    conversation = Conversation(
        "openai:tiny", base_url=url, api_key=KEY, headers={"X-Secret": "hunter2"}, file=talk
    )
    conversation.prompt("q").result()
    conversation.save(str(talk))  # its own file: folded, the crash-safe way
    conversation.prompt("again").result()
    for name, data in files(talk).items():
        for secret in (KEY, KEY[:8], KEY[-8:], "hunter2"):
            assert secret.encode() not in data, (name, secret)
    assert on_disk(talk).base_url == openai_server.openai_base_url


def test_images_go_beside_the_file_and_come_back(talk: pathlib.Path) -> None:
    store = MemoryImageStore()
    data = to_image(numpy.random.default_rng(1).integers(0, 256, (30, 40, 3), numpy.uint8)).data
    part = store.put(data, "image/png")
    message: Message = {
        "id": "u1",
        "role": "user",
        "content": "look",
        "parent": None,
        "parts": [{"type": "text", "text": "look"}, part],
    }
    messages: list[Message] = []
    writer = autosave.Autosave.open(talk)
    writer.start(lambda: {"messages": messages, "leaf": None, "active": {}}, store)
    messages.append(message)
    writer.put([message])
    side = autosave.images_path(talk) / f"{part['id']}.png"
    assert side.read_bytes() == data
    assert data not in talk.read_bytes() + autosave.journal_path(talk).read_bytes()
    writer.close()
    again = MemoryImageStore()
    reopened = autosave.Autosave.open(talk)
    assert reopened.load_images(again, [message]) == []
    assert again.get(part["id"]) == data
    side.unlink()
    assert reopened.load_images(MemoryImageStore(), [message]) == [part["id"]]
    reopened.close()
