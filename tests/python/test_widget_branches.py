"""The widget's side of branches, files and export: commands from the front end, what the
state keys say afterwards, and what is refused (with a notice the user sees)."""

from __future__ import annotations

import json
import pathlib

import pytest
from tests.comms import branch, custom, from_ui, states, synced
from tests.python.widget_rig import ui_turn, until

from nbchat import testing, transcript
from nbchat.errors import ConversationBusy, InvalidRequest
from nbchat.session import Conversation, autosave
from nbchat.widget import SWITCH_BUSY, Chat

pytestmark = pytest.mark.usefixtures("recording_comm")


def contents(chat: Chat) -> list[str]:
    return [m["content"] for m in chat.messages]


async def test_regenerate_twice_keeps_three_versions_and_switch_walks_them() -> None:
    chat = Chat(testing.script("one", "two", "three").model)
    await ui_turn(chat, kind="submit", text="q")
    await ui_turn(chat, kind="regenerate")
    await ui_turn(chat, kind="regenerate")
    question = chat.messages[0]["id"]
    state = synced(chat)
    versions = state[f"c:{question}"]
    assert [state[f"m:{v}"]["content"] for v in versions] == ["one", "two", "three"]
    assert contents(chat) == ["q", "three"]
    for version, text in zip(versions, ["one", "two", "three"], strict=True):
        before = len(states(chat))
        from_ui(chat, kind="switch", id=version)
        assert contents(chat) == ["q", text]
        (update,) = states(chat)[before:]
        assert update == {"leaf": version}  # a switch sends the leaf, nothing else
        assert branch(synced(chat)) == chat.messages == chat.conversation.messages


async def test_switching_while_a_reply_streams_is_refused_with_a_notice() -> None:
    script = testing.script("one", ["two", testing.STALL])
    chat = Chat(script.model)
    await ui_turn(chat, kind="submit", text="q")
    first = chat.messages[-1]["id"]
    from_ui(chat, kind="regenerate")
    await until(lambda: script.stalled.is_set())
    leaf = chat.leaf
    from_ui(chat, kind="switch", id=first)
    assert custom(chat, "notice")[-1]["text"] == SWITCH_BUSY
    assert chat.leaf == leaf
    with pytest.raises(ConversationBusy, match="switch versions once it has ended"):
        chat.select(first)
    from_ui(chat, kind="stop")
    await until(lambda: chat.status == "idle")
    chat.select(first)  # idle: from code too
    assert contents(chat) == ["q", "one"]


async def test_edit_of_a_question_and_switch_back() -> None:
    chat = Chat(testing.script("r1", "r2", "r-edit").model)
    await ui_turn(chat, kind="submit", text="a")
    await ui_turn(chat, kind="submit", text="b")
    b = chat.messages[2]
    await ui_turn(chat, kind="edit", text="B!", id=b["id"])
    assert contents(chat) == ["a", "r1", "B!", "r-edit"]
    edited = chat.messages[2]["id"]
    assert synced(chat)[f"c:{b['parent']}"] == [b["id"], edited]
    from_ui(chat, kind="switch", id=b["id"])
    assert contents(chat) == ["a", "r1", "b", "r2"]
    from_ui(chat, kind="switch", id=edited)
    assert contents(chat) == ["a", "r1", "B!", "r-edit"]


async def test_a_switch_to_an_unknown_message_is_an_error_line() -> None:
    chat = Chat(testing.script("x").model)
    from_ui(chat, kind="switch", id="nope")
    assert custom(chat, "error")[-1]["message"] == "No message 'nope' in this conversation."
    from_ui(chat, kind="switch")
    assert custom(chat, "error")[-1]["message"] == "Switch to which message?"


async def test_export_answers_with_the_kernel_s_markdown_and_json() -> None:
    chat = Chat(testing.script("one", "two").model, system="S")
    await ui_turn(chat, kind="submit", text="q")
    await ui_turn(chat, kind="regenerate")
    from_ui(chat, kind="export", format="markdown", request=7)
    answer = custom(chat, "exported")[-1]
    assert answer == {
        "kind": "exported",
        "request": 7,
        "format": "markdown",
        "filename": "chat.md",
        "text": chat.to_markdown(),
    }
    from_ui(chat, kind="export", format="json", request=8)
    answer = custom(chat, "exported")[-1]
    assert (answer["request"], answer["filename"]) == (8, "chat.json")
    assert len(transcript.loads(answer["text"]).messages) == 3  # every branch
    from_ui(chat, kind="export", format="pdf", request=9)
    assert custom(chat, "error")[-1]["message"] == "Cannot export as 'pdf'."


