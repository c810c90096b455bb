"""The examples run as written: every notebook top to bottom, and the README's Python.

Every notebook runs with nbclient against no server at all: ``OLLAMA_HOST`` and
``OPENAI_BASE_URL`` name a loopback port that refuses connections, so detection falls back
to the offline demo and the cells that need a server show the error nbchat gives.
``backends.ipynb`` runs a second time against the loopback emulators (``tests/servers``),
found through the same environment variables a user would set. The README's plain-Python
examples run too: the demo one offline, the Ollama one against the Ollama emulator.

Notebooks are stored stripped. None keeps outputs in git, not even a static transcript: the
README's screenshot is made by the end-to-end test on every run, whereas stored outputs
would go stale silently.
"""

from __future__ import annotations

import json
import pathlib
import re
import socket
import typing
from collections.abc import Iterator

import nbformat as _nbformat
import pytest
from nbclient import NotebookClient
from tests.servers import DEFAULT_TEXT, EmulatorServer

#: nbformat's functions are untyped.
nbformat: typing.Any = _nbformat

REPO = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
TIMEOUT = 120  # seconds per cell: a kernel on a busy 2-core machine
# Cleared so nothing on the machine or in the shell that runs the tests is picked up.
ENV_NAMES = (
    "NBCHAT_MODEL",
    "NBCHAT_BASE_URL",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)
# The demo streams at a reader's pace (40 tokens/s); the tests want the replies, not the wait.
# An option given to one chat (demo:long's pace) still wins over this default.
FULL_SPEED = "import nbchat\nnbchat.configure(tokens_per_second=0)"
# Volatile metadata a stripped notebook does not carry (nbstripout removes the same).
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")
WIDGET_STATE = "widgets"
EXAMPLE_KEY = "sk-example-0000-not-a-real-key"  # in backends.ipynb's source, never its outputs


def _offline_expectations(refused: str) -> dict[str, list[str]]:
    """Text each notebook must show when no server answers (``refused``: the dead URL)."""
    return {
        "quickstart.ipynb": [
            f"demo:showcase — no server at {refused}",  # which model, and why
            "# What is a closure in Python?",  # the reply ask() returned, printed
            "'finish_reason': 'stop'",  # chat.messages[-1]["meta"]
            "### Assistant",  # to_markdown()
            "<Chat demo:showcase · 2 messages · idle>",  # the chat loaded from its file
            "version(s) of the last reply",  # the tree of a chat with file=
            "Name three prime numbers.",  # nbchat.stream() from plain Python
            "api_key   not set",  # nbchat.configure()
        ],
        "backends.ipynb": [
            f"demo:showcase — no server at {refused}",
            f"ServerUnreachable: No server at {refused} (connection refused)"
            " — is `ollama serve` running?",
            "api_key=<set>>",  # the provider's repr: the key is set, and not shown
            "ServerUnreachable: No server answers at",  # detection of BASE_URL
            "UnknownProvider: Unknown provider 'olama'. — Did you mean 'ollama:llama3.2'?",
            "InvalidOption: Unknown option 'temprature' for demo.",
            "InvalidRequest: The message is empty. — Type something to send.",
            "ModelNotFound: The demo has no model 'no-such-model'.",
            "ServerUnreachable: No server at http://127.0.0.1:9 (connection refused)",
        ],
        "math-and-code.ipynb": [
            "# Show me what you can render",  # demo:showcase, and its to_markdown() print
            "| Haskell | static, inferred | 1990 |",  # tables
            "const debounce = (fn, ms) =>",  # demo:code
            "fn mean(xs: &[f64]) -> Option<f64>",  # more languages
            r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}",  # the four delimiters
            r"\det A = ad - bc",  # demo:math
            "Mixed: the item costs $5, while $f(x) = x^2$ is a function.",  # currency
            "demo:reasoning",
            "demo:long · 10000 tokens",  # the whole long reply arrived
        ],
        "compare.ipynb": [
            "demo:math -> # Explain a monad in two sentences.",  # ask(): every model's reply
            "<Chat demo:math · 2 messages · idle>",  # cmp.chat(model)
            "'demo:echo #2': 'ping'",  # a model listed twice
            "#### `demo:code`",  # the magic's transcript: each reply headed by its model
        ],
        "images.ipynb": [
            "I received 1 image: 640×480 PNG.",  # chat.ask(images=[fig]): the demo says so
            "\\[image: 640×480 PNG\\]",  # the %%chat transcript's placeholder
            "I received 2 images: 400×300 PNG, 1280×960 PNG.",  # an array and a file
            "InvalidImage: The image 'https://example.com/chart.png' is a URL",  # never fetched
            "640×480 image/png, thumbnail",  # what the widget state carries
            "b'\\x89PNG\\r\\n\\x1a\\n'",  # the full image, kept in the kernel
        ],
        "magics.ipynb": [
            "demo:showcase",  # the transcripts the magics leave
            "ZeroDivisionError",  # %chat fix sent the error
        ],
        "tools.ipynb": [
            "'name': 'weather'",  # the schema from the signature
            "'description': 'Current weather for a city.'",
            '- **weather** answered: `{"city": "Paris", "temperature": 21',
            "there is no such city",  # the policy's reason, sent to the model
            "['Paris']",  # the function ran once
            '🔧 `weather({"city": "Atlantis"}) → declined',  # the export
            "- **describe** answered:",  # a notebook tool
            '"head": "[120, 135, 160, 190]"',
        ],
    }


