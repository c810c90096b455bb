"""Images on the wire, over real HTTP to the emulators: Ollama's base64 list and OpenAI's
content parts, history re-sends, and models that cannot see."""

from __future__ import annotations

import base64
import typing

import numpy
import pytest
from tests.pictures import decoded, encoded, flat, from_base64, photo
from tests.servers import EmulatorServer
from tests.servers.fixtures import EmulatorFactory
from tests.servers.image_samples import OLLAMA_USER_MESSAGE, OPENAI_USER_MESSAGE, RED_PIXEL_PNG

import nbchat
from nbchat.errors import BadRequest, InvalidImage, ModelCannotSee
from nbchat.images import Image, to_image
from nbchat.providers import _status
from nbchat.providers.base import ChatRequest
from nbchat.providers.ollama import OllamaProvider
from nbchat.providers.openai import OpenAIProvider

Json = dict[str, typing.Any]

PLOT = flat(640, 480)  # goes as a PNG
PHOTO = encoded(photo(4000, 3000), "JPEG", quality=90)  # goes as a 1568 × 1176 JPEG


def conversation(
    server: EmulatorServer, model: str = "llava", **kw: typing.Any
) -> nbchat.Conversation:
    if server.flavour == "ollama":
        return nbchat.Conversation(f"ollama:{model}", base_url=server.base_url, **kw)
    return nbchat.Conversation(f"openai:{model}", base_url=server.openai_base_url, **kw)


def sent_images(server: EmulatorServer, index: int = -1) -> list[list[bytes]]:
    """Each message's images as the server received them, decoded, for request ``index``."""
    body: Json = server.chat_requests[index].json()
    out: list[list[bytes]] = []
    for message in body["messages"]:
        if server.flavour == "ollama":
            out.append([from_base64(text) for text in message.get("images", [])])
            continue
        content = message["content"]
        images = []
        for part in content if isinstance(content, list) else []:
            if part["type"] == "image_url":
                head, _, payload = part["image_url"]["url"].partition(",")
                assert head in ("data:image/png;base64", "data:image/jpeg;base64")
                images.append(base64.b64decode(payload, validate=True))
        out.append(images)
    return out


@pytest.mark.parametrize("flavour", ["ollama", "openai"])
def test_a_message_with_two_images_in_each_protocol(
    emulator: EmulatorFactory, flavour: str
) -> None:
    server = emulator(flavour)
    chat = conversation(server)

    chat.prompt("Compare these.", images=[PLOT, PHOTO]).result()

    body: Json = server.chat_requests[0].json()
    question = body["messages"][-1]
    if flavour == "ollama":
        assert question["content"] == "Compare these."
        assert all(not text.startswith("data:") for text in question["images"])
    else:
        assert [p["type"] for p in question["content"]] == ["text", "image_url", "image_url"]
        assert question["content"][0] == {"type": "text", "text": "Compare these."}
    assert [decoded(data) for data in sent_images(server)[-1]] == [
        ("PNG", (640, 480)),
        ("JPEG", (1568, 1176)),
    ]


@pytest.mark.parametrize("flavour", ["ollama", "openai"])
def test_past_images_are_sent_again_on_later_turns(emulator: EmulatorFactory, flavour: str) -> None:
    server = emulator(flavour)
    chat = conversation(server)

    chat.prompt("What is this?", images=[PLOT]).result()
    chat.prompt("And its colours?").result()

    later = sent_images(server, 1)
    assert [decoded(d) for d in later[0]] == [("PNG", (640, 480))]
    assert later[1:] == [[], []]  # the reply, the new question
    assert server.chat_requests[1].json()["messages"][2]["content"] == "And its colours?"


@pytest.mark.parametrize(("limit", "resent"), [(None, 3), (2, 2), (0, 0)])
def test_max_history_images_limits_the_past_ones_to_the_most_recent(
    ollama_server: EmulatorServer, limit: int | None, resent: int
) -> None:
    chat = conversation(ollama_server, max_history_images=limit)
    arrays = [numpy.full((8, 8 + i, 3), 40 * i, numpy.uint8) for i in range(4)]

    for i, array in enumerate(arrays[:3]):
        chat.prompt(f"Image {i}", images=[array]).result()
    chat.prompt("And this one?", images=[arrays[3]]).result()

    last = sent_images(ollama_server)
    questions = [images for images in last[::2]]  # user, assistant, user, …
    widths = [decoded(d)[1][0] for images in questions for d in images]
    assert widths == [8, 9, 10, 11][3 - resent :]  # the newest past ones, then the current one
    assert decoded(questions[-1][0]) == ("PNG", (11, 8))


