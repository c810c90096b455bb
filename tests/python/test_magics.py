"""%chat / %%chat in a real IPython InteractiveShell, against the scripted demo provider."""

from __future__ import annotations

import dataclasses
import socket
import sys
import threading
import typing
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from IPython.utils.capture import RichOutput, capture_output
from tests.interrupts import sigint_when

import nbchat
from nbchat import magics, settings, testing
from nbchat.errors import InvalidRequest, ServerError
from nbchat.magics import interpolate, parse

#: IPython's shell: its methods are untyped, so tests hold it as Any.
Shell = typing.Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SECRET = "sk-test-DO-NOT-SHOW-0123456789abcdef"


# ---------------------------------------------------------------------------------------
# Grammar.


def test_line_magic_takes_a_model_and_flags_then_keeps_the_prompt_verbatim() -> None:
    command = parse('ollama:llama3.2:1b --temperature 0.2 -f code What\'s a "closure"?  ')

    assert command.kind == "ask"
    assert command.model == "ollama:llama3.2:1b"
    assert command.options == {"temperature": 0.2}
    assert command.format == "code"
    assert command.prompt == 'What\'s a "closure"?'


def test_line_magic_without_options_is_all_prompt() -> None:
    command = parse("What is a closure in JavaScript?")

    assert (command.kind, command.model, command.prompt) == (
        "ask",
        None,
        "What is a closure in JavaScript?",
    )


@pytest.mark.parametrize(
    ("line", "model", "prompt"),
    [
        ("demo hi", "demo", "hi"),
        ("demo:echo hi", "demo:echo", "hi"),
        ("foo:bar hi", "foo:bar", "hi"),  # a colon makes a model; the provider is checked later
        ("Note: this is a prompt", None, "Note: this is a prompt"),
        ("https://example.com summarise it", None, "https://example.com summarise it"),
        ("-1 is negative?", None, "-1 is negative?"),
        ("-- history of Rome", None, "history of Rome"),
        ("--temperature 0 -- --help me", None, "--help me"),
    ],
)
def test_the_first_word_is_a_model_only_when_it_looks_like_one(
    line: str, model: str | None, prompt: str
) -> None:
    command = parse(line)

    assert (command.model, command.prompt) == (model, prompt)


def test_cell_magic_line_holds_options_and_the_body_is_the_prompt() -> None:
    body = "Explain {topic}.\n\nWith an example.\n"
    command = parse("llama3.2 --max-tokens 50 --new --no-interpolate --system 'Be brief.'", body)

    assert command.model == "llama3.2"  # the line has no prompt, so any word is the model
    assert command.options == {"max_tokens": 50}
    assert command.system == "Be brief."
    assert command.new
    assert not command.interpolate
    assert command.prompt == body


def test_options_come_from_json_key_value_and_flags_with_flags_winning() -> None:
    command = parse(
        """-m '{"num_ctx": 8192, "temperature": 0.9}' -o seed=3 -o stop='"END"' """
        """--temperature 0.1 --top-p 0.5 --base-url http://127.0.0.1:9/v1 go"""
    )

    assert command.options == {
        "num_ctx": 8192,
        "temperature": 0.1,
        "seed": 3,
        "stop": "END",
        "top_p": 0.5,
    }
    assert command.base_url == "http://127.0.0.1:9/v1"
    assert command.prompt == "go"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--temperature hot tell me", "--temperature expects a number, not 'hot'."),
        ("--bogus tell me", "Unknown option --bogus."),
        ("-f pdf tell me", "Unknown format 'pdf'."),
        ("-m '[1]' tell me", "-m expects a JSON object, not '[1]'."),
        ("-o novalue tell me", "-o expects key=value, not 'novalue'."),
        ("--system", "Option --system expects a value."),
        ("history of Rome", "%chat history takes no arguments."),
        ("reset now", "%chat reset takes no arguments."),
        ("config temperature", "%chat config expects key=value, not 'temperature'."),
    ],
)
def test_malformed_calls_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(line)

    assert caught.value.message == message


def test_cell_magic_rejects_a_prompt_on_its_first_line() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse("what is this", "the body")

    assert caught.value.message == "Unexpected words after the model: 'is this'."
    assert "the prompt goes in the cell body" in caught.value.hint