def test_to_html_says_math_stays_tex() -> None:
    chat = Chat(testing.script("$x^2$ and <b>bold</b>").model)
    chat.ask("q")
    html = chat.to_html()
    assert "$x^2$" in html
    assert "&lt;b&gt;" in html
    assert "<script" not in html
    assert "TeX" in (Chat.to_html.__doc__ or "")


async def test_a_chat_with_file_restores_branches_and_keeps_saving(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "talk.json"
    script = testing.script("one", "two", "three")
    chat = Chat(script.model, file=path)
    await ui_turn(chat, kind="submit", text="q")
    await ui_turn(chat, kind="regenerate")
    first = chat.conversation.tree.siblings(chat.messages[-1]["id"])[0]
    from_ui(chat, kind="switch", id=first)
    saved = autosave.read(path)
    assert saved is not None
    assert saved.transcript.leaf == first  # the switch is on disk too

    again = Chat(file=path)  # the cell run again (same kernel): takes the file over
    assert again.messages == chat.messages
    assert synced(again)["leaf"] == first
    assert len(synced(again)[f"c:{again.messages[0]['id']}"]) == 2
    await ui_turn(again, kind="submit", text="more")
    assert [m["content"] for m in autosave.read(path).transcript.messages][-2:] == [  # type: ignore[union-attr]
        "more",
        "three",
    ]
    await ui_turn(chat, kind="submit", text="old chat")  # the old chat no longer writes
    assert custom(chat, "notice")[-1]["text"].startswith("This chat no longer saves to talk.json")
    again.close()
    assert again.conversation.file is None
    assert Conversation(file=path).file == str(path)  # released


def test_the_saved_server_notice_reaches_the_view(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "talk.json"
    data = json.loads(Conversation("openai:tiny", base_url="http://10.9.9.9:1/v1").to_json())
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    with pytest.warns(UserWarning, match="was saved with the server http://10.9.9.9:1/v1"):
        chat = Chat(file=path)
    assert not custom(chat, "notice")
    from_ui(chat, kind="hello")
    (notice,) = custom(chat, "notice")
    assert "this chat uses the configured http://127.0.0.1:9/v1" in notice["text"]


def test_file_and_conversation_together_are_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(InvalidRequest, match="not both"):
        Chat(conversation=Conversation("demo:echo"), file=tmp_path / "talk.json")


async def test_an_edit_of_the_first_question_lists_both_in_the_roots_key() -> None:
    # The front end's ‹ 1/2 › for a first question reads `c:` (the messages without parent).
    chat = Chat(testing.script("r1", "r-edit").model)
    await ui_turn(chat, kind="submit", text="a")
    a = chat.messages[0]
    await ui_turn(chat, kind="edit", text="A!", id=a["id"])
    assert contents(chat) == ["A!", "r-edit"]
    edited = chat.messages[0]
    assert edited.get("parent") is None
    assert synced(chat)["c:"] == [a["id"], edited["id"]]
    # …and the update that made the edit carried that key to the view.
    assert any(state.get("c:") == [a["id"], edited["id"]] for state in states(chat))


def test_regenerate_and_edit_from_code_update_the_widget() -> None:
    chat = Chat(testing.script("one", "two", "three", "four").model)
    assert chat.ask("q") == "one"
    first = chat.messages[-1]["id"]
    assert chat.regenerate() == "two"
    assert contents(chat) == ["q", "two"]
    with pytest.raises(InvalidRequest, match="not on the branch on screen"):
        chat.regenerate(first)  # versions hidden by a switch are selected first
    assert chat.regenerate(chat.messages[-1]["id"]) == "three"
    question = chat.messages[0]["id"]
    state = synced(chat)
    assert [state[f"m:{v}"]["content"] for v in state[f"c:{question}"]] == ["one", "two", "three"]
    assert branch(state) == chat.messages == chat.conversation.messages
    assert custom(chat, "done")  # streamed into the view, as ask does

    assert chat.edit("Q!", question) == "four"
    assert contents(chat) == ["Q!", "four"]
    assert synced(chat)["c:"] == [question, chat.messages[0]["id"]]
    assert branch(synced(chat)) == chat.messages
    chat.select(question)
    assert contents(chat) == ["q", "three"]
    with pytest.raises(InvalidRequest):
        chat.edit("x", chat.messages[-1]["id"])  # a reply is not a question
    with pytest.raises(InvalidRequest):
        chat.regenerate(question)  # nor a question a reply
    assert chat.status == "idle"
