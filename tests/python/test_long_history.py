"""A long conversation costs each new turn the same bytes on the widget's comm as a short one.

Not a timing test: what the widget sends is recorded at the kernel (``tests.comms``) and
counted, for one turn at the start of a chat and for one after hundreds of turns.
"""

from __future__ import annotations

import json
import typing

import pytest
from tests.comms import branch, custom, from_ui, synced, wire
from tests.python.widget_rig import until

from nbchat import testing
from nbchat.messages import Message
from nbchat.session import Conversation
from nbchat.widget import Chat

#: What a turn may cost beyond twice its own JSON: the update envelopes (keys, leaf, status),
#: start/done and each delta's few fields.
ENVELOPE = 4096
REPLY = "The Gaussian integral: $\\int_{-\\infty}^{\\infty} e^{-x^2}\\,dx = \\sqrt{\\pi}$. " * 20


@pytest.fixture(autouse=True)
def _recorded(recording_comm: None) -> None:
    """Every widget here gets a :class:`tests.comms.RecordingComm`."""


def history(turns: int) -> list[Message]:
    out: list[Message] = []
    for i in range(turns):
        out.append({"id": f"u{i:05d}", "role": "user", "content": f"Question {i}?"})
        out.append({"id": f"a{i:05d}", "role": "assistant", "content": REPLY, "meta": {}})
    return out


def size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


async def one_turn(turns: int) -> tuple[Chat, int, int]:
    """A chat with ``turns`` before; one UI turn: (chat, bytes it sent, the turn's JSON)."""
    script = testing.script(REPLY)
    chat = Chat(conversation=Conversation(script.model, messages=history(turns)))
    before = len(wire(chat).log)
    from_ui(chat, kind="submit", text="One more?")
    await until(lambda: bool(custom(chat, "done")) and chat.status == "idle")
    sent = [s for s in wire(chat).log[before:] if s.msg_type == "comm_msg"]
    payload = sum(size(s.data) for s in sent)
    return chat, payload, size(chat.messages[-2:])


async def test_a_turn_after_five_hundred_costs_what_the_first_one_costs() -> None:
    _, fresh, fresh_turn = await one_turn(0)
    chat, deep, deep_turn = await one_turn(500)
    assert len(chat.messages) == 1002
    assert deep <= 2 * deep_turn + ENVELOPE, f"{deep} B for a {deep_turn} B turn"
    # Depth adds nothing but the longer ids of the messages the turn hangs from.
    assert deep - fresh <= 64 + (deep_turn - fresh_turn), (fresh, deep)


async def test_every_update_of_a_turn_holds_only_its_own_messages() -> None:
    chat, _, _ = await one_turn(300)
    updates = [s.data["state"] for s in wire(chat).log if s.data.get("method") == "update"]
    assert len(updates) == 2  # the prompt as the turn starts, the reply as it ends
    prompt, reply = chat.messages[-2:]
    assert {k for k in updates[0] if k.startswith("m:")} == {f"m:{prompt['id']}"}
    assert {k for k in updates[1] if k.startswith("m:")} == {f"m:{reply['id']}"}
    assert all(k.startswith(("m:", "c:")) or k in ("leaf", "status") for u in updates for k in u)


async def test_the_whole_conversation_is_in_every_full_state_a_late_view_reads() -> None:
    chat, _, _ = await one_turn(300)
    # What a front end that joins now gets (request_state, comm_open) and nbclient saves.
    full = chat.get_state()
    assert branch(full) == chat.messages
    assert len(chat.messages) == 602
    assert all(v is not None for k, v in full.items() if k.startswith(("m:", "c:")))
    # And what a front end that followed every update holds is the same.
    assert branch(synced(chat)) == chat.messages
    # A request_state from the front end answers with all of it.
    comm = wire(chat)
    comm.handle_msg(
        {"content": {"data": {"method": "request_state"}}, "buffers": []}  # as ipywidgets sends
    )
    answer = typing.cast(dict[str, typing.Any], comm.log[-1].data["state"])
    assert branch(answer) == chat.messages


async def test_regenerate_at_depth_sends_only_the_new_reply_and_its_siblings() -> None:
    script = testing.script("first", "again")
    chat = Chat(conversation=Conversation(script.model, messages=history(200)))
    for command in ({"kind": "submit", "text": "q"}, {"kind": "regenerate"}):
        ends = len(custom(chat, "done"))
        from_ui(chat, **command)
        await until(lambda: len(custom(chat, "done")) > ends and chat.status == "idle")  # noqa: B023
    last = [s.data["state"] for s in wire(chat).log if s.data.get("method") == "update"][-1]
    # The new reply, and the list of the question's replies: the earlier one stays (#12).
    question = chat.messages[-1]["parent"]
    assert sorted(k for k in last if k.startswith(("m:", "c:"))) == [
        f"c:{question}",
        f"m:{chat.messages[-1]['id']}",
    ]
    assert len(last[f"c:{question}"]) == 2
    assert branch(synced(chat)) == chat.messages
    assert chat.messages[-1]["content"] == "again"
