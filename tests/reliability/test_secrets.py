"""API keys stay in the kernel: never in a trait, a comm message, a saved file, a log, a repr,
an exception text or ``%chat config`` — even when a server echoes the key back.

A key is "absent" when neither it nor its first or last eight characters appear (servers
echo masked keys such as ``sk-abc…***…wxyz``). The key reaches nbchat by argument, by
``configure()`` and by environment variable; a server that requires it proves it was sent.
"""

from __future__ import annotations

import json
import logging
import pathlib
import secrets
import traceback
import typing
from collections.abc import Callable, Iterable, Iterator

import nbformat as _nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from nbclient import NotebookClient
from tests.reliability.harness import (
    custom,
    from_ui,
    kernel_env,
    submit_and_wait,
    wire,
)
from tests.servers import DEFAULT_TEXT, Behaviour, EmulatorServer, Reply

import nbchat
from nbchat import magics, settings
from nbchat.errors import NbchatError
from nbchat.widget import Chat

if typing.TYPE_CHECKING:
    from tests.e2e.harness import Jupyter

EmulatorFactory = Callable[..., EmulatorServer]
nbformat: typing.Any = _nbformat  # untyped

SECRET = "sk-" + secrets.token_hex(24)
PIECES = (SECRET, SECRET[:8], SECRET[-8:])

#: Answers whose error texts repeat the Authorization header (a careless proxy, a
#: chatty server): a mid-reply error, a garbage line, and an error status.
LEAKY = [
    Reply(behaviour=Behaviour(error_after=2, leak_key=True)),
    Reply(behaviour=Behaviour(garbage_after=1, leak_key=True)),
    Reply(behaviour=Behaviour(error="server", leak_key=True)),
    Reply(behaviour=Behaviour(error="rate_limit", leak_key=True, retry_after="3")),
]


def assert_no_key(where: str, text: str | bytes) -> None:
    data = text if isinstance(text, str) else text.decode("utf-8", "replace")
    for piece in PIECES:
        assert piece not in data, f"the key ({piece!r}) is in {where}"


def everything_in(values: Iterable[object]) -> str:
    return json.dumps(list(values), default=repr, ensure_ascii=False)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record of every logger (httpx, httpcore, nbchat…) down to DEBUG."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def error_texts(exc: BaseException) -> str:
    """What a user or a log could see of an exception: str, repr, args, hint, traceback."""
    parts = [str(exc), repr(exc), repr(exc.args)]
    if isinstance(exc, NbchatError):
        parts += [exc.message, exc.hint, exc.partial, str(exc.base_url)]
    parts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------
# In this process: the widget, the conversation, the files.


@pytest.mark.parametrize("source", ["argument", "configure", "environment"])
@pytest.mark.usefixtures("recording_comm")
async def test_the_key_is_used_but_never_shown_by_the_widget(
    emulator: EmulatorFactory,
    logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
    source: str,
) -> None:
    server = emulator("openai", api_key=SECRET)
    server.enqueue(Reply(text="Authorised."), *LEAKY)
    given: str | None = None
    if source == "argument":
        given = SECRET
    elif source == "configure":
        nbchat.configure(api_key=SECRET)
    else:
        monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    chat = Chat("openai:gpt-4o-mini", base_url=server.base_url, api_key=given)

    ends = [await submit_and_wait(chat, "Hello?")]
    ends += [await submit_and_wait(chat, f"Fail #{i}") for i in range(len(LEAKY))]
    from_ui(chat, kind="submit", text="")  # a refused command has its own error message

    # The key went out (the server requires it) and came back in four error texts.
    assert ends[0]["kind"] == "done"
    assert chat.messages[1]["content"] == "Authorised."
    assert [e["kind"] for e in ends[1:]] == ["error"] * len(LEAKY)
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert any("[redacted]" in e["message"] for e in ends[1:])  # the echo was there, and cut

    comm = wire(chat)
    assert_no_key("the comm messages sent", everything_in([s.data for s in comm.log]))
    assert_no_key("the comm messages received", everything_in(comm.received))
    assert_no_key("the custom messages", everything_in(custom(chat)))
    assert_no_key("the traits", everything_in(chat.get_state().values()))
    assert_no_key("the messages", everything_in(chat.conversation.messages))
    for thing in (
        chat,
        chat.conversation,
        chat.conversation.provider,
        chat.conversation.resolution,
    ):
        assert_no_key(f"repr({type(thing).__name__})", repr(thing))
    assert_no_key("configure()", repr(nbchat.configure()))
    assert_no_key("the static transcript", json.dumps(chat._repr_mimebundle_()))
    for suffix in ("json", "md", "html"):
        path = tmp_path / f"chat.{suffix}"
        chat.save(str(path))
        assert_no_key(f"chat.save(*.{suffix})", path.read_text(encoding="utf-8"))
    assert_no_key("the logs", "\n".join(f"{r.getMessage()} {r.args!r}" for r in logs.records))


