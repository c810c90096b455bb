"""Nothing is lost by saving a long conversation: run with nbclient (a real kernel), the saved
notebook holds the whole conversation twice — in the widget state nbclient saves (per-message
keys: every message, its parent, the leaf) and in the static transcript's Markdown outputs
(what a default JupyterLab save keeps and nbconvert/GitHub show).
"""

from __future__ import annotations

import pathlib
import typing

import nbformat as _nbformat
from nbclient import NotebookClient

#: nbformat's functions are untyped.
nbformat: typing.Any = _nbformat

TURNS = 150
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
TRANSCRIPT = "application/vnd.nbchat.transcript+json"

SETUP = f"""\
import nbchat
from nbchat import testing
from nbchat.session import Conversation
history = []
for i in range({TURNS}):
    history.append({{"id": f"u{{i}}", "role": "user", "content": f"Question {{i}}?"}})
    history.append(
        {{"id": f"a{{i}}", "role": "assistant", "content": f"Answer {{i}}: $x^{{{{{{i}}}}}}$.",
         "meta": {{}}}}
    )
script = testing.script("The fresh reply, $e^{{i\\\\pi}} = -1$.", tokens_per_second=0)
chat = nbchat.Chat(conversation=Conversation(script.model, messages=history))
chat
"""


def test_a_notebook_run_at_depth_saves_every_message_in_the_state_and_the_transcript(
    tmp_path: pathlib.Path,
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell('print(chat.ask("One more?"))'),
    ]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = nbformat.read(path, as_version=4)

    # The widget state nbclient saved: every message as its own key, and the branch is whole.
    states = saved.metadata["widgets"][WIDGET_STATE]["state"].values()
    chats = [s["state"] for s in states if "leaf" in s["state"]]
    assert len(chats) == 1
    state = chats[0]
    messages = {k[2:]: v for k, v in state.items() if k.startswith("m:")}
    assert len(messages) == 2 * TURNS + 2
    branch: list[dict[str, typing.Any]] = []
    at: str | None = state["leaf"]
    while at is not None:
        branch.append(messages[at])
        at = messages[at]["parent"]
    branch.reverse()
    assert [m["content"] for m in branch[:2]] == ["Question 0?", "Answer 0: $x^{0}$."]
    assert branch[-2]["content"] == "One more?"
    assert branch[-1]["content"] == "The fresh reply, $e^{i\\pi} = -1$."
    assert len(branch) == 2 * TURNS + 2

    # The static transcript: its Markdown outputs, in order, hold every message.
    markdown = "\n".join(
        output["data"]["text/markdown"]
        for output in saved.cells[0].outputs
        if TRANSCRIPT in output.get("data", {})
    )
    positions = [markdown.find(f"Question {i}?") for i in range(TURNS)]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert f"Answer {TURNS - 1}: $x^{{{TURNS - 1}}}$." in markdown
    assert markdown.find("One more?") > positions[-1]
    assert "The fresh reply" in markdown