def test_subcommands() -> None:
    assert parse("models").kind == "models"
    assert parse("models ollama").model == "ollama"
    assert parse("config").settings == []
    assert parse("config temperature=0.2 system='Be brief.'").settings == [
        ("temperature", "0.2"),
        ("system", "Be brief."),
    ]
    assert parse("reset").kind == "reset"
    assert parse("history").kind == "history"
    fix = parse("fix demo:echo --temperature 0")
    assert (fix.kind, fix.model, fix.options) == ("fix", "demo:echo", {"temperature": 0.0})
    assert parse("fix", "Keep the public API.").prompt == "Keep the public API."
    with pytest.raises(InvalidRequest, match="line magic"):
        parse("models", "")


@pytest.mark.parametrize(
    ("line", "cell"),
    [("", None), ("   ", None), ("-h", None), ("--help", None), ("demo:echo", None), ("", "  \n")],
)
def test_no_prompt_means_usage(line: str, cell: str | None) -> None:
    assert parse(line, cell).kind == "usage"


# ---------------------------------------------------------------------------------------
# Interpolation.


def test_interpolation_fills_names_expressions_and_history() -> None:
    namespace = {
        "topic": "closures",
        "items": [1, 2, 3],
        "pi": 3.14159,
        "In": ["", "x = 1"],
        "Out": {1: 42},
    }
    template = "{topic} {len(items)} {items[1:]} {pi:.2f} {topic!r} {In[1]} {Out[1]}"

    assert interpolate(template, namespace) == "closures 3 [2, 3] 3.14 'closures' x = 1 42"


def test_doubled_braces_are_braces() -> None:
    assert interpolate("{{topic}} and }} {{", {"topic": "x"}) == "{topic} and } {"


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "x", "age": 3}',
        '{"a":1}',
        "function f() { return 1; }",
        "an empty dict {} and a set {1, 2}",
        "if (x) {\n  y();\n}",
        "unbalanced { brace and } another",
        "{...}",
        "Fill in the {id} and {type} fields.",
    ],
)
def test_braces_around_what_is_not_a_notebook_expression_stay(text: str) -> None:
    assert interpolate(text, {"y": 1}) == text


def test_a_missing_name_is_named() -> None:
    with pytest.raises(InvalidRequest) as caught:
        interpolate("Summarise {df.head()}", {})

    assert caught.value.message == "Name 'df' is not defined in the notebook."
    assert "{{" in caught.value.hint
    assert "--no-interpolate" in caught.value.hint


def test_a_failing_expression_says_why() -> None:
    with pytest.raises(InvalidRequest) as caught:
        interpolate("{Out[99]}", {"Out": {}})

    assert caught.value.message == "Cannot fill in {Out[99]}: KeyError: 99"


# ---------------------------------------------------------------------------------------
# In a shell.


@dataclasses.dataclass
class Ran:
    result: ExecutionResult
    stdout: str
    stderr: str
    outputs: list[RichOutput]

    @property
    def error(self) -> BaseException | None:
        return self.result.error_in_exec or self.result.error_before_exec


@pytest.fixture(scope="module")
def shell() -> Shell:
    return InteractiveShell.instance()


@pytest.fixture
def ip(shell: Shell, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shell]:
    magics.load_ipython_extension(shell)
    yield shell
    magics.unload_ipython_extension(shell)
    shell.rl_next_input = None


def run(ip: Shell, source: str) -> Ran:
    with capture_output() as cap:
        result = ip.run_cell(source)
    return Ran(result, cap.stdout, cap.stderr, cap.outputs)


def session(ip: Shell) -> magics.MagicSession:
    chat_magics = ip.magics_manager.registry["ChatMagics"]
    assert isinstance(chat_magics, magics.ChatMagics)
    return chat_magics.session


def wire(request: typing.Any) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in request.messages]


def test_load_twice_is_harmless_and_unload_removes_the_magics(ip: Shell) -> None:
    first = ip.magics_manager.registry["ChatMagics"]
    magics.load_ipython_extension(ip)

    assert ip.magics_manager.registry["ChatMagics"] is first
    assert ip.find_line_magic("chat") is not None
    assert ip.find_cell_magic("chat") is not None

    magics.unload_ipython_extension(ip)
    assert ip.find_line_magic("chat") is None
    assert ip.find_cell_magic("chat") is None
    assert "Err" not in ip.user_ns
    assert run(ip, "%chat hi").error is not None  # no such magic any more

    magics.load_ipython_extension(ip)
    assert ip.find_line_magic("chat") is not None