# ---------------------------------------------------------------------------------------
# Running a notebook.


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback URL whose port is taken but not listening: every connection is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch, refused_url: str) -> str:
    """The kernel's environment: every server nbchat could look for refuses connections."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLLAMA_HOST", refused_url)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{refused_url}/v1")
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    return refused_url


def _execute(path: pathlib.Path, cwd: pathlib.Path) -> typing.Any:
    """Run the notebook at ``path`` in a fresh kernel (files it writes land in ``cwd``)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(FULL_SPEED))
    client = NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


def _texts(cell: typing.Any) -> list[str]:
    """What a reader sees of a cell's outputs: printed text, plain text and Markdown."""
    # A print per token arrives as one stream output each: join them back.
    printed = "".join(o["text"] for o in cell.get("outputs", []) if o["output_type"] == "stream")
    found = [printed] if printed else []
    for output in cell.get("outputs", []):
        if output["output_type"] == "error":
            found.append(f"{output['ename']}: {output['evalue']}")
        for kind in ("text/plain", "text/markdown"):
            if kind in output.get("data", {}):
                found.append(output["data"][kind])
    return found


def _all_text(nb: typing.Any) -> str:
    return "\n".join(text for cell in nb.cells for text in _texts(cell))


def _check_ran_cleanly(nb: typing.Any) -> None:
    """No cell failed or wrote to stderr, unless it is tagged to raise (and then it did)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o["output_type"] == "error"]
        stderr = [o["text"] for o in cell.outputs if o.get("name") == "stderr"]
        if "raises-exception" in cell.metadata.get("tags", []):
            assert errors, f"tagged to raise, but did not:\n{cell.source}"
        else:
            assert errors == [], f"failed:\n{cell.source}\n{_texts(cell)}"
            assert stderr == [], f"wrote to stderr:\n{cell.source}\n{stderr}"


def _missing(text: str, expected: list[str]) -> list[str]:
    return [piece for piece in expected if piece not in text]


# ---------------------------------------------------------------------------------------
# Every notebook, with no server.


def test_every_notebook_has_its_expectations() -> None:
    # A new notebook must say what it shows before it counts as tested.
    assert sorted(_offline_expectations("")) == [p.name for p in NOTEBOOKS]


@pytest.mark.kernel
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_runs_top_to_bottom_with_no_server(
    path: pathlib.Path, no_server: str, tmp_path: pathlib.Path
) -> None:
    nb = _execute(path, tmp_path)

    _check_ran_cleanly(nb)
    text = _all_text(nb)
    assert _missing(text, _offline_expectations(no_server)[path.name]) == []
    assert EXAMPLE_KEY not in text
    assert EXAMPLE_KEY not in json.dumps(nb.metadata.get(WIDGET_STATE, {}))
    if path.name == "quickstart.ipynb":
        saved = json.loads((tmp_path / "quickstart-chat.json").read_text(encoding="utf-8"))
        assert [m["role"] for m in saved["messages"]] == ["user", "assistant"]
        # The chat made with file= put its turn on disk as it ended.
        assert (tmp_path / "quickstart-kept.json").exists()


# ---------------------------------------------------------------------------------------
# backends.ipynb against the emulators.

VLLM_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"


@pytest.mark.kernel
def test_the_backends_notebook_talks_to_the_servers_the_environment_names(
    no_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    with (
        EmulatorServer("ollama") as ollama,
        EmulatorServer("vllm", models=[VLLM_MODEL]) as vllm,
    ):
        monkeypatch.setenv("OLLAMA_HOST", ollama.root_url)
        monkeypatch.setenv("OPENAI_BASE_URL", vllm.base_url)
        nb = _execute(REPO / "notebooks" / "backends.ipynb", tmp_path)
        to_ollama = [r.json() for r in ollama.chat_requests]
        to_vllm = [r.json() for r in vllm.chat_requests]

    _check_ran_cleanly(nb)
    text = _all_text(nb)
    assert (
        _missing(
            text,
            [
                # Detection found the Ollama that OLLAMA_HOST names, and its models.
                "ollama:llama3.2:latest — installed in Ollama (llama3.2 is preferred);"
                f" Ollama answers at {ollama.root_url}",
                "['ollama:llama3.2:latest', 'ollama:qwen3:8b']",
                # The vLLM at OPENAI_BASE_URL: recognised, its only model picked.
                f"openai:{VLLM_MODEL} — the only model the server lists;"
                f" GET {vllm.base_url}/models listed models (vllm)",
                f"['openai:{VLLM_MODEL}']",
                f"<OpenAIProvider {vllm.base_url}, api_key=<set>>",
            ],
        )
        == []
    )
    # The replies: nbchat.ask, the Ollama chat, the thinking model and the vLLM chat.
    assert text.count(DEFAULT_TEXT) >= 4
    # Only the deliberate error (a closed port) is a connection failure now.
    assert text.count("ServerUnreachable") == 1
    assert EXAMPLE_KEY not in text

    # What the cells asked for reached the wire.
    by_model = {body["model"]: body for body in to_ollama}
    assert by_model["llama3.2"]["options"] == {"num_ctx": 8192, "temperature": 0.2}
    assert by_model["llama3.2"]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert by_model["qwen3:8b"]["think"] is True
    (asked,) = to_vllm
    assert asked["model"] == VLLM_MODEL
    assert asked["temperature"] == 0.2


# ---------------------------------------------------------------------------------------
# Stored stripped.


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_is_stored_without_outputs_and_opens_with_a_python_kernel(
    path: pathlib.Path,
) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["kernelspec"]["language"] == "python"
    assert WIDGET_STATE not in nb.metadata, "saved widget state"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert cell.outputs == [], cell.source
        assert cell.execution_count is None, cell.source
    for cell in nb.cells:
        assert not set(VOLATILE_CELL_METADATA) & set(cell.metadata), cell.source


# ---------------------------------------------------------------------------------------
# The README's plain-Python examples.


def _readme_examples() -> list[str]:
    """The Python blocks of the README's "Plain Python" section, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Plain Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def demo_at_full_speed() -> Iterator[None]:
    import nbchat

    nbchat.configure(tokens_per_second=0)
    try:
        yield
    finally:
        nbchat.configure(tokens_per_second=None)  # None removes the default again


