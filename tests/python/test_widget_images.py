"""Images in the Chat widget (issue 11): a submit's binary buffers become the prompt's images,
a bad one is refused in one line with nothing lost, the full image is answered as a buffer,
and ``max_image_side`` / ``max_history_images`` / ``ask(images=…)`` reach the conversation.

A real Conversation on the demo provider (which says what images it received) and the
recording comm of :mod:`tests.comms`.
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image as PILImage
from tests.comms import custom, from_ui, from_ui_with, synced, wire
from tests.python.widget_rig import until

from nbchat.errors import InvalidImage, InvalidRequest
from nbchat.images import MAX_SIDE, image_id
from nbchat.session import Conversation
from nbchat.widget import Chat
from nbchat.widget._images import MAX_IMAGES

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'


@pytest.fixture(autouse=True)
def _recorded(recording_comm: None) -> None:
    """Every widget in this module gets a :class:`tests.comms.RecordingComm`."""


def picture(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 40, 90)).save(out, fmt)
    return out.getvalue()


async def submit(chat: Chat, text: str, images: list[bytes], **described: object) -> None:
    """A submit from the browser with `images` as its buffers; waits for its end."""
    ends = len(custom(chat, "done")) + len(custom(chat, "error"))
    meta = [{"mime": "image/png", "width": 1, "height": 1} for _ in images]
    from_ui_with(chat, images, kind="submit", text=text, images=described.get("images", meta))
    await until(lambda: len(custom(chat, "done")) + len(custom(chat, "error")) > ends)
    await until(lambda: chat.status != "streaming")


async def test_a_submits_buffers_become_the_prompts_images() -> None:
    chat = Chat("demo:echo")
    png, jpeg = picture(64, 48), picture(300, 200, "JPEG")
    await submit(chat, "what are these?", [png, jpeg])
    question, reply = chat.messages
    assert reply["content"].endswith("I received 2 images: 64×48 PNG, 300×200 JPEG.")
    images = [p for p in question.get("parts", []) if p["type"] == "image"]
    # Kept as sent (already small PNG/JPEG): the ids are the browser's own hashes.
    assert [p["id"] for p in images] == [image_id(png), image_id(jpeg)]
    assert chat.conversation.images.get(images[0]["id"]) == png
    # The synced state (and so the saved notebook) carries small thumbnails, not the images.
    state = synced(chat)
    shown = [p for p in state[f"m:{question['id']}"]["parts"] if p["type"] == "image"]
    for part in shown:
        assert part["thumbnail"].startswith(("data:image/png;base64,", "data:image/jpeg;base64,"))
        assert len(part["thumbnail"]) <= 16 * 1024
    assert all(not s.buffers for s in wire(chat).log)  # nothing heavy went back


async def test_an_image_alone_is_a_message() -> None:
    chat = Chat("demo:echo")
    await submit(chat, "", [picture(10, 10)])
    assert chat.messages[-1]["content"] == "I received 1 image: 10×10 PNG."


@pytest.mark.parametrize(
    ("buffers", "described", "said"),
    [
        ([SVG], None, "SVG"),
        ([b"not an image at all"], None, "image"),
        ([picture(8, 8)], [], "did not arrive whole"),
        ([b""], None, "arrived empty"),
        ([picture(4, 4)] * (MAX_IMAGES + 1), None, f"at most {MAX_IMAGES} images"),
    ],
)
async def test_a_bad_image_is_refused_in_one_line_and_nothing_is_lost(
    buffers: list[bytes], described: list[object] | None, said: str
) -> None:
    chat = Chat("demo:echo")
    await submit(chat, "first", [])
    before = list(chat.conversation.tree)
    extra = {} if described is None else {"images": described}
    meta = [{"mime": "image/png", "width": 1, "height": 1}] * len(buffers)
    from_ui_with(chat, buffers, kind="submit", text="about this", images=extra.get("images", meta))
    (error,) = custom(chat, "error")
    assert error["id"] is None  # a refused command: the front end gives the text back
    assert said in error["message"]
    assert "\n" not in error["message"]
    assert list(chat.conversation.tree) == before
    assert chat.status == "idle"


async def test_the_full_image_is_answered_as_a_binary_buffer() -> None:
    chat = Chat("demo:echo")
    png = picture(200, 100)
    await submit(chat, "keep it", [png])
    from_ui(chat, kind="image", id=image_id(png), request=7)
    answer = [s for s in wire(chat).log if s.data.get("content", {}).get("kind") == "image"]
    (sent,) = answer
    assert sent.data["content"] == {
        "kind": "image",
        "request": 7,
        "id": image_id(png),
        "mime": "image/png",
    }
    assert sent.buffers == [png]


async def test_an_unknown_image_is_answered_with_a_reason_and_no_bytes() -> None:
    chat = Chat("demo:echo")
    from_ui(chat, kind="image", id="0123456789abcdef", request=1)
    sent = [s for s in wire(chat).log if s.data.get("content", {}).get("kind") == "image"]
    assert sent[0].buffers == []
    assert "does not have that image" in sent[0].data["content"]["error"]


def test_max_image_side_is_a_trait_and_reaches_the_conversation() -> None:
    chat = Chat("demo:echo", max_image_side=512, max_history_images=2)
    assert chat.max_image_side == 512
    assert wire(chat).log[0].data["state"]["max_image_side"] == 512
    assert chat.conversation.max_image_side == 512
    assert chat.conversation.max_history_images == 2
    assert Chat("demo:echo").max_image_side == MAX_SIDE == 1568
    shown = Chat(conversation=Conversation("demo:echo", max_image_side=640))
    assert shown.max_image_side == 640
    with pytest.raises(InvalidRequest, match="either conversation= or model settings"):
        Chat(conversation=Conversation("demo:echo"), max_image_side=100)
    with pytest.raises(InvalidRequest, match="max_image_side"):
        Chat("demo:echo", max_image_side=0)


def test_ask_takes_images_from_code_scaled_by_the_chat() -> None:
    chat = Chat("demo:echo", max_image_side=100)
    reply = chat.ask("and this?", images=[picture(400, 200)])
    assert reply.endswith("I received 1 image: 100×50 PNG.")


def test_ask_refuses_a_bad_image_before_anything_is_sent() -> None:
    chat = Chat("demo:echo")
    with pytest.raises(InvalidImage):
        chat.ask("svg?", images=[SVG])
    assert chat.messages == []
    assert custom(chat, "start") == []


async def test_ask_async_takes_images() -> None:
    chat = Chat("demo:echo")
    data_url = "data:image/png;base64," + base64.b64encode(picture(30, 20)).decode()
    reply = await chat.ask_async("async", images=[data_url])
    assert reply.endswith("I received 1 image: 30×20 PNG.")