def test_the_key_is_never_in_an_exception(emulator: EmulatorFactory) -> None:
    server = emulator("ollama", api_key=SECRET)
    server.enqueue(*LEAKY, Reply(behaviour=Behaviour(error="unauthorized", leak_key=True)))
    conversation = nbchat.Conversation("ollama:llama3.2", base_url=server.root_url, api_key=SECRET)
    wrong = nbchat.Conversation("ollama:llama3.2", base_url=server.root_url, api_key=SECRET[::-1])

    raised: list[BaseException] = []
    for _ in LEAKY:
        with pytest.raises(NbchatError) as caught:
            conversation.prompt("Fail").result()
        raised.append(caught.value)
    with pytest.raises(NbchatError) as refused:  # a wrong key, which the server masks
        wrong.prompt("Let me in").result()
    raised.append(refused.value)
    with pytest.raises(NbchatError) as unreachable:  # the key inside the URL
        nbchat.Conversation("ollama:x", base_url=f"http://me:{SECRET}@127.0.0.1:9").prompt(
            "Hi"
        ).result()
    raised.append(unreachable.value)

    assert len({type(e) for e in raised}) >= 4
    for exc in raised:
        assert_no_key(f"a {type(exc).__name__}", error_texts(exc))
    assert_no_key("the turns' messages", everything_in(conversation.messages))