@pytest.mark.parametrize(
    ("flavour", "said"),
    [
        ("ollama", "does not support vision"),
        ("openai", "image_url is only supported by certain models"),
        ("llama.cpp", "image input is not supported"),
        ("vllm", "is not a multimodal model"),
    ],
)
def test_a_model_that_cannot_see_is_one_line_with_a_hint_and_everything_is_kept(
    emulator: EmulatorFactory, flavour: str, said: str
) -> None:
    server = emulator(flavour)
    chat = conversation(server, model="llama3.2@blind")

    with pytest.raises(ModelCannotSee) as caught:
        chat.prompt("What is this?", images=[PLOT, PHOTO]).result()

    error = caught.value
    assert error.message.startswith("The model llama3.2@blind cannot see images")
    assert said in error.message
    assert "\n" not in str(error)
    assert "llava" in error.hint
    assert "qwen2.5vl" in error.hint
    question, reply = chat.messages
    assert question["content"] == "What is this?"
    kept = [p for p in question.get("parts", []) if p["type"] == "image"]
    assert [(p["width"], p["height"]) for p in kept] == [(640, 480), (1568, 1176)]
    assert reply["meta"]["error"] == error.message

    # The same question, asked again of a model that can see: the images go too.
    seeing = conversation(server, model="llava", messages=chat.messages, image_store=chat.images)
    assert seeing.regenerate().result()
    assert [decoded(d)[1] for d in sent_images(server)[0]] == [(640, 480), (1568, 1176)]


def test_a_model_without_vision_still_answers_text(ollama_server: EmulatorServer) -> None:
    chat = conversation(ollama_server, model="llama3.2@blind")

    assert chat.prompt("Just text.").result()


def test_vision_words_mean_a_refused_image_only_when_the_request_had_images() -> None:
    said = _status.ErrorInfo("registry.ollama.ai/library/llama3.2 does not support vision")
    without = _status.Endpoint(label="Ollama", base_url="http://127.0.0.1:1", model="llama3.2")
    with_images = _status.Endpoint(
        label="Ollama", base_url="http://127.0.0.1:1", model="llama3.2", sends_images=True
    )

    assert type(_status.classify(without, 400, said)) is BadRequest
    assert type(_status.classify(with_images, 400, said)) is ModelCannotSee


@pytest.mark.parametrize(
    "given",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "https://example.com/cat.png",
        7,
        numpy.zeros((3, 3), numpy.int32),
    ],
)
@pytest.mark.parametrize("flavour", ["ollama", "openai"])
def test_a_refused_image_sends_nothing_and_changes_nothing(
    emulator: EmulatorFactory, flavour: str, given: object
) -> None:
    server = emulator(flavour)
    chat = conversation(server)

    with pytest.raises(InvalidImage):
        chat.prompt("Look.", images=[PLOT, given])
    with pytest.raises(InvalidImage):
        nbchat.ask(
            "Look.",
            chat.model,
            base_url=chat.provider.base_url,
            images=[typing.cast(typing.Any, given)],
        )

    assert server.chat_requests == []
    assert chat.messages == []


def test_a_user_message_with_an_image_is_each_protocol_s_documented_shape() -> None:
    image = Image(base64.b64decode(RED_PIXEL_PNG), "image/png", 1, 1)
    request = ChatRequest(
        "llava", [{"role": "user", "content": "What is in this image?", "images": [image]}]
    )

    ollama = OllamaProvider(base_url="http://127.0.0.1:1").body(request)
    openai = OpenAIProvider(base_url="http://127.0.0.1:1/v1").body(request)

    assert ollama["messages"] == [OLLAMA_USER_MESSAGE]
    assert openai["messages"] == [OPENAI_USER_MESSAGE]
    assert to_image(image) is image  # 1 × 1 PNG: sent exactly as given


def test_regenerating_sends_the_question_s_images_whatever_the_history_limit(
    ollama_server: EmulatorServer,
) -> None:
    chat = conversation(ollama_server, max_history_images=0)
    chat.prompt("Old one.", images=[flat(10, 10)]).result()
    chat.prompt("What is this?", images=[flat(20, 10)]).result()

    chat.regenerate().result()

    assert [[decoded(d)[1] for d in m] for m in sent_images(ollama_server)] == [
        [],
        [],
        [(20, 10)],
    ]
