"""Bad input: a clear error before any request, through every door, and nothing lost.

Each entry point — the widget's input box (a ``submit`` from the front end), ``chat.ask``,
``Conversation.prompt``, ``nbchat.ask`` and ``%chat`` — is pointed at an emulator that
records every request; bad input must leave that record empty.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable, Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from tests.reliability.harness import assert_one_line, custom, from_ui, submit_and_wait
from tests.servers import DEFAULT_TEXT, Behaviour, EmulatorServer, Reply

import nbchat
from nbchat import magics
from nbchat.errors import (
    ContextTooLong,
    InvalidOption,
    InvalidRequest,
    NbchatError,
    UnknownProvider,
)
from nbchat.messages import Message
from nbchat.widget import Chat

EmulatorFactory = Callable[..., EmulatorServer]
Shell = typing.Any  # IPython's shell is untyped

MODEL = "ollama:llama3.2"
HISTORY: list[Message] = [
    {"id": "h1", "role": "user", "content": "Hi", "parent": None},
    {"id": "h2", "role": "assistant", "content": "Hello!", "parent": "h1"},
]

#: Prompts nothing may send, and a word the error must say.
BAD_PROMPTS = {
    "empty": ("", "empty"),
    "whitespace": ("  \n\t \r\n ", "empty"),
    "NUL": ("before\x00after", "NUL"),
    "lone surrogate": ("broken \ud83d half", "surrogate"),
}


@pytest.fixture
def server(emulator: EmulatorFactory) -> EmulatorServer:
    return emulator("ollama")


def assert_clear(exc: BaseException, *words: str) -> None:
    assert isinstance(exc, NbchatError)
    assert_one_line(exc.message, exc.hint)
    for word in words:
        assert word.lower() in str(exc).lower(), str(exc)


# ---------------------------------------------------------------------------------------
# Prompts.


@pytest.mark.parametrize("case", list(BAD_PROMPTS))
@pytest.mark.usefixtures("recording_comm")
async def test_a_bad_prompt_from_the_input_box_is_refused_in_one_line(
    server: EmulatorServer, case: str
) -> None:
    text, word = BAD_PROMPTS[case]
    conversation = nbchat.Conversation(MODEL, base_url=server.root_url, messages=HISTORY)
    chat = Chat(conversation=conversation)

    from_ui(chat, kind="submit", text=text)

    (refusal,) = custom(chat, "error")
    assert refusal["id"] is None  # a refused command, not a failed reply
    assert_one_line(refusal["message"], refusal["hint"])
    assert word in refusal["message"]
    assert chat.status == "idle"
    assert chat.messages == HISTORY
    assert server.requests == []
    # …and the chat is not left busy: the next prompt goes through.
    assert (await submit_and_wait(chat, "A good question"))["kind"] == "done"


@pytest.mark.parametrize("case", list(BAD_PROMPTS))
@pytest.mark.usefixtures("recording_comm")
def test_a_bad_prompt_from_code_raises_before_any_request(
    server: EmulatorServer, case: str
) -> None:
    text, word = BAD_PROMPTS[case]
    conversation = nbchat.Conversation(MODEL, base_url=server.root_url, messages=HISTORY)
    chat = Chat(conversation=conversation)

    with pytest.raises(InvalidRequest) as from_widget:
        chat.ask(text)
    with pytest.raises(InvalidRequest) as from_conversation:
        conversation.prompt(text)
    with pytest.raises(InvalidRequest) as from_helper:
        nbchat.ask(text, MODEL, base_url=server.root_url)

    for caught in (from_widget, from_conversation, from_helper):
        assert_clear(caught.value, word)
    assert conversation.messages == HISTORY
    assert chat.status == "idle"
    assert server.requests == []


@pytest.mark.usefixtures("recording_comm")
async def test_a_one_megabyte_prompt_is_sent_whole_and_a_context_error_keeps_it(
    server: EmulatorServer,
) -> None:
    # Valid input: it goes out byte for byte; if it does not fit, the server says so and
    # the prompt stays in the history for the user to shorten or retry.
    prompt = ("naïve café 中文 🎉 " * 60_000)[: 1024 * 1024]
    server.enqueue(Reply(behaviour=Behaviour(error="context")), Reply(text="Read it all."))
    chat = Chat(conversation=nbchat.Conversation(MODEL, base_url=server.root_url))

    end = await submit_and_wait(chat, prompt)
    assert end["kind"] == "error"
    assert_one_line(end["message"], end["hint"])
    assert "context" in end["message"].lower()
    assert [(m["role"], m["content"]) for m in chat.messages] == [
        ("user", prompt),
        ("assistant", ""),
    ]

    end = await submit_and_wait(chat, "", kind="regenerate")
    assert end["kind"] == "done"
    for request in server.chat_requests:
        assert request.json()["messages"] == [{"role": "user", "content": prompt}]
    assert chat.messages[-1]["content"] == "Read it all."


def test_a_context_error_from_code_is_context_too_long(server: EmulatorServer) -> None:
    server.enqueue(Reply(behaviour=Behaviour(error="context")))
    conversation = nbchat.Conversation(MODEL, base_url=server.root_url)

    with pytest.raises(ContextTooLong) as caught:
        conversation.prompt("x" * 1024 * 1024).result()

    assert_clear(caught.value, "context")
    assert len(conversation.messages[0]["content"]) == 1024 * 1024


# ---------------------------------------------------------------------------------------
# Options and models.


@pytest.mark.usefixtures("recording_comm")
def test_an_unknown_or_mistyped_option_is_refused_before_any_request(
    server: EmulatorServer,
) -> None:
    with pytest.raises(InvalidOption) as at_creation:
        Chat(MODEL, base_url=server.root_url, temprature=0.2)
    conversation = nbchat.Conversation(MODEL, base_url=server.root_url)
    with pytest.raises(InvalidOption) as per_turn:
        conversation.prompt("Hi", temprature=0.2)
    with pytest.raises(InvalidOption) as wrong_type:
        conversation.prompt("Hi", temperature="hot")
    with pytest.raises(InvalidOption) as configured:
        nbchat.configure(temprature=0.2)

    for caught in (at_creation, per_turn, configured):
        assert_clear(caught.value, "temprature", "temperature")  # names it, and the real ones
    assert_clear(wrong_type.value, "temperature", "float")
    assert conversation.messages == []
    assert server.requests == []


@pytest.mark.usefixtures("recording_comm")
def test_a_mistyped_provider_prefix_is_refused_before_any_request(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", server.root_url)  # an Ollama is there to be asked
    with pytest.raises(UnknownProvider) as widget:
        Chat("olama:llama3.2")
    with pytest.raises(UnknownProvider) as conversation:
        nbchat.Conversation("opnai:gpt-4o-mini")

    assert_clear(widget.value, "'olama'", "ollama:llama3.2")
    assert_clear(conversation.value, "'opnai'", "openai:gpt-4o-mini")
    assert server.requests == []  # not even a probe


@pytest.mark.usefixtures("recording_comm")
def test_an_unknown_provider_prefix_naming_no_installed_model_is_refused_before_any_chat(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ollama is running (found through OLLAMA_HOST) and lists its models, so nbchat knows
    # before asking that "anthropic:claude-3-5-sonnet" is neither a provider nor a model
    # it has: sending it would only come back as a 404 "try `ollama pull …`".
    monkeypatch.setenv("OLLAMA_HOST", server.root_url)
    with pytest.raises(UnknownProvider) as widget:
        Chat("openai-chat:gpt-4o")  # jupyter-ai's spelling
    with pytest.raises(UnknownProvider) as conversation:
        nbchat.Conversation("anthropic:claude-3-5-sonnet")

    assert_clear(widget.value, "'openai-chat'", "openai")
    assert_clear(conversation.value, "'anthropic'", "openai")
    assert server.chat_requests == []
    # An installed model with a tag is still an Ollama model.
    assert nbchat.Conversation("qwen3:8b").model == "ollama:qwen3:8b"


# ---------------------------------------------------------------------------------------
# %chat.


@pytest.fixture
def ip() -> Iterator[Shell]:
    shell = InteractiveShell.instance()
    magics.load_ipython_extension(shell)
    try:
        yield shell
    finally:
        magics.unload_ipython_extension(shell)
        for name in ("nul", "half", "missing_name"):
            shell.user_ns.pop(name, None)


def run(ip: Shell, source: str) -> tuple[BaseException | None, str]:
    with capture_output() as cap:
        result = ip.run_cell(source)
    return result.error_in_exec or result.error_before_exec, cap.stdout


@pytest.mark.parametrize(
    ("cell", "error", "words"),
    [
        ("%chat {head} Tell me about {{missing_name}}.", "InvalidRequest", ("'missing_name'",)),
        ("%chat {head} {{nul}}", "InvalidRequest", ("NUL",)),
        ("%chat {head} {{half}}", "InvalidRequest", ("surrogate",)),
        ("%chat {head} -o temprature=0.2 Hi", "InvalidOption", ("temprature", "temperature")),
        ("%chat {head} --temperature hot Hi", "InvalidRequest", ("--temperature", "number")),
        ("%chat {head} --temprature 0.2 Hi", "InvalidRequest", ("--temprature",)),
        ("%chat {head} -m '[1, 2]' Hi", "InvalidRequest", ("JSON object",)),
    ],
)
def test_a_bad_magic_is_one_line_before_any_request(
    ip: Shell, server: EmulatorServer, cell: str, error: str, words: tuple[str, ...]
) -> None:
    ip.user_ns.update(nul="a\x00b", half="broken \udc80 half")
    head = f"{MODEL} --base-url {server.root_url}"

    raised, stdout = run(ip, cell.format(head=head))

    assert type(raised).__name__ == error
    first = stdout.strip().splitlines()[0]
    assert first.startswith(f"\x1b[0;31m{error}\x1b[0m: ")
    for word in words:
        assert word in first, first
    assert "Traceback" not in stdout
    assert server.requests == []


def test_a_blank_cell_magic_shows_the_usage_and_sends_nothing(
    ip: Shell, server: EmulatorServer
) -> None:
    raised, stdout = run(ip, f"%%chat {MODEL} --base-url {server.root_url}\n   \n\t\n")

    assert raised is None
    assert stdout.startswith("Usage:")
    assert server.requests == []


def test_after_a_refused_magic_the_session_goes_on(
    ip: Shell, server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    head = f"{MODEL} --base-url {server.root_url}"
    assert run(ip, f"%chat {head} First.")[0] is None
    raised, _ = run(ip, "%chat Tell me about {missing_name}.")
    assert isinstance(raised, InvalidRequest)
    with caplog.at_level(logging.WARNING):
        raised, stdout = run(ip, "%chat Second.")

    assert raised is None
    assert DEFAULT_TEXT in stdout
    assert [m["content"] for m in server.chat_requests[-1].json()["messages"]] == [
        "First.",
        DEFAULT_TEXT,
        "Second.",
    ]
    assert caplog.records == []
