"""A conversation's images, offline (the demo and scripted replies): the user message's
parts, edits, saving and loading, exports, one-call helpers and the magics."""

from __future__ import annotations

import base64
import pathlib
import typing

import numpy
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from matplotlib.figure import Figure
from tests.pictures import decoded, encoded, flat, photo

import nbchat
from nbchat import Conversation, magics, testing, transcript
from nbchat.errors import InvalidImage, InvalidRequest
from nbchat.images import THUMBNAIL_LIMIT, Image
from nbchat.messages import ImagePart, Message, image_parts


def sent(request: typing.Any) -> list[list[tuple[str, tuple[int, int]]]]:
    """What each wire message of a scripted request carried: format and size per image."""
    return [[decoded(i.data) for i in m.get("images", [])] for m in request.messages]


def test_the_user_message_holds_its_text_then_its_images() -> None:
    chat = Conversation("demo:echo", tokens_per_second=0)

    reply = chat.prompt("Compare these.", images=[flat(64, 48), photo(40, 30)]).result()

    question = chat.messages[0]
    assert question["content"] == "Compare these."
    parts = question.get("parts", [])
    assert parts[0] == {"type": "text", "text": "Compare these."}
    assert [(p["mime"], p["width"], p["height"]) for p in image_parts(question)] == [
        ("image/png", 64, 48),
        ("image/png", 40, 30),
    ]
    assert all(len(p.get("thumbnail", "")) <= THUMBNAIL_LIMIT for p in image_parts(question))
    assert reply.endswith("I received 2 images: 64×48 PNG, 40×30 PNG.")


def test_an_image_may_come_without_a_list_and_without_words() -> None:
    chat = Conversation("demo:echo", tokens_per_second=0)

    assert chat.prompt("", images=flat(10, 10)).result() == "I received 1 image: 10×10 PNG."
    with pytest.raises(InvalidRequest, match="empty"):
        chat.prompt("  ", images=[])


def test_max_image_side_is_the_conversation_s() -> None:
    script = testing.script("ok")
    chat = Conversation(script.model, max_image_side=100)

    chat.prompt("Small?", images=[flat(400, 200)]).result()

    assert sent(script.requests[0])[-1] == [("PNG", (100, 50))]
    with pytest.raises(InvalidRequest, match="max_image_side"):
        Conversation("demo", max_image_side=0)
    with pytest.raises(InvalidRequest, match="max_history_images"):
        Conversation("demo", max_history_images=-1)


def test_an_edit_keeps_the_question_s_images_unless_given_others() -> None:
    script = testing.script("one", "two", "three")
    chat = Conversation(script.model)
    chat.prompt("What is it?", images=[flat(20, 10)]).result()

    chat.edit("What colour is it?").result()
    chat.edit("And this?", images=[flat(30, 10)]).result()

    assert sent(script.requests[1]) == [[("PNG", (20, 10))]]
    assert sent(script.requests[2]) == [[("PNG", (30, 10))]]
    assert [(p["width"]) for p in image_parts(chat.messages[0])] == [30]


def test_save_and_load_keep_the_images_byte_for_byte(tmp_path: pathlib.Path) -> None:
    chat = Conversation("demo:echo", tokens_per_second=0)
    jpeg = encoded(photo(320, 240), "JPEG")
    chat.prompt("Look.", images=[jpeg, flat(64, 48)]).result()
    path = tmp_path / "talk.json"

    chat.save(str(path))
    loaded = Conversation.load(str(path))

    ids = [p["id"] for p in image_parts(chat.messages[0])]
    assert [loaded.images.get(i) for i in ids] == [chat.images.get(i) for i in ids]
    assert loaded.images.get(ids[0]) == jpeg  # a small JPEG is never re-encoded
    assert sorted(f.name for f in (tmp_path / "talk.json.images").iterdir()) == sorted(
        [f"{ids[0]}.jpeg", f"{ids[1]}.png"]
    )
    assert jpeg not in path.read_bytes()  # the JSON holds thumbnails, not the images
    again = loaded.prompt("Again?").result()
    assert again == "Again?"


def test_a_loaded_file_without_its_images_keeps_the_thumbnails(tmp_path: pathlib.Path) -> None:
    chat = Conversation("demo:echo", tokens_per_second=0)
    chat.prompt("Look.", images=[flat(64, 48)]).result()
    path = tmp_path / "talk.json"
    chat.save(str(path))
    for file in (tmp_path / "talk.json.images").iterdir():
        file.unlink()

    with pytest.warns(UserWarning, match="1 image"):
        loaded = Conversation.load(str(path))

    assert image_parts(loaded.messages[0]) == image_parts(chat.messages[0])
    assert loaded.prompt("Still here?").result() == "Still here?"