@pytest.mark.usefixtures("demo_at_full_speed")
def test_the_readme_examples_run_as_written(
    no_server: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    offline, with_ollama = _readme_examples()
    monkeypatch.chdir(tmp_path)  # the example saves talk.json

    exec(compile(offline, "README.md (demo)", "exec"), {})
    printed = capsys.readouterr().out
    assert "Say this back\n" in printed
    assert "['demo:showcase', 'demo:echo', 'demo:math'," in printed
    assert "TextDelta" in printed
    assert "Finish" in printed
    saved = json.loads((tmp_path / "talk.json").read_text(encoding="utf-8"))
    assert saved["system"] == "Be brief."
    assert len(saved["messages"]) == 4

    with EmulatorServer("ollama") as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.root_url)
        exec(compile(with_ollama, "README.md (Ollama)", "exec"), {})
        sent = [r.json() for r in ollama.chat_requests]
    printed = capsys.readouterr().out
    assert "['ollama:llama3.2:latest', 'ollama:qwen3:8b']" in printed
    assert printed.count(DEFAULT_TEXT) == 2  # streamed, then the thinker's answer
    assert [(body["model"], body.get("think")) for body in sent] == [
        ("llama3.2", None),
        ("qwen3:8b", True),
    ]
    assert sent[0]["options"] == {"temperature": 0.2}
    assert sent[1]["options"] == {"num_ctx": 8192}
