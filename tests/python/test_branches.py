"""Branches: regenerate and edit keep every version; the branch on screen is what is sent.

Against the scripted demo provider: ``script.requests[n].messages`` is exactly what the
"server" was asked on request ``n``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from nbchat import Conversation, Turn, testing
from nbchat.errors import ConversationBusy, InvalidRequest, ServerError
from nbchat.messages import Message


def contents(messages: list[Message]) -> list[str]:
    return [m["content"] for m in messages]


def stop_when_stalled(script: testing.Script, turn: Turn) -> None:
    """Stop ``turn`` from another thread once the scripted stream stalls."""

    def run() -> None:
        if script.stalled.wait(5):
            turn.stop()

    threading.Thread(target=run, daemon=True).start()


def sent(script: testing.Script, n: int = -1) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in script.requests[n].messages]


def test_regenerate_keeps_the_earlier_reply_as_a_sibling_and_select_walks_them() -> None:
    script = testing.script("one", "two", "three")
    conversation = Conversation(script.model)
    conversation.prompt("q").result()
    first = conversation.messages[-1]["id"]
    conversation.regenerate().result()
    conversation.regenerate().result()
    question, third = conversation.messages
    assert third["content"] == "three"
    tree = conversation.tree
    versions = tree.siblings(third["id"])
    assert versions[0] == first
    assert versions[-1] == third["id"]
    assert len(versions) == 3
    assert [tree[v]["content"] for v in versions] == ["one", "two", "three"]
    assert all(tree.parent(v) == question["id"] for v in versions)
    assert tree.children(question["id"]) == versions
    assert tree.leaf == third["id"]
    assert len(tree) == 4
    conversation.select(versions[1])
    assert contents(conversation.messages) == ["q", "two"]
    assert conversation.tree.leaf == versions[1]
    # Each regenerate asked the same question, with nothing of the other versions.
    assert sent(script, 1) == sent(script, 2) == [("user", "q")]


def test_what_is_sent_is_exactly_the_branch_on_screen() -> None:
    script = testing.script("A", "B", "C")
    conversation = Conversation(script.model, system="S")
    conversation.prompt("q1").result()
    conversation.regenerate().result()  # q1 -> A | B, B on screen
    replies = conversation.tree.siblings(conversation.messages[-1]["id"])
    conversation.select(replies[0])  # back to A
    conversation.prompt("q2").result()
    assert sent(script) == [("system", "S"), ("user", "q1"), ("assistant", "A"), ("user", "q2")]
    assert contents(conversation.messages) == ["q1", "A", "q2", "C"]


def test_edit_forks_the_question_and_switching_back_shows_the_whole_continuation() -> None:
    script = testing.script("r1", "r2", "r3", "r-edit", "r-after")
    conversation = Conversation(script.model)
    for question in ("a", "b", "c"):
        conversation.prompt(question).result()
    b = conversation.messages[2]
    turn = conversation.edit("B!", b["id"])  # an earlier question, not the last
    assert turn.user_message is not None
    assert turn.user_message["parent"] == b["parent"]
    turn.result()
    assert contents(conversation.messages) == ["a", "r1", "B!", "r-edit"]
    assert sent(script) == [("user", "a"), ("assistant", "r1"), ("user", "B!")]
    conversation.prompt("d").result()
    versions = conversation.tree.siblings(b["id"])
    assert versions[0] == b["id"]
    assert len(versions) == 2
    conversation.select(b["id"])
    assert contents(conversation.messages) == ["a", "r1", "b", "r2", "c", "r3"]
    conversation.select(versions[1])  # and forward again: what followed the edit is there
    assert contents(conversation.messages) == ["a", "r1", "B!", "r-edit", "d", "r-after"]


def test_each_fork_remembers_which_version_it_showed() -> None:
    script = testing.script("x1", "y1", "y2", "x2")
    conversation = Conversation(script.model)
    conversation.prompt("x").result()
    conversation.prompt("y").result()
    conversation.regenerate().result()  # y -> y1 | y2, y2 shown
    y = conversation.messages[-1]["id"]
    y1 = conversation.tree.siblings(y)[0]
    conversation.select(y1)  # the inner fork now shows y1
    x1 = conversation.messages[1]["id"]
    conversation.regenerate(x1).result()  # an outer fork: x -> x1 | x2
    assert contents(conversation.messages) == ["x", "x2"]
    conversation.select(x1)
    assert contents(conversation.messages) == ["x", "x1", "y", "y1"]  # y1, as left


def test_continue_and_stop_work_on_any_branch() -> None:
    script = testing.script(["half ", testing.STALL], "other", [" rest"])
    conversation = Conversation(script.model)
    turn = conversation.prompt("q")
    stop_when_stalled(script, turn)
    turn.result()
    stopped = conversation.messages[-1]
    assert stopped["meta"]["stopped"] is True
    conversation.regenerate().result()
    conversation.select(stopped["id"])  # back to the stopped version, and continue it
    resumed = conversation.resume()
    assert resumed.id == stopped["id"]
    assert resumed.result() == "half  rest"
    assert sent(script) == [("user", "q"), ("assistant", "half ")]
    versions = conversation.tree.siblings(stopped["id"])
    assert [conversation.tree[v]["content"] for v in versions] == ["half  rest", "other"]
    assert conversation.tree.leaf == stopped["id"]


def test_regenerating_a_failed_reply_keeps_it_beside_the_retry() -> None:
    script = testing.script(["par", ServerError("boom")], "whole")
    conversation = Conversation(script.model)
    with pytest.raises(ServerError):
        conversation.prompt("q").result()
    failed = conversation.messages[-1]
    conversation.regenerate().result()
    versions = conversation.tree.siblings(failed["id"])
    assert [conversation.tree[v]["content"] for v in versions] == ["par", "whole"]
    assert conversation.tree[versions[0]]["meta"]["error"] == "boom"
    assert sent(script) == [("user", "q")]


def test_switching_while_a_reply_streams_is_refused_with_a_reason() -> None:
    script = testing.script("one", ["two", testing.STALL])
    conversation = Conversation(script.model)
    conversation.prompt("q").result()
    first = conversation.messages[-1]["id"]
    turn = conversation.regenerate()
    done = threading.Event()

    def run() -> None:
        turn.result()
        done.set()

    threading.Thread(target=run).start()
    assert script.stalled.wait(5)
    with pytest.raises(ConversationBusy, match="cannot switch branches now") as caught:
        conversation.select(first)
    assert "stop" in caught.value.hint.lower()
    turn.stop()
    assert done.wait(5)
    conversation.select(first)  # idle again: allowed
    assert contents(conversation.messages) == ["q", "one"]


def test_a_turn_made_before_a_switch_is_refused() -> None:
    script = testing.script("one", "two", "never")
    conversation = Conversation(script.model)
    conversation.prompt("q").result()
    conversation.regenerate().result()
    stale = conversation.prompt("next")
    conversation.select(conversation.tree.siblings(conversation.messages[-1]["id"])[0])
    with pytest.raises(InvalidRequest, match="changed"):
        stale.result()
    assert len(script.requests) == 2


def test_ids_that_make_no_sense_are_refused_in_one_line() -> None:
    script = testing.script("one", "two")
    conversation = Conversation(script.model)
    conversation.prompt("q").result()
    question, reply = conversation.messages
    conversation.regenerate().result()
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: conversation.select("nope"), "No message 'nope'"),
        (lambda: conversation.regenerate(question["id"]), "only an assistant message"),
        (lambda: conversation.edit("x", conversation.messages[1]["id"]), "only a user message"),
        (lambda: conversation.regenerate(reply["id"]), "not on the branch on screen"),
        (lambda: conversation.tree.siblings("nope"), "No message 'nope'"),
    ]
    for call, words in cases:
        with pytest.raises(InvalidRequest, match=words) as caught:
            call()
        assert "\n" not in caught.value.message
    assert len(script.requests) == 2


def test_new_ids_are_unique_across_every_branch(monkeypatch: pytest.MonkeyPatch) -> None:
    script = testing.script("one", "two")
    conversation = Conversation(script.model)
    conversation.prompt("q").result()
    hidden = conversation.messages[-1]["id"]
    conversation.regenerate().result()
    conversation.select(hidden)
    shown = conversation.messages[-1]["id"]
    other = next(v for v in conversation.tree.siblings(hidden) if v != hidden)
    # The random source offers the id of a reply that is not on screen first.
    sequence = iter([other, "0000aaaa", "0000bbbb"])
    monkeypatch.setattr("nbchat.messages.secrets.token_hex", lambda n: next(sequence))
    conversation.prompt("next").result()
    ids = [m["id"] for m in conversation.tree]
    assert len(ids) == len(set(ids)) == 5
    assert shown == hidden


def test_the_tree_survives_json_with_the_branch_on_screen() -> None:
    script = testing.script("x1", "y1", "y2", "x2")
    conversation = Conversation(script.model, system="S")
    conversation.prompt("x").result()
    conversation.prompt("y").result()
    conversation.regenerate().result()
    y1 = conversation.tree.siblings(conversation.messages[-1]["id"])[0]
    conversation.select(y1)
    conversation.regenerate(conversation.messages[1]["id"]).result()
    again = Conversation.from_json(conversation.to_json())
    assert list(again.tree) == list(conversation.tree)
    assert again.messages == conversation.messages
    assert contents(again.messages) == ["x", "x2"]
    again.select(conversation.tree.siblings(again.messages[-1]["id"])[0])
    assert contents(again.messages) == ["x", "x1", "y", "y1"]  # the inner fork as left
    assert again.to_json() != conversation.to_json()  # (it changed: another branch shown)
    conversation.select(again.messages[1]["id"])
    assert again.to_json() == conversation.to_json()


def test_a_history_handed_in_may_branch() -> None:
    messages = [
        {"id": "u1", "role": "user", "content": "q"},
        {"id": "a1", "role": "assistant", "content": "one"},
        {"id": "a2", "role": "assistant", "content": "two", "parent": "u1"},
        {"id": "u0", "role": "user", "content": "other first", "parent": None},
    ]
    conversation = Conversation(testing.script("x").model, messages=messages)  # type: ignore[arg-type]
    assert contents(conversation.messages) == ["other first"]  # the last one is shown
    assert conversation.tree.children() == ["u1", "u0"]
    conversation.select("a1")
    assert contents(conversation.messages) == ["q", "one"]
    later = [*messages, {"id": "a3", "role": "assistant", "content": "", "parent": "zz"}]
    later.insert(0, {"id": "b", "role": "user", "content": "q", "parent": "a3"})
    with pytest.raises(InvalidRequest, match="does not come before it"):
        Conversation(testing.script("x").model, messages=later)  # type: ignore[arg-type]


def test_clear_forgets_every_branch() -> None:
    conversation = Conversation(testing.script("one", "two").model)
    conversation.prompt("q").result()
    conversation.regenerate().result()
    conversation.clear()
    assert conversation.messages == []
    assert len(conversation.tree) == 0
    assert conversation.tree.leaf is None