def test_an_autosaved_conversation_reopens_with_its_images(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "auto.json"
    chat = Conversation("demo:echo", tokens_per_second=0, file=path)
    chat.prompt("Look.", images=[photo(50, 40)]).result()
    chat.close()

    again = Conversation("demo:echo", tokens_per_second=0, file=path)

    part = image_parts(again.messages[0])[0]
    assert again.images.get(part["id"]) == chat.images.get(part["id"])
    again.close()


def test_exports_embed_thumbnails_and_the_static_transcript_shows_placeholders() -> None:
    chat = Conversation("demo:echo", tokens_per_second=0)
    chat.prompt("Look.", images=[flat(1024, 768)]).result()
    thumbnail = image_parts(chat.messages[0])[0].get("thumbnail", "")

    exported = chat.to_markdown()
    page = chat.to_html()
    static = transcript.to_markdown(chat.messages, inert=True)

    assert f"![image: 1024×768 PNG]({thumbnail})" in exported
    assert f'<img src="{thumbnail}" alt="image: 1024×768 PNG"' in page
    assert "\\[image: 1024×768 PNG\\]" in static
    assert "data:" not in static
    assert "<p>[image: 1024×768 PNG]</p>" in transcript.to_html(chat.messages)


def test_a_thumbnail_from_a_file_is_embedded_only_if_it_is_an_image_data_url() -> None:
    part: ImagePart = {
        "type": "image",
        "id": "0" * 16,
        "mime": "image/png",
        "width": 1,
        "height": 1,
        "thumbnail": "https://tracker.example/pixel.png",
    }
    message: Message = {"id": "u", "role": "user", "content": "x", "parts": [part]}

    exported = transcript.to_markdown([message], thumbnails=True)

    assert "tracker" not in exported
    assert "\\[image: 1×1 PNG\\]" in exported


def test_ask_and_stream_take_images() -> None:
    figure = Figure(figsize=(2, 1), dpi=50)

    assert nbchat.ask("Describe it", "demo:echo", images=[figure], tokens_per_second=0).endswith(
        "I received 1 image: 100×50 PNG."
    )
    text = "".join(nbchat.stream("Two", "demo:echo", images=[flat(4, 4), flat(5, 4)]))
    assert text.endswith("I received 2 images: 4×4 PNG, 5×4 PNG.")


def test_an_image_data_url_and_an_image_are_accepted_by_prompt() -> None:
    chat = Conversation("demo:echo", tokens_per_second=0)
    url = "data:image/png;base64," + base64.b64encode(encoded(flat(6, 4), "PNG")).decode()
    image = Image(encoded(flat(7, 4), "PNG"), "image/png", 7, 4)

    assert chat.prompt("", images=[url, image]).result() == (
        "I received 2 images: 6×4 PNG, 7×4 PNG."
    )


# ---------------------------------------------------------------------------------------
# %%chat --image


@pytest.fixture
def ip() -> typing.Iterator[typing.Any]:
    shell = InteractiveShell.instance()
    magics.load_ipython_extension(shell)
    yield shell
    magics.unload_ipython_extension(shell)


def test_the_magic_takes_images_by_variable_and_by_path(
    ip: typing.Any, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo.jpg").write_bytes(encoded(photo(80, 60), "JPEG"))
    ip.user_ns["fig"] = Figure(figsize=(2, 2), dpi=40)
    script = testing.script("Both seen.")

    with capture_output() as cap:
        result = ip.run_cell(f"%%chat {script.model} --image fig --image photo.jpg\nWhat changed?")

    assert result.error_in_exec is None
    assert cap.stdout == "Both seen.\n"
    assert sent(script.requests[0])[-1] == [("PNG", (80, 80)), ("JPEG", (80, 60))]
    assert script.requests[0].messages[-1]["content"] == "What changed?"


def test_the_magic_refuses_an_unknown_name_before_sending(ip: typing.Any) -> None:
    script = testing.script("never")

    with capture_output():
        result = ip.run_cell(f"%%chat {script.model} --image nowhere\nLook.")
        svg = ip.run_cell(f"%%chat {script.model} --image https://x.test/a.png\nLook.")

    assert isinstance(result.error_in_exec, InvalidImage)
    assert "no variable 'nowhere'" in str(result.error_in_exec)
    assert isinstance(svg.error_in_exec, InvalidImage)
    assert script.requests == []


def test_switching_model_in_the_magics_keeps_the_images(ip: typing.Any) -> None:
    first, second = testing.script("one"), testing.script("two")
    ip.user_ns["arr"] = numpy.zeros((12, 16, 3), numpy.uint8)

    with capture_output():
        ip.run_cell(f"%%chat {first.model} --image arr\nLook.")
        ip.run_cell(f"%%chat {second.model}\nAnd now?")

    assert sent(second.requests[0])[0] == [("PNG", (16, 12))]
