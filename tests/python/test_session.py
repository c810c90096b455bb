"""Conversation and Turn: against the scripted demo provider, and — for the paths that
must reach the network (stop closes the response, resume's request, keys in errors) —
against the loopback emulators in ``tests/servers`` over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import threading

import pytest
from tests.interrupts import sigint_when
from tests.servers import EmulatorServer, Reply

import nbchat
from nbchat import Conversation, Turn, testing
from nbchat.errors import (
    ConversationBusy,
    InvalidOption,
    InvalidRequest,
    NbchatError,
    ServerError,
    ServerUnreachable,
    StreamInterrupted,
)
from nbchat.messages import Message
from nbchat.providers.base import Finish, ReasoningDelta, StreamEvent, TextDelta, Usage

KEY = "sk-test-0123456789abcdefSECRET"
FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def status(turn: Turn) -> str:
    return turn.status  # a plain str: mypy would narrow turn.status between asserts


def stop_when_stalled(script: testing.Script, turn: Turn) -> threading.Thread:
    """Stop ``turn`` from another thread once the scripted stream stalls."""

    def run() -> None:
        if script.stalled.wait(5):
            turn.stop()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def texts(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# -- a turn from start to end -----------------------------------------------------------


def test_prompt_streams_and_records_both_messages_with_meta() -> None:
    script = testing.script("Hello there world")
    conversation = Conversation(script.model, system="Be brief.")
    turn = conversation.prompt("Hi")
    assert status(turn) == "pending"
    assert not script.requests
    events = list(turn)
    assert texts(events) == "Hello there world" == turn.text
    assert status(turn) == "done"
    assert turn.finish_reason == "stop"
    assert turn.error is None
    user, reply = conversation.messages
    assert (user["role"], user["content"]) == ("user", "Hi")
    assert (reply["role"], reply["content"], reply["id"]) == ("assistant", turn.text, turn.id)
    meta = reply["meta"]
    assert meta["model"] == script.model
    assert meta["provider"] == "demo"
    assert meta["tokens"] == 3
    assert meta["finish_reason"] == "stop"
    assert meta["stopped"] is False
    assert meta["elapsed_s"] >= meta["ttft_s"] >= 0
    assert "error" not in meta
    assert script.requests[0].messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert conversation.current is None


def test_message_ids_are_short_and_never_repeat_within_a_conversation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Short: a reply's id travels in each of its deltas. Unique: the view keys rows by it.
    script = testing.script("a", "b")
    loaded: Message = {"id": "1a2b3c4d", "role": "user", "content": "q"}
    conversation = Conversation(script.model, messages=[loaded])
    # The random source repeats itself: the loaded id, then the first user id, then fresh.
    sequence = iter(["1a2b3c4d", "0000aaaa", "1a2b3c4d", "0000aaaa", "0000bbbb"])
    monkeypatch.setattr("nbchat.messages.secrets.token_hex", lambda n: next(sequence))
    conversation.prompt("x").result()
    ids = [m["id"] for m in conversation.messages]
    assert ids == ["1a2b3c4d", "0000aaaa", "0000bbbb"]
    monkeypatch.undo()
    conversation.prompt("y").result()
    ids = [m["id"] for m in conversation.messages]
    assert len(set(ids)) == len(ids) == 5
    assert all(len(i) == 8 and int(i, 16) >= 0 for i in ids)


def test_server_counts_win_over_counted_deltas() -> None:
    script = testing.script(
        ["a", "b", Usage(prompt_tokens=7, completion_tokens=10, tokens_per_second=5.0)]
    )
    conversation = Conversation(script.model)
    conversation.prompt("x").result()
    meta = conversation.messages[-1]["meta"]
    assert (meta["prompt_tokens"], meta["tokens"], meta["tokens_per_s"]) == (7, 10, 5.0)


def test_reasoning_is_kept_apart_from_the_text() -> None:
    script = testing.script([ReasoningDelta("think "), ReasoningDelta("hard"), "answer"])
    conversation = Conversation(script.model)
    turn = conversation.prompt("x")
    assert turn.result() == "answer"
    assert conversation.messages[-1]["reasoning"] == "think hard" == turn.reasoning
    assert conversation.messages[-1]["meta"]["tokens"] == 3  # reasoning deltas count


def test_history_is_sent_on_the_next_turn() -> None:
    script = testing.script("first reply", "second reply")
    conversation = Conversation(script.model)
    conversation.prompt("one").result()
    conversation.prompt("two").result()
    assert [(m["role"], m["content"]) for m in script.requests[1].messages] == [
        ("user", "one"),
        ("assistant", "first reply"),
        ("user", "two"),
    ]
    assert len(conversation.messages) == 4


def test_finished_turn_replays_its_events() -> None:
    script = testing.script("a b c")
    turn = Conversation(script.model).prompt("x")
    first = list(turn)
    assert list(turn) == first
    assert len(script.requests) == 1


async def test_sync_and_async_iteration_give_the_same_events() -> None:
    replies: list[testing.Reply] = [
        ["a", ReasoningDelta("r"), "b", Usage(completion_tokens=3), Finish("length")]
    ]
    sync_turn = Conversation(testing.script(*replies).model).prompt("x")
    async_turn = Conversation(testing.script(*replies).model).prompt("x")
    sync_events = await asyncio.to_thread(list, sync_turn)
    async_events = [event async for event in async_turn]
    assert sync_events == async_events
    assert sync_turn.message["meta"]["finish_reason"] == "length"
    assert async_turn.message["content"] == sync_turn.message["content"] == "ab"
    assert await async_turn.aresult() == "ab"  # replays


# -- bad input loses nothing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("a\x00b", "NUL"),
        ("bad \ud800 surrogate", "surrogate"),
        (42, "string"),
    ],
)
def test_bad_prompts_fail_before_any_request(text: object, words: str) -> None:
    script = testing.script("ok")
    conversation = Conversation(script.model)
    conversation.prompt("keep me").result()
    before = conversation.messages
    with pytest.raises(InvalidRequest, match=words):
        conversation.prompt(text)  # type: ignore[arg-type]
    assert conversation.messages == before
    assert len(script.requests) == 1


def test_unknown_option_names_the_known_ones() -> None:
    script = testing.script("ok")
    with pytest.raises(InvalidOption) as info:
        Conversation(script.model, temprature=0.2)
    assert "temperature" in info.value.hint
    assert "tokens_per_second" in info.value.hint
    conversation = Conversation(script.model)
    with pytest.raises(InvalidOption, match="seed"):
        conversation.prompt("x", seed="abc")
    assert not script.requests
    assert not conversation.messages


def test_options_per_turn_over_conversation_over_configure() -> None:
    script = testing.script("ok")
    nbchat.configure(temperature=0.1, top_p=0.9, num_ctx=4096)  # num_ctx is Ollama's
    conversation = Conversation(script.model, temperature=0.5)
    conversation.prompt("x", seed=3).result()
    conversation.prompt("y", top_p=None).result()  # None drops it for the turn
    assert dict(script.requests[0].options) == {"temperature": 0.5, "top_p": 0.9, "seed": 3}
    assert dict(script.requests[1].options) == {"temperature": 0.5}


def test_one_turn_at_a_time() -> None:
    script = testing.script(["a", testing.STALL], "b")
    conversation = Conversation(script.model)
    turn = conversation.prompt("x")
    events: list[StreamEvent] = []
    consumer = threading.Thread(target=lambda: events.extend(turn))
    consumer.start()
    assert script.stalled.wait(5)
    assert conversation.current is turn
    assert status(turn) == "streaming"
    for attempt in (
        lambda: conversation.prompt("y"),
        conversation.regenerate,
        conversation.resume,
        lambda: conversation.edit("z"),
        conversation.clear,
    ):
        with pytest.raises(ConversationBusy):
            attempt()
    turn.stop()
    consumer.join(5)
    assert not consumer.is_alive()
    assert status(turn) == "stopped"
    assert conversation.current is None
    assert conversation.prompt("y").result() == "b"


# -- stop, interrupt, failure -----------------------------------------------------------


def test_stop_from_another_thread_keeps_the_partial_marked_stopped() -> None:
    script = testing.script(["Hel", "lo", testing.STALL])
    conversation = Conversation(script.model)
    turn = conversation.prompt("x")
    stop_when_stalled(script, turn)
    events = list(turn)  # ends normally
    assert texts(events) == "Hello"
    assert status(turn) == "stopped"
    assert turn.error is None
    reply = conversation.messages[-1]
    assert reply["content"] == "Hello"
    assert reply["meta"]["stopped"] is True
    assert reply["meta"]["finish_reason"] is None


async def test_stop_during_async_iteration() -> None:
    script = testing.script(["a", testing.STALL])
    conversation = Conversation(script.model)
    turn = conversation.prompt("x")
    seen: list[StreamEvent] = []

    async def consume() -> None:
        async for event in turn:
            seen.append(event)

    task = asyncio.ensure_future(consume())
    await asyncio.to_thread(script.stalled.wait, 5)
    turn.stop()
    await asyncio.wait_for(task, 5)
    assert seen == [TextDelta("a")]
    assert status(turn) == "stopped"
    assert conversation.messages[-1]["meta"]["stopped"] is True


def test_keyboard_interrupt_stops_the_turn_keeps_the_partial_and_propagates() -> None:
    script = testing.script(["one ", "two ", "three", testing.STALL])
    conversation = Conversation(script.model)
    turn = conversation.prompt("x")
    got: list[StreamEvent] = []
    streamed_three = threading.Event()

    def consume() -> None:
        for event in turn:
            got.append(event)
            if len(got) == 3:
                streamed_three.set()  # the next wait blocks on the stalled stream

    with sigint_when(streamed_three), pytest.raises(KeyboardInterrupt):
        consume()
    assert texts(got) == "one two three"
    assert status(turn) == "stopped"
    assert conversation.current is None
    user, reply = conversation.messages
    assert user["content"] == "x"
    assert reply["content"] == "one two three"
    assert reply["meta"]["stopped"] is True


def test_leaving_the_loop_early_stops_the_turn() -> None:
    script = testing.script(["a", "b", testing.STALL])
    conversation = Conversation(script.model)
    turn = conversation.prompt("x")
    for event in turn:
        assert event == TextDelta("a")
        break
    # The generator is closed when the loop is left; the turn is recorded by then.
    assert status(turn) == "stopped"
    assert conversation.messages[-1]["meta"]["stopped"] is True


def test_failed_turn_keeps_user_message_and_partial_then_raises() -> None:
    script = testing.script(["Hel", "lo", ServerError("The model crashed.", hint="Restart it.")])
    conversation = Conversation(script.model)
    turn = conversation.prompt("Hi")
    with pytest.raises(ServerError) as info:
        list(turn)
    assert info.value.partial == "Hello"
    assert status(turn) == "error"
    assert turn.error is info.value
    user, reply = conversation.messages
    assert user["content"] == "Hi"
    assert reply["content"] == "Hello"
    assert reply["meta"]["error"] == "The model crashed."
    assert reply["meta"]["hint"] == "Restart it."
    assert reply["meta"]["finish_reason"] is None
    assert reply["meta"]["stopped"] is False
    with pytest.raises(ServerError):  # a replay raises again
        list(turn)


def test_failed_exchange_without_text_is_shown_but_not_sent() -> None:
    script = testing.script(ServerUnreachable("No server."), "fine")
    conversation = Conversation(script.model)
    with pytest.raises(ServerUnreachable):
        conversation.prompt("lost?").result()
    assert conversation.prompt("again").result() == "fine"
    assert [m["content"] for m in conversation.messages] == ["lost?", "", "again", "fine"]
    assert [m["content"] for m in script.requests[1].messages] == ["again"]


def test_unexpected_exception_is_recorded_as_an_error_too() -> None:
    script = testing.script(["part", RuntimeError("bug")])
    conversation = Conversation(script.model)
    with pytest.raises(NbchatError, match="RuntimeError: bug"):
        conversation.prompt("x").result()
    assert conversation.messages[-1]["content"] == "part"
    assert conversation.messages[-1]["meta"]["error"] == "RuntimeError: bug"


def test_a_turn_stopped_and_never_iterated_sends_and_records_nothing() -> None:
    script = testing.script("never")
    conversation = Conversation(script.model)
    turn = conversation.prompt("x")
    turn.stop()
    assert status(turn) == "stopped"
    assert not script.requests
    assert not conversation.messages
    assert conversation.current is None
    assert conversation.prompt("y").result() == "never"  # the conversation is free


def test_a_turn_stopped_before_its_first_step_keeps_the_prompt() -> None:
    # A Stop that lands between making a turn and iterating it (the widget's task has not
    # run yet): nothing is sent, but what the user typed is kept, with an empty reply.
    script = testing.script("never")
    conversation = Conversation(script.model)
    turn = conversation.prompt("Keep me")
    turn.stop()
    assert list(turn) == []
    assert status(turn) == "stopped"
    assert not script.requests
    user, reply = conversation.messages
    assert (user["role"], user["content"]) == ("user", "Keep me")
    assert (reply["role"], reply["content"], reply["id"]) == ("assistant", "", turn.id)
    assert reply["meta"]["stopped"] is True
    assert reply["meta"]["finish_reason"] is None
    assert conversation.current is None
    assert list(turn) == []  # a replay: still nothing, recorded once
    assert len(conversation.messages) == 2


async def test_an_async_turn_stopped_before_its_first_step_keeps_the_prompt() -> None:
    script = testing.script("never")
    conversation = Conversation(script.model)
    turn = conversation.prompt("Keep me")
    turn.stop()
    assert [event async for event in turn] == []
    assert not script.requests
    assert [(m["role"], m["content"]) for m in conversation.messages] == [
        ("user", "Keep me"),
        ("assistant", ""),
    ]
    assert conversation.messages[-1]["meta"]["stopped"] is True


def test_a_turn_made_before_the_conversation_changed_is_refused() -> None:
    script = testing.script("ok")
    conversation = Conversation(script.model)
    stale = conversation.prompt("first")
    conversation.prompt("second").result()
    with pytest.raises(InvalidRequest, match="changed"):
        list(stale)
    assert [m["content"] for m in conversation.messages] == ["second", "ok"]


def test_the_turn_lifecycle_refuses_moves_its_table_does_not_allow() -> None:
    from nbchat.session.turn import _FINAL, _MOVES, _State

    # Every state can end: a path of legal moves leads from it to a recorded state.
    for start in _State:
        seen, edge = {start}, {start}
        while edge:
            edge = {to for state in edge for to in _MOVES[state]} - seen
            seen |= edge
        assert start in _FINAL or seen & _FINAL, start
    turn = Conversation(testing.script("x").model).prompt("x")
    with turn._lock, pytest.raises(RuntimeError, match="from PENDING to DONE"):
        turn._move(_State.DONE)
    assert status(turn) == "pending"
    turn.result()
    with turn._lock:
        assert not turn._move(_State.STREAMING)  # recorded: it stays as it is
    assert status(turn) == "done"


# -- regenerate, resume, edit -----------------------------------------------------------


def test_regenerate_replaces_the_last_reply_and_retries_a_failed_one() -> None:
    script = testing.script(["half", ServerError("boom")], "whole")
    conversation = Conversation(script.model)
    with pytest.raises(ServerError):
        conversation.prompt("q").result()
    failed_id = conversation.messages[-1]["id"]
    turn = conversation.regenerate()
    assert turn.result() == "whole"
    user, reply = conversation.messages
    assert user["content"] == "q"
    assert reply["content"] == "whole"
    assert reply["id"] != failed_id
    assert "error" not in reply["meta"]
    assert [m["content"] for m in script.requests[1].messages] == ["q"]


def test_resume_sends_the_partial_last_and_appends_to_the_same_message() -> None:
    script = testing.script(["The answer ", "is", testing.STALL], [" 42."])
    conversation = Conversation(script.model)
    turn = conversation.prompt("q")
    stop_when_stalled(script, turn)
    turn.result()
    stopped = conversation.messages[-1]
    resumed = conversation.resume()
    assert resumed.id == stopped["id"]
    assert resumed.text == "The answer is"
    events = list(resumed)
    assert texts(events) == " 42."  # only the new text streams
    assert resumed.text == "The answer is 42."
    assert [(m["role"], m["content"]) for m in script.requests[1].messages] == [
        ("user", "q"),
        ("assistant", "The answer is"),
    ]
    _user, reply = conversation.messages
    assert reply["id"] == stopped["id"]
    assert reply["content"] == "The answer is 42."
    assert reply["meta"]["tokens"] == 3
    assert reply["meta"]["stopped"] is False
    assert reply["meta"]["finish_reason"] == "stop"


def test_resume_continues_a_reply_cut_by_max_tokens() -> None:
    conversation = Conversation("demo:showcase", tokens_per_second=0)
    whole = Conversation("demo:showcase", tokens_per_second=0).prompt("hi").result()
    cut = conversation.prompt("hi", max_tokens=20)
    cut.result()
    assert cut.finish_reason == "length"
    assert len(cut.text) < len(whole)
    assert conversation.resume().result() == whole
    assert conversation.messages[-1]["content"] == whole


def test_edit_replaces_the_last_question_and_its_reply() -> None:
    script = testing.script("reply one", "reply two", "reply three")
    conversation = Conversation(script.model)
    conversation.prompt("first").result()
    conversation.prompt("secnd").result()
    turn = conversation.edit("second")
    assert turn.user_message is not None
    assert turn.user_message["content"] == "second"
    assert turn.result() == "reply three"
    assert [m["content"] for m in conversation.messages] == [
        "first",
        "reply one",
        "second",
        "reply three",
    ]
    assert [m["content"] for m in script.requests[2].messages] == [
        "first",
        "reply one",
        "second",
    ]


def test_nothing_to_regenerate_resume_or_edit() -> None:
    conversation = Conversation(testing.script("x").model)
    with pytest.raises(InvalidRequest):
        conversation.regenerate()
    with pytest.raises(InvalidRequest):
        conversation.resume()
    with pytest.raises(InvalidRequest):
        conversation.edit("a")


def test_clear_forgets_everything() -> None:
    conversation = Conversation(testing.script("x").model)
    conversation.prompt("a").result()
    conversation.clear()
    assert conversation.messages == []


# -- restoring and saving ---------------------------------------------------------------


def test_messages_given_at_start_are_history_and_system_is_lifted() -> None:
    script = testing.script("ok")
    conversation = Conversation(
        script.model,
        messages=[
            {"role": "system", "content": "Be terse."},  # type: ignore[typeddict-item]
            {"role": "user", "content": "a"},  # type: ignore[typeddict-item]
            {"id": "keep", "role": "assistant", "content": "b"},
        ],
    )
    assert conversation.system == "Be terse."
    assert [m["content"] for m in conversation.messages] == ["a", "b"]
    assert conversation.messages[1]["id"] == "keep"
    with pytest.raises(InvalidRequest, match="role"):
        Conversation(script.model, messages=[{"id": "1", "role": "tool", "content": "x"}])  # type: ignore[typeddict-item]


def test_given_messages_without_parents_become_one_branch() -> None:
    conversation = Conversation(
        testing.script("ok").model,
        messages=[
            {"role": "system", "content": "S"},  # type: ignore[typeddict-item]
            {"id": "u1", "role": "user", "content": "a"},
            {"id": "a1", "role": "assistant", "content": "b"},
            {"id": "u2", "role": "user", "content": "c", "parent": "elsewhere"},  # a slice
        ],
    )
    assert [m.get("parent") for m in conversation.messages] == [None, "u1", "a1"]


def test_the_messages_of_a_notebook_saved_before_parents_load_as_one_branch() -> None:
    # The ``messages`` trait of a chat, as a notebook saved it (widget state, schema 1).
    saved = json.loads((FIXTURES / "widget-messages-v1.json").read_text(encoding="utf-8"))
    assert all("parent" not in m for m in saved)
    conversation = Conversation(testing.script("ok").model, messages=saved)
    ids = [m["id"] for m in saved]
    assert [m["id"] for m in conversation.messages] == ids
    assert [m.get("parent") for m in conversation.messages] == [None, *ids[:-1]]
    assert conversation.prompt("Go on").result() == "ok"
    assert conversation.messages[-2].get("parent") == ids[-1]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"parent": 3}, r"messages\[1\] has a 'parent' that is not a message id"),
        ({"parent": "u1"}, r"messages\[1\] has parent 'u1', which does not come before it"),
        ({"parts": "text"}, r"messages\[1\] has 'parts' that is not a list"),
        ({"parts": [{"type": "sound"}]}, r"messages\[1\].parts\[0\] has type 'sound'"),
        ({"parts": [{"type": "image", "id": "x"}]}, r"\('image'\) needs str 'mime'"),
    ],
)
def test_malformed_parents_and_parts_are_refused_in_one_line(
    given: dict[str, object], words: str
) -> None:
    messages = [
        {"id": "u0", "role": "user", "content": "a"},
        {"id": "a0", "role": "assistant", "content": "b"},
        {"id": "u1", "role": "user", "content": "c"},
    ]
    messages[1].update(given)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match=words) as caught:
        Conversation(testing.script("x").model, messages=messages)  # type: ignore[arg-type]
    assert "\n" not in caught.value.message


def test_every_message_recorded_names_the_one_before_it_as_parent() -> None:
    conversation = Conversation(testing.script("one", "two", "three", "four").model)

    def parents_are_a_chain() -> None:
        messages = conversation.messages
        ids = [m["id"] for m in messages]
        assert [m.get("parent") for m in messages] == [None, *ids[:-1]]

    conversation.prompt("a").result()
    parents_are_a_chain()
    conversation.prompt("b").result()
    conversation.regenerate().result()
    parents_are_a_chain()
    conversation.resume().result()
    parents_are_a_chain()
    conversation.edit("c").result()
    parents_are_a_chain()
    assert [m["content"] for m in conversation.messages] == ["a", "one", "c", "four"]


def test_json_round_trip_is_lossless(tmp_path: pathlib.Path) -> None:
    script = testing.script(["Some $x^2$ and ", "```py\nx = 1\n```"], ["par", ServerError("boom")])
    conversation = Conversation(script.model, system="S", temperature=0.3, seed=1)
    conversation.prompt("q1").result()
    with pytest.raises(ServerError):
        conversation.prompt("q2").result()
    text = conversation.to_json()
    again = Conversation.from_json(text)
    assert again.messages == conversation.messages
    assert (again.model, again.system, again.options) == (
        conversation.model,
        conversation.system,
        conversation.options,
    )
    assert again.to_json() == text
    path = f"{tmp_path}/talk.json"
    conversation.save(path)
    assert Conversation.load(path).messages == conversation.messages
    assert Conversation.load(path, model="demo:echo").model == "demo:echo"


def test_save_as_markdown_and_html(tmp_path: pathlib.Path) -> None:
    conversation = Conversation(testing.script("Reply with <b>tags</b>").model)
    conversation.prompt("q").result()
    conversation.save(f"{tmp_path}/t.md")
    conversation.save(f"{tmp_path}/t.html")
    with open(f"{tmp_path}/t.md", encoding="utf-8") as file:
        assert file.read() == conversation.to_markdown()
    with open(f"{tmp_path}/t.html", encoding="utf-8") as file:
        assert "&lt;b&gt;tags&lt;/b&gt;" in file.read()


def test_no_api_key_in_reprs_json_markdown_or_errors() -> None:
    script = testing.script(["Hi ", ServerError(f"Rejected key {KEY}", hint=f"Check {KEY[:10]}")])
    conversation = Conversation(script.model, api_key=KEY)
    assert conversation.provider.has_api_key
    with pytest.raises(ServerError) as info:
        conversation.prompt("q").result()
    shown = [
        str(info.value),
        repr(info.value),
        repr(conversation),
        repr(conversation.resolution),
        repr(conversation.provider),
        repr(conversation.current),
        conversation.to_json(),
        conversation.to_markdown(),
        conversation.to_html(),
        json.dumps(conversation.messages),
    ]
    for text in shown:
        assert KEY not in text
        assert KEY[:8] not in text
        assert KEY[-8:] not in text
    assert "[redacted]" in conversation.messages[-1]["meta"]["error"]


def test_stream_interrupted_keeps_text_for_continue() -> None:
    script = testing.script(["partial", StreamInterrupted("Connection lost.")], [" rest"])
    conversation = Conversation(script.model)
    with pytest.raises(StreamInterrupted):
        conversation.prompt("q").result()
    assert conversation.resume().result() == "partial rest"
    assert "error" not in conversation.messages[-1]["meta"]


# -- over real HTTP (loopback emulators) ------------------------------------------------

PIECES = ["one", " two", " three", " four", " five"]


def stream_until(turn: Turn, count: int) -> tuple[threading.Thread, threading.Event, list[str]]:
    """Iterate ``turn`` in a thread; the event is set once ``count`` text pieces arrived."""
    got: list[str] = []
    reached = threading.Event()

    def run() -> None:
        for event in turn:
            if isinstance(event, TextDelta):
                got.append(event.text)
                if len(got) == count:
                    reached.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, reached, got


def left_early(server: EmulatorServer) -> bool:
    """Wait until the last chat request is over; did the client hang up before the end?"""
    record = server.chat_requests[-1]
    assert server.wait_for(record.done.is_set)
    return record.client_left


@pytest.mark.parametrize(
    ("flavour", "model"), [("ollama", "ollama:llama3.2"), ("vllm", "openai:m")]
)
def test_stop_closes_the_http_response(flavour: str, model: str) -> None:
    with EmulatorServer(flavour, behaviour="stall_after=3") as server:
        server.enqueue(Reply(tokens=PIECES))
        conversation = Conversation(model, base_url=server.base_url)
        turn = conversation.prompt("count")
        thread, reached, got = stream_until(turn, 3)
        assert reached.wait(10)
        turn.stop()
        thread.join(10)
        assert left_early(server)  # the server saw the client go: generation stops
    assert got == PIECES[:3]
    assert status(turn) == "stopped"
    assert conversation.messages[-1]["content"] == "one two three"


def test_resume_sends_the_partial_as_the_last_assistant_message() -> None:
    with EmulatorServer("ollama", behaviour="stall_after=2") as server:
        server.enqueue(Reply(tokens=PIECES), Reply(tokens=[" and", " on"]))
        conversation = Conversation("ollama:llama3.2", base_url=server.base_url)
        turn = conversation.prompt("count")
        thread, reached, _ = stream_until(turn, 2)
        assert reached.wait(10)
        turn.stop()
        thread.join(10)
        server.behaviour = None
        assert conversation.resume().result() == "one two and on"
        sent = server.chat_requests[-1].json()["messages"]
    assert sent == [
        {"role": "user", "content": "count"},
        {"role": "assistant", "content": "one two"},
    ]
    (reply,) = [m for m in conversation.messages if m["role"] == "assistant"]
    assert reply["id"] == turn.id
    assert reply["content"] == "one two and on"
    assert reply["meta"]["stopped"] is False


def test_keyboard_interrupt_closes_the_http_response() -> None:
    with EmulatorServer("ollama", behaviour="stall_after=3") as server:
        server.enqueue(Reply(tokens=PIECES))
        conversation = Conversation("ollama:llama3.2", base_url=server.base_url)
        turn = conversation.prompt("count")
        got: list[str] = []
        three = threading.Event()

        def consume() -> None:
            for event in turn:
                if isinstance(event, TextDelta):
                    got.append(event.text)
                    if len(got) == 3:
                        three.set()

        with sigint_when(three), pytest.raises(KeyboardInterrupt):
            consume()
        assert left_early(server)
    assert status(turn) == "stopped"
    assert conversation.messages[-1]["content"] == "one two three"
    assert conversation.messages[-1]["meta"]["stopped"] is True


async def test_async_stop_closes_the_http_response() -> None:
    with EmulatorServer("openai", behaviour="stall_after=2") as server:
        server.enqueue(Reply(tokens=PIECES))
        conversation = Conversation("openai:gpt-4o-mini", base_url=server.base_url, api_key=KEY)
        turn = conversation.prompt("count")
        seen: list[StreamEvent] = []
        two = asyncio.Event()

        async def consume() -> None:
            async for event in turn:
                seen.append(event)
                if texts(seen) == "one two":
                    two.set()

        task = asyncio.ensure_future(consume())
        await asyncio.wait_for(two.wait(), 10)
        turn.stop()
        await asyncio.wait_for(task, 10)
        assert await asyncio.to_thread(left_early, server)
    assert status(turn) == "stopped"


def test_a_mid_stream_error_keeps_the_partial_and_no_key_leaks() -> None:
    with EmulatorServer("openai", api_key=KEY, behaviour="error_after=2,leak_key") as server:
        server.enqueue(Reply(tokens=PIECES))
        conversation = Conversation("openai:gpt-4o-mini", base_url=server.base_url, api_key=KEY)
        with pytest.raises(NbchatError) as info:
            conversation.prompt("count").result()
        assert "authorization" in server.chat_requests[-1].headers  # the key was sent
    assert info.value.partial == "one two"
    assert "[redacted]" in str(info.value)  # the server did echo it
    reply = conversation.messages[-1]
    assert reply["content"] == "one two"
    assert reply["meta"]["error"]
    for shown in (str(info.value), repr(info.value), conversation.to_json()):
        assert KEY not in shown
        assert KEY[:8] not in shown
