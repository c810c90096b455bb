"""%chat in a real Jupyter kernel: nbclient, nbconvert and an interrupt, against the emulator.

The emulator runs in this process (a thread on 127.0.0.1); the kernel is a subprocess that
talks to it over HTTP, exactly as it would talk to Ollama or an OpenAI-compatible server.
"""

from __future__ import annotations

import html.parser
import pathlib
import queue
import subprocess
import sys
import time
import typing
from collections.abc import Iterator

import nbformat as _nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from tests.servers import EmulatorServer, Reply

pytestmark = pytest.mark.kernel

#: nbformat's functions are untyped.
nbformat: typing.Any = _nbformat

SECRET = "sk-kernel-test-NEVER-SAVED-0123456789abcdef"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
REPLY = (
    "A **closure** keeps the variables of the scope it was made in.\n\n"
    "| language | keyword |\n|---|---|\n| Python | `nonlocal` |\n\n"
    "Euler says $e^{i\\pi} + 1 = 0$, and\n\n$$\\int_0^1 x\\,dx = \\tfrac12$$\n\n"
    "```python\ndef counter():\n    n = 0\n    def bump():\n        nonlocal n\n"
    "        n += 1\n        return n\n    return bump\n```\n"
)
TIMEOUT = 60.0
_ENV_NAMES = (
    "NBCHAT_MODEL",
    "NBCHAT_BASE_URL",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel inherits this environment: nothing that could reach a real server."""
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")


class _VisibleText(html.parser.HTMLParser):
    """The text a reader sees: everything outside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.code: list[str] = []
        self._hidden = 0
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "pre":
            self._in_code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1
        if tag == "pre":
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)
            if self._in_code:
                self.code.append(data)


def _outputs(nb: typing.Any, index: int) -> list[dict[str, typing.Any]]:
    return typing.cast(list[dict[str, typing.Any]], nb.cells[index].outputs)


def test_a_notebook_run_by_nbclient_saves_the_whole_reply_as_a_static_transcript(
    tmp_path: pathlib.Path, kernel_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # the kernel reads it; nothing may save it
    with EmulatorServer("openai", api_key=SECRET) as server:
        server.enqueue(Reply(text=REPLY), Reply(text="Only with `nonlocal`."))
        cells = [
            "%load_ext nbchat\n%load_ext nbchat",
            f"%chat config model=openai:gpt-4o-mini base_url={server.base_url}",
            'topic = "closures"',
            "%%chat --temperature 0.2\nExplain {topic} with a table, math and code.",
            "%chat Can the inner function assign to n?",
            "%chat history",
            "%chat config",
        ]
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        NotebookClient(
            nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
        ).execute()
        sent = [r.json() for r in server.chat_requests]

    # The first %%chat cell: one output, the static transcript that replaced the live view.
    (first,) = _outputs(nb, 3)
    assert first["output_type"] == "display_data"
    assert WIDGET_VIEW not in first["data"]
    markdown = first["data"]["text/markdown"]
    assert "Explain closures with a table, math and code." in markdown
    assert REPLY.strip() in markdown  # the whole reply, math and code untouched
    assert "openai:gpt-4o-mini" in markdown
    assert REPLY.strip() in first["data"]["text/plain"]

    # The second call continued the conversation, and said so in the request.
    assert [m["role"] for m in sent[1]["messages"]] == ["user", "assistant", "user"]
    assert sent[0]["temperature"] == 0.2
    assert "temperature" not in sent[1]  # a flag is for its own call only
    (second,) = _outputs(nb, 4)
    assert "Only with `nonlocal`." in second["data"]["text/markdown"]

    (history,) = _outputs(nb, 5)
    assert "Can the inner function assign to n?" in history["data"]["text/markdown"]
    config_text = "".join(o.get("text", "") for o in _outputs(nb, 6))
    assert "conversation: 4 messages with openai:gpt-4o-mini" in config_text
    assert "; api_key set" in config_text

    # nbclient saves the state of every widget the kernel opened: the magics open one chat per
    # conversation, not one per cell, and the view's code (~0.9 MB) is saved once, in the
    # runtime model the chat references.
    states = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    anywidgets = [s["state"] for s in states.values() if s["model_name"] == "AnyModel"]
    assert sorted("code" in s for s in anywidgets) == [False, True]

    path = tmp_path / "magics.ipynb"
    nbformat.write(nb, path)
    assert SECRET not in path.read_text()

    # nbconvert --to html, as a user runs it: the transcript shows without widget JavaScript.
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(path)],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    page = (tmp_path / "magics.html").read_text()
    assert SECRET not in page
    visible = _VisibleText()
    visible.feed(page)
    text = "".join(visible.parts)
    assert "keeps the variables of the scope it was made in" in text
    assert "$e^{i\\pi} + 1 = 0$" in text  # TeX left for the page's math renderer
    assert "Only with nonlocal." in text
    assert "nonlocal n" in "".join(visible.code)  # the fenced code is a code block


# ---------------------------------------------------------------------------------------
# A kernel driven message by message (jupyter_client): interrupt and set_next_input.


class Kernel:
    def __init__(self, cwd: pathlib.Path) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=TIMEOUT)

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def execute(self, code: str) -> tuple[dict[str, typing.Any], list[dict[str, typing.Any]]]:
        """Run ``code``; return the execute_reply content and the iopub messages of it."""
        msg_id = self.client.execute(code)
        return self.finish(msg_id)

    def finish(self, msg_id: str) -> tuple[dict[str, typing.Any], list[dict[str, typing.Any]]]:
        messages = self.iopub_until(msg_id, lambda m: _is_idle(m))
        while True:  # skip replies to earlier requests (wait_for_ready may leave some)
            reply = self.client.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], messages

    def iopub_until(
        self, msg_id: str, stop: typing.Callable[[dict[str, typing.Any]], bool]
    ) -> list[dict[str, typing.Any]]:
        """iopub messages of ``msg_id`` up to and including the first one ``stop`` accepts."""
        seen: list[dict[str, typing.Any]] = []
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                message = self.client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no matching iopub message; saw {len(seen)}") from None
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            seen.append(message)
            if stop(message):
                return seen