def test_a_key_in_the_base_url_is_never_shown_or_saved(tmp_path: pathlib.Path) -> None:
    url = f"http://me:{SECRET}@127.0.0.1:9/v1"
    conversation = nbchat.Conversation("openai:gpt-4o-mini", base_url=url)

    for thing in (conversation, conversation.provider, conversation.resolution):
        assert_no_key(f"repr({type(thing).__name__})", repr(thing))
    path = tmp_path / "chat.json"
    conversation.save(str(path))
    assert_no_key("the saved conversation", path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------
# %chat config.


@pytest.fixture
def ip() -> Iterator[typing.Any]:
    shell = InteractiveShell.instance()
    magics.load_ipython_extension(shell)
    try:
        yield shell
    finally:
        magics.unload_ipython_extension(shell)


def run(ip: typing.Any, source: str) -> tuple[BaseException | None, str]:
    with capture_output() as cap:
        result = ip.run_cell(source)
    return result.error_in_exec or result.error_before_exec, cap.stdout + cap.stderr


def test_chat_config_says_set_never_the_key(
    ip: typing.Any, emulator: EmulatorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = emulator("openai", api_key=SECRET)
    monkeypatch.setenv("OLLAMA_API_KEY", SECRET)
    nbchat.configure(api_key=SECRET)

    outputs = [run(ip, f"%chat openai:gpt-4o-mini --base-url {server.base_url} Hello?")]
    outputs.append(run(ip, "%chat config"))
    outputs.append(run(ip, f"%chat config api_key={SECRET}"))  # refused: notebooks are saved
    outputs.append(run(ip, "%chat history"))

    assert outputs[0][0] is None
    assert "Hello from the" in outputs[0][1]
    assert "api_key   set" in outputs[1][1]
    assert type(outputs[2][0]).__name__ == "InvalidRequest"
    assert settings.settings().api_key == SECRET  # the refused call changed nothing
    for _, text in outputs:
        assert_no_key("%chat output", text)


# ---------------------------------------------------------------------------------------
# In a real kernel: what iopub carries and what a saved notebook keeps.


@pytest.mark.kernel
def test_a_notebook_run_in_a_kernel_saves_no_key(tmp_path: pathlib.Path) -> None:
    with EmulatorServer("openai", api_key=SECRET) as server:
        server.enqueue(Reply(text="Authorised."), LEAKY[0], Reply(text="Also fine."))
        (tmp_path / "key.txt").write_text(SECRET)  # the notebook reads it; it never holds it
        cells = [
            "import nbchat, pathlib\n"
            "key = pathlib.Path('key.txt').read_text()\n"
            f"chat = nbchat.Chat('openai:gpt-4o-mini', base_url='{server.base_url}', api_key=key)\n"
            "chat",
            "chat.ask('Hello?')",
            "try:\n    chat.ask('Fail')\n"
            "except nbchat.NbchatError as exc:\n    print(repr(exc), exc)",
            "%load_ext nbchat\nnbchat.configure(api_key=key)",
            f"%chat openai:gpt-4o-mini --base-url {server.base_url} And you?",
            "%chat config",
            "chat, chat.conversation, chat.conversation.provider, nbchat.configure()",
        ]
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        client = NotebookClient(
            nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
        )
        client.execute(env=kernel_env())  # nothing of nbchat's own variables
        assert len(server.chat_requests) == 3

    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = path.read_text(encoding="utf-8")
    assert "Authorised." in saved  # the outputs are really there
    assert "Also fine." in saved
    assert "application/vnd.jupyter.widget-state+json" in saved  # …and the widget state
    assert_no_key("the saved notebook", saved)
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert errors == []


# ---------------------------------------------------------------------------------------
# In JupyterLab: every websocket frame, both directions, and the notebook it saves.

KEY_CELLS = (
    "import nbchat, pathlib\n"
    "key = pathlib.Path('key.txt').read_text()\n"
    "chat = nbchat.Chat('openai:gpt-4o-mini', base_url='{base_url}', api_key=key)\n"
    "chat",
    "%load_ext nbchat\nnbchat.configure(api_key=key)\n%chat config",
    "chat, chat.conversation.provider",
)


@pytest.mark.e2e
def test_jupyterlab_never_sees_the_key(lab: Jupyter) -> None:
    frames: list[str | bytes] = []

    def watch(ws: typing.Any) -> None:
        ws.on("framesent", lambda payload: frames.append(payload))
        ws.on("framereceived", lambda payload: frames.append(payload))

    lab.page.on("websocket", watch)
    _save_widget_state(lab)
    (lab.server.root / "key.txt").write_text(SECRET)
    with EmulatorServer("openai", api_key=SECRET) as server:
        server.enqueue(Reply(text="Authorised by the server."), LEAKY[0])
        lab.open_notebook(KEY_CELLS[0].format(base_url=server.base_url), *KEY_CELLS[1:])
        lab.run_all()
        lab.submit("Hello?")
        lab.wait_idle()
        lab.submit("Fail now")
        lab.widget().locator(".nbc-error").last.wait_for()
        lab.wait_idle()
        shown = lab.widget().inner_text()
        assert "Authorised by the server." in shown
        assert "[redacted]" in shown  # the server echoed the key; the UI shows it cut
        assert server.chat_requests[0].headers["authorization"] == f"Bearer {SECRET}"

    lab.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    lab.page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    saved = (lab.server.root / f"{lab.test_name}.ipynb").read_text(encoding="utf-8")

    assert len(frames) > 20
    assert any(
        DEFAULT_TEXT[:5] in (f if isinstance(f, str) else f.decode("utf-8", "replace"))
        or "Authorised" in (f if isinstance(f, str) else f.decode("utf-8", "replace"))
        for f in frames
    )
    for frame in frames:
        assert_no_key("a websocket frame", frame)
    assert "application/vnd.jupyter.widget-state+json" in saved
    assert "Authorised by the server." in saved
    assert "api_key   set" in saved  # %chat config ran and said so
    assert_no_key("the saved notebook", saved)
    assert_no_key("the Jupyter server's log", lab.server.log_path.read_bytes())
    assert lab.unexpected_console_errors() == []


def _save_widget_state(lab: Jupyter) -> None:
    """Turn on "save widget state" (off by default) before the app loads its settings."""
    import urllib.request

    request = urllib.request.Request(
        f"{lab.server.url}/lab/api/settings/@jupyter-widgets/jupyterlab-manager:plugin",
        method="PUT",
        data=json.dumps({"raw": json.dumps({"saveState": True})}).encode(),
        headers={"Authorization": f"token {lab.server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 204)