def test_load_ext_goes_through_the_package(ip: Shell) -> None:
    magics.unload_ipython_extension(ip)
    ip.extension_manager.loaded.discard("nbchat")

    assert ip.run_line_magic("load_ext", "nbchat") is None
    assert ip.find_line_magic("chat") is not None
    assert ip.run_line_magic("unload_ext", "nbchat") is None
    assert ip.find_line_magic("chat") is None
    magics.load_ipython_extension(ip)


def test_the_reply_streams_and_calls_continue_one_conversation(ip: Shell) -> None:
    script = testing.script("One.", "Two.")

    first = run(ip, f"%chat {script.model} What's first?")
    second = run(ip, "%chat And second?")

    assert first.error is None
    assert first.stdout == "One.\n"
    assert second.error is None
    assert second.stdout == "Two.\n"
    assert wire(script.requests[1]) == [
        ("user", "What's first?"),
        ("assistant", "One."),
        ("user", "And second?"),
    ]


def test_a_prompt_ending_in_a_question_mark_is_not_a_help_request(ip: Shell) -> None:
    script = testing.script("ok")
    ip.user_ns["flag"] = True

    first = run(ip, f"%chat {script.model} What's a closure?")
    nested = run(ip, "if flag:\n    %chat And in Python??\n    x = 1")
    help_for_the_magic = run(ip, "%chat?")

    assert first.stdout == "ok\n"
    assert wire(script.requests[0])[-1] == ("user", "What's a closure?")
    assert wire(script.requests[1])[-1] == ("user", "And in Python??")
    assert nested.error is None
    assert ip.user_ns["x"] == 1
    assert "Ask a model" in help_for_the_magic.stdout
    assert len(script.requests) == 2


def test_new_and_reset_start_fresh_with_the_same_model(ip: Shell) -> None:
    script = testing.script("ok")
    run(ip, f"%chat {script.model} one")
    run(ip, "%chat two")

    run(ip, "%chat --new three")
    assert wire(script.requests[-1]) == [("user", "three")]

    reset = run(ip, "%chat reset")
    assert "history is cleared" in reset.stdout
    run(ip, "%chat four")
    assert wire(script.requests[-1]) == [("user", "four")]


def test_a_named_model_stays_until_config_names_another(ip: Shell) -> None:
    first, second = testing.script("from first"), testing.script("from second")

    run(ip, f"%chat {first.model} a")
    run(ip, "%chat b")
    assert len(first.requests) == 2

    assert run(ip, f"%chat config model={second.model}").error is None
    run(ip, "%chat c")
    assert len(first.requests) == 2
    assert wire(second.requests[0]) == [
        ("user", "a"),
        ("assistant", "from first"),
        ("user", "b"),
        ("assistant", "from first"),
        ("user", "c"),
    ]


def test_switching_model_in_a_cell_keeps_the_history(ip: Shell) -> None:
    first, second = testing.script("first says"), testing.script("second says")

    run(ip, f"%chat {first.model} a")
    ran = run(ip, f"%%chat {second.model} --system 'Be brief.'\nb")

    assert ran.stdout == "second says\n"
    assert wire(second.requests[0]) == [
        ("system", "Be brief."),
        ("user", "a"),
        ("assistant", "first says"),
        ("user", "b"),
    ]


def test_interpolation_uses_the_notebook_and_ipython_expands_nothing(
    ip: Shell,
) -> None:
    script = testing.script("ok")
    ip.user_ns["topic"] = "closures"

    run(ip, f"%chat {script.model} {{topic}} cost $5, {{{{x}}}} and $topic")
    run(ip, "%%chat --no-interpolate\nkeep {topic}")

    assert wire(script.requests[0])[-1] == ("user", "closures cost $5, {x} and $topic")
    assert wire(script.requests[1])[-1] == ("user", "keep {topic}")


def test_a_missing_name_fails_in_one_line_before_any_request(ip: Shell) -> None:
    script = testing.script("never")
    ran = run(ip, f"%%chat {script.model}\nSummarise {{df.head()}}")

    assert isinstance(ran.error, InvalidRequest)
    assert "Name 'df' is not defined in the notebook." in ran.stdout
    assert "Traceback" not in ran.stdout
    assert len(ran.stdout.strip().splitlines()) == 1
    assert script.requests == []
    assert session(ip).conversation is None


def test_format_code_puts_the_reply_code_into_the_next_cell(ip: Shell) -> None:
    reply = "Here:\n\n```python\nprint('hi')\n```\n\nand\n\n```bash\nls\n```\n"
    script = testing.script(reply)

    ran = run(ip, f"%chat {script.model} -f code print hi")

    assert ran.error is None
    assert ip.rl_next_input == "print('hi')"
    sent = wire(script.requests[0])[-1][1]
    assert sent.startswith("print hi\n\n")
    assert "code only" in sent


