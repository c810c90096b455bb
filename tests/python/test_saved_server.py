"""A file never redirects credentials: the server saved in a conversation file is used only
when it is the one configured, or passed explicitly; else the chat says so and uses the
configured one. Two emulators over real HTTP show where the key actually goes."""

from __future__ import annotations

import collections.abc
import json
import pathlib
import warnings

import pytest
from tests.servers import EmulatorServer

from nbchat import Conversation
from nbchat.session import autosave

KEY = "sk-test-0123456789abcdefSECRET"
EmulatorFactory = collections.abc.Callable[..., EmulatorServer]


@pytest.fixture
def saved_elsewhere(
    tmp_path: pathlib.Path, emulator: EmulatorFactory
) -> tuple[pathlib.Path, EmulatorServer]:
    """A conversation file that names a server the user did not configure (its own)."""
    elsewhere = emulator("openai")
    path = tmp_path / "talk.json"
    conversation = Conversation("openai:tiny", base_url=elsewhere.openai_base_url, api_key="x")
    conversation.save(str(path))
    assert json.loads(path.read_text(encoding="utf-8"))["base_url"] == elsewhere.openai_base_url
    return path, elsewhere


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorFactory) -> EmulatorServer:
    """The user's own server and key, from the environment."""
    mine = emulator("openai")
    monkeypatch.setenv("OPENAI_BASE_URL", mine.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return mine


@pytest.mark.parametrize("how", ["load", "file"])
def test_a_saved_server_that_is_not_the_configured_one_is_not_used(
    saved_elsewhere: tuple[pathlib.Path, EmulatorServer], configured: EmulatorServer, how: str
) -> None:
    path, elsewhere = saved_elsewhere
    with pytest.warns(UserWarning, match="was saved with the server") as caught:
        conversation = Conversation.load(str(path)) if how == "load" else Conversation(file=path)
    line = str(caught[0].message)
    assert elsewhere.openai_base_url in line
    assert configured.openai_base_url in line
    assert f"base_url={elsewhere.openai_base_url!r}" in line
    assert "\n" not in line
    assert conversation._take_notices() == [line]  # the widget shows it too
    assert conversation.resolution.base_url == configured.openai_base_url
    conversation.prompt("hello").result()
    assert elsewhere.requests == []  # nothing, and so no key, went there
    (request,) = configured.chat_requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    if how == "file":  # and the file now names the server it really talks to
        assert autosave.read(path).transcript.base_url == configured.openai_base_url  # type: ignore[union-attr]


def test_a_saved_server_passed_explicitly_is_used_without_a_word(
    saved_elsewhere: tuple[pathlib.Path, EmulatorServer], configured: EmulatorServer
) -> None:
    path, elsewhere = saved_elsewhere
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conversation = Conversation(file=path, base_url=elsewhere.openai_base_url)
    assert conversation._take_notices() == []
    conversation.prompt("hello").result()
    assert len(elsewhere.chat_requests) == 1
    assert configured.requests == []


def test_a_saved_server_that_is_the_configured_one_needs_no_word(
    tmp_path: pathlib.Path, configured: EmulatorServer
) -> None:
    path = tmp_path / "talk.json"
    Conversation("openai:tiny", file=path).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = Conversation.load(str(path))
        also = Conversation(file=path)
    assert again._take_notices() == also._take_notices() == []
    assert also.resolution.base_url == configured.openai_base_url


def test_from_json_follows_the_same_rule(
    saved_elsewhere: tuple[pathlib.Path, EmulatorServer], configured: EmulatorServer
) -> None:
    path, _elsewhere = saved_elsewhere
    with pytest.warns(UserWarning, match="The saved conversation was saved with the server"):
        conversation = Conversation.from_json(path.read_text(encoding="utf-8"))
    assert conversation.resolution.base_url == configured.openai_base_url