def _is_idle(message: dict[str, typing.Any]) -> bool:
    return bool(message["msg_type"] == "status" and message["content"]["execution_state"] == "idle")


def _streamed_text(message: dict[str, typing.Any]) -> bool:
    """A delta with text on the widget's channel: the reply is visibly streaming."""
    if message["msg_type"] != "comm_msg":
        return False
    data = message["content"].get("data", {})
    content = data.get("content") if data.get("method") == "custom" else None
    return isinstance(content, dict) and content.get("kind") == "delta" and bool(content["text"])


@pytest.fixture
def kernel(tmp_path: pathlib.Path, kernel_env: None) -> Iterator[Kernel]:
    started = Kernel(tmp_path)
    try:
        yield started
    finally:
        started.stop()


def test_an_interrupt_stops_the_request_keeps_the_partial_and_the_next_magic_works(
    kernel: Kernel,
) -> None:
    with EmulatorServer("ollama") as server:
        # Three pieces, then the server stalls until the client goes away.
        server.enqueue(Reply(tokens=["Partial", " reply", " so", " far"]), Reply(text="Fine."))
        reply, _ = kernel.execute("%load_ext nbchat")
        assert reply["status"] == "ok"

        msg_id = kernel.client.execute(
            f"%%chat ollama:llama3.2@stall_after=3 --base-url {server.base_url}\nTell me a story."
        )
        kernel.iopub_until(msg_id, _streamed_text)
        kernel.manager.interrupt_kernel()
        reply, messages = kernel.finish(msg_id)
        stalled = server.chat_requests[0]
        assert stalled.done.wait(TIMEOUT)

        assert stalled.client_left  # the HTTP response was closed: the server stops
        assert reply["status"] == "error"
        assert reply["ename"] == "KeyboardInterrupt"
        errors = [m["content"] for m in messages if m["msg_type"] == "error"]
        assert len(errors) == 1
        assert errors[0]["traceback"] == ["Stopped: the partial reply is kept."]
        final = [m["content"]["data"] for m in messages if m["msg_type"] == "update_display_data"]
        assert len(final) == 1
        assert "Partial reply so" in final[0]["text/markdown"]
        assert "far" not in final[0]["text/markdown"]
        assert "stopped" in final[0]["text/markdown"]

        # The session is usable, and the partial reply is part of what the model reads next.
        reply, messages = kernel.execute("%chat ollama:llama3.2 And then?")
        assert reply["status"] == "ok"
        history = server.chat_requests[1].json()["messages"]
        assert [(m["role"], m["content"]) for m in history] == [
            ("user", "Tell me a story."),
            ("assistant", "Partial reply so"),
            ("user", "And then?"),
        ]
        shown = [m["content"]["data"] for m in messages if m["msg_type"] == "update_display_data"]
        assert "Fine." in shown[-1]["text/markdown"]


def test_format_code_sends_the_code_to_the_next_cell_and_errors_are_one_line(
    kernel: Kernel,
) -> None:
    with EmulatorServer("ollama") as server:
        server.enqueue(Reply(text="Sure:\n\n```python\nprint('hello')\n```\n"))
        kernel.execute("%load_ext nbchat")

        reply, _ = kernel.execute(f"%chat ollama:llama3.2 --base-url {server.base_url} -f code hi")
        assert reply["status"] == "ok"
        assert reply["payload"] == [
            {"source": "set_next_input", "text": "print('hello')", "replace": False}
        ]

        reply, messages = kernel.execute("%chat ollama:no-such-model@error=model_not_found hi")
        assert reply["status"] == "error"
        assert reply["ename"] == "ModelNotFound"
        (error,) = [m["content"] for m in messages if m["msg_type"] == "error"]
        assert len(error["traceback"]) == 1
        assert "ollama pull" in error["traceback"][0]


def test_the_example_notebook_runs_top_to_bottom_on_the_demo(
    tmp_path: pathlib.Path, kernel_env: None
) -> None:
    source = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "magics.ipynb"
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []  # stored stripped
            assert cell.execution_count is None
    # The offline demo at full speed: the notebook must run with no model server.
    setup = 'import nbchat\nnbchat.configure("demo:showcase", tokens_per_second=0)'
    nb.cells.insert(0, nbformat.v4.new_code_cell(setup))

    NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()

    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    failed = [c.source for c in code_cells for o in c.outputs if o.output_type == "error"]
    assert failed == ["def mean(values):\n    return sum(values) / len(values)\n\n\nmean([])"]
    asks = [
        c
        for c in code_cells
        if c.source.startswith(("%chat", "%%chat"))
        and c.source.split()[1] not in ("models", "config", "reset", "history")
        and "-f text" not in c.source
    ]
    assert len(asks) == 8
    for cell in asks:
        (transcript,) = [o for o in cell.outputs if "text/markdown" in o.get("data", {})]
        assert WIDGET_VIEW not in transcript["data"]
        assert "demo:showcase" in transcript["data"]["text/markdown"]
    fix = asks[-1].outputs[0]["data"]["text/markdown"]
    assert "ZeroDivisionError: division by zero" in fix