def test_format_text_streams_plain_text(ip: Shell) -> None:
    script = testing.script(["Hello", ", ", "world"])
    session_magics = ip.magics_manager.registry["ChatMagics"]
    assert isinstance(session_magics, magics.ChatMagics)
    session_magics.output = "widget"
    try:
        ran = run(ip, f"%chat {script.model} -f text hi")
    finally:
        session_magics.output = "auto"

    assert ran.stdout == "Hello, world\n"
    assert ran.outputs == []


def test_the_output_is_configurable_like_any_ipython_setting(ip: Shell) -> None:
    script = testing.script("plain")
    chat_magics = ip.magics_manager.registry["ChatMagics"]
    try:
        run(ip, '%config ChatMagics.output = "widget"')
        widget = run(ip, f"%chat {script.model} hi")
        run(ip, '%config ChatMagics.output = "text"')
        text = run(ip, "%chat hi")
    finally:
        ip.config.pop("ChatMagics", None)  # later shells of this process start from defaults

    assert WIDGET_VIEW in widget.outputs[0].data
    assert text.stdout == "plain\n"
    assert text.outputs == []
    assert chat_magics.output == "text"
    magics.unload_ipython_extension(ip)
    assert chat_magics not in ip.configurables
    magics.load_ipython_extension(ip)


def test_fix_sends_the_failing_cell_and_its_traceback(ip: Shell) -> None:
    script = testing.script("Divide by something else.")
    failing = run(ip, "def ratio(a):\n    return a / 0\n\nratio(3)")
    assert isinstance(failing.error, ZeroDivisionError)

    ran = run(ip, f"%chat fix {script.model}")

    assert ran.error is None
    assert ran.stdout == "Divide by something else.\n"
    sent = wire(script.requests[0])[-1][1]
    assert sent.startswith("Explain the following error and propose a fix.")
    assert "```python\ndef ratio(a):\n    return a / 0\n\nratio(3)\n```" in sent
    assert "ZeroDivisionError: division by zero" in sent
    assert "    return a / 0" in sent.split("The error:")[1]  # the frame's source line
    assert "interactiveshell.py" not in sent  # IPython's own frames are left out
    assert failing.result.execution_count in ip.user_ns["Err"]


def test_fix_takes_extra_instructions_from_the_cell_body(ip: Shell) -> None:
    script = testing.script("ok")
    run(ip, "int('x')")

    run(ip, f"%%chat fix {script.model}\nKeep it to one line.")

    sent = wire(script.requests[0])[-1][1]
    assert sent.split("\n\n")[1] == "Keep it to one line."
    assert "ValueError: invalid literal for int()" in sent


def test_fix_ignores_errors_of_chat_itself(ip: Shell) -> None:
    ran = run(ip, "%chat fix")
    assert "No exception to fix yet in this session." in ran.stdout

    run(ip, "%chat --bogus x")
    again = run(ip, "%chat fix")
    assert "No exception to fix yet" in again.stdout


def test_the_server_down_is_one_line_not_a_traceback(ip: Shell) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    ran = run(ip, f"%chat openai:gpt-4o-mini --base-url http://127.0.0.1:{port}/v1 hi")

    assert type(ran.error).__name__ == "ServerUnreachable"
    lines = ran.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("\x1b[0;31mServerUnreachable\x1b[0m: ")
    assert f"127.0.0.1:{port}" in lines[0]
    assert "Traceback" not in ran.stdout


def test_an_unknown_option_is_named_before_any_request(ip: Shell) -> None:
    script = testing.script("never")

    ran = run(ip, f"%chat {script.model} -o bogus=1 hi")

    assert type(ran.error).__name__ == "InvalidOption"
    assert "Unknown option 'bogus'" in ran.stdout
    assert "temperature" in ran.stdout
    assert script.requests == []
    assert ran.outputs == []


def test_a_bad_flag_shows_the_usage(ip: Shell) -> None:
    ran = run(ip, "%chat --temprature 0.2 hi")

    assert "Unknown option --temprature." in ran.stdout
    assert "Usage:" in ran.stdout
    assert "Traceback" not in ran.stdout


def test_no_prompt_prints_the_usage_and_is_not_an_error(ip: Shell) -> None:
    ran = run(ip, "%chat")

    assert ran.error is None
    assert ran.stdout.startswith("Usage:")


def test_a_failure_mid_reply_keeps_the_partial_text(ip: Shell) -> None:
    script = testing.script(["Hel", "lo", ServerError("model crashed")], "Recovered.")

    ran = run(ip, f"%chat {script.model} hi")

    assert type(ran.error).__name__ == "ServerError"
    assert ran.stdout.startswith("Hello\n")
    assert "model crashed" in ran.stdout
    last = session(ip).conversation.messages[-1]  # type: ignore[union-attr]
    assert last["content"] == "Hello"
    assert last["meta"]["error"] == "model crashed"
    assert run(ip, "%chat again").stdout == "Recovered.\n"


class _Watched:
    """Stdout that sets ``seen`` once ``needle`` has been written (by the main thread)."""

    def __init__(self, target: typing.Any, needle: str, seen: threading.Event) -> None:
        self.target, self.needle, self.seen = target, needle, seen

    def write(self, text: str) -> int:
        written = int(self.target.write(text))
        if self.needle in text:
            self.seen.set()
        return written

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self.target, name)


@pytest.mark.parametrize("view", ["text", "widget"])
def test_a_kernel_interrupt_keeps_the_partial_reply_and_the_session_usable(
    ip: Shell, view: typing.Literal["text", "widget"], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = testing.script(["Partial ", "reply", testing.STALL], "Next one.")
    chat_magics = ip.magics_manager.registry["ChatMagics"]
    assert isinstance(chat_magics, magics.ChatMagics)
    monkeypatch.setattr(chat_magics, "output", view)
    # The interrupt comes once the cell has shown the text (as a person would see it), so
    # it lands while the magic waits for more, not while the request is being set up.
    shown = threading.Event()
    make_view = magics._output.exchange_view

    def watched_view(*args: typing.Any) -> typing.Any:
        chat = make_view(*args)
        send = chat.send

        def sending(content: typing.Any, buffers: typing.Any = None) -> None:
            send(content, buffers)
            if content.get("kind") == "delta" and "reply" in content.get("text", ""):
                shown.set()

        chat.send = sending
        return chat

    monkeypatch.setattr(magics._output, "exchange_view", watched_view)

    # If Python never runs the handler, the signal was lost (a blocking wait): it is pressed
    # again, as a person would, so the test ends and fails below.
    with sigint_when(shown, press_again=True) as presses, capture_output() as cap:
        sys.stdout = _Watched(sys.stdout, "reply", shown)
        result = ip.run_cell(f"%chat {script.model} go")
    assert presses.lost == 0, "the SIGINT was lost while the reply streamed (a blocking wait)"
    ran = Ran(result, cap.stdout, cap.stderr, cap.outputs)

    assert isinstance(ran.error, KeyboardInterrupt)
    assert "the partial reply is kept" in ran.stdout
    assert "Traceback" not in ran.stdout
    reply = session(ip).conversation.messages[-1]  # type: ignore[union-attr]
    assert reply["content"] == "Partial reply"
    assert reply["meta"]["stopped"] is True
    if view == "widget":
        assert "stopped" in ran.outputs[-1].data["text/markdown"]

    after = run(ip, "%chat and now?")
    assert after.error is None
    assert wire(script.requests[1])[-3:] == [
        ("user", "go"),
        ("assistant", "Partial reply"),
        ("user", "and now?"),
    ]


def test_the_widget_view_streams_then_leaves_a_static_transcript(
    ip: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    views: list[typing.Any] = []
    make_view = magics._output.exchange_view

    def recording(*args: typing.Any) -> typing.Any:
        views.append(make_view(*args))
        return views[-1]

    monkeypatch.setattr(magics._output, "exchange_view", recording)
    chat_magics = ip.magics_manager.registry["ChatMagics"]
    assert isinstance(chat_magics, magics.ChatMagics)
    monkeypatch.setattr(chat_magics, "output", "widget")
    reply = "Euler: $e^{i\\pi} + 1 = 0$.\n\n```python\nprint(1)\n```"
    script = testing.script("Earlier answer.", reply)
    earlier = run(ip, f"%chat {script.model} earlier")

    ran = run(ip, "%%chat\nShow **math** and code")

    assert ran.error is None
    live, final = ran.outputs
    assert live.data[WIDGET_VIEW]["model_id"]
    assert final.update
    assert WIDGET_VIEW not in final.data
    markdown = final.data["text/markdown"]
    assert "Show **math** and code" in markdown
    assert reply in markdown
    assert "Earlier answer." not in markdown  # this cell shows its own exchange
    assert "Show **math** and code" in final.data["text/plain"]
    # One widget serves the session: each cell's live view becomes its transcript.
    (view,) = views
    assert earlier.outputs[0].data[WIDGET_VIEW] == live.data[WIDGET_VIEW]
    assert [m["role"] for m in view.messages] == ["user", "assistant"]
    assert view.messages[-1]["content"] == reply
    assert len(view.conversation.messages) == 4
    assert view.compact

    magics.unload_ipython_extension(ip)
    assert view.comm is None  # closed with the extension
    magics.load_ipython_extension(ip)


def test_in_colab_the_live_view_carries_anywidget_s_metadata(
    ip: Shell, monkeypatch: pytest.MonkeyPatch, colab: str
) -> None:
    chat_magics = ip.magics_manager.registry["ChatMagics"]
    monkeypatch.setattr(chat_magics, "output", "widget")

    ran = run(ip, f"%chat {testing.script('Hi.').model} hello")

    assert ran.error is None
    live, final = ran.outputs
    assert live.metadata[WIDGET_VIEW] == {"colab": {"custom_widget_manager": {"url": colab}}}
    assert WIDGET_VIEW not in final.data


def test_a_new_model_gets_a_new_widget_and_the_old_one_is_closed(
    ip: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_magics = ip.magics_manager.registry["ChatMagics"]
    assert isinstance(chat_magics, magics.ChatMagics)
    monkeypatch.setattr(chat_magics, "output", "widget")
    first, second = testing.script("one"), testing.script("two")

    run(ip, f"%chat {first.model} a")
    old = session(ip).view
    run(ip, f"%chat {second.model} b")

    assert old is not None
    assert old.comm is None
    assert session(ip).view is not old
    assert [m["content"] for m in session(ip).view.messages] == ["b", "two"]  # type: ignore[union-attr]


def test_config_shows_settings_and_never_a_key(ip: Shell) -> None:
    nbchat.configure(api_key=SECRET)
    script = testing.script("ok")
    run(ip, f"%chat {script.model} hi")

    shown = run(ip, "%chat config")
    refused = run(ip, f"%chat config api_key={SECRET}")

    assert "api_key   set" in shown.stdout
    assert script.model in shown.stdout
    assert SECRET not in shown.stdout
    assert "API keys cannot be set in a cell" in refused.stdout
    assert SECRET[8:] not in refused.stdout


def test_config_never_shows_a_password_in_a_base_url(ip: Shell) -> None:
    script = testing.script("ok")
    nbchat.configure(base_url="http://user:hunter2-secret@127.0.0.1:9/v1")
    run(ip, f"%chat {script.model} --base-url https://me:pa55word@example.test/v1 hi")

    shown = run(ip, "%chat config").stdout

    assert "http://***@127.0.0.1:9/v1" in shown
    assert "https://***@example.test/v1" in shown
    assert "hunter2" not in shown
    assert "pa55word" not in shown


def test_config_options_apply_to_later_turns(ip: Shell) -> None:
    script = testing.script("ok")

    assert run(ip, "%chat config max_tokens=7 temperature=0.5").error is None
    run(ip, f"%chat {script.model} hi")
    run(ip, "%chat --temperature 0.1 again")

    assert script.requests[0].options == {"max_tokens": 7, "temperature": 0.5}
    assert script.requests[1].options == {"max_tokens": 7, "temperature": 0.1}


def test_config_rejects_unknown_settings_and_changes_nothing(ip: Shell) -> None:
    ran = run(ip, "%chat config temperature=0.3 temprature=0.5")

    assert type(ran.error).__name__ == "InvalidOption"
    assert "temprature" in ran.stdout
    assert dict(settings.settings().options) == {}


def test_history_shows_the_conversation(ip: Shell) -> None:
    assert "No messages yet." in run(ip, "%chat history").stdout
    script = testing.script("First reply.", "Second reply.")
    run(ip, f"%chat {script.model} one")
    run(ip, "%chat two")

    (shown,) = run(ip, "%chat history").outputs

    markdown = shown.data["text/markdown"]
    assert markdown.index("one") < markdown.index("First reply.") < markdown.index("two")
    assert "Second reply." in markdown


def test_models_lists_what_the_provider_offers(ip: Shell) -> None:
    (shown,) = run(ip, "%chat models demo").outputs

    assert "demo:echo" in shown.data["text/plain"].splitlines()
