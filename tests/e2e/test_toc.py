"""JupyterLab's table of contents lists the notebook's headings, those of code cells' outputs
included, and parses them from each output's Markdown on every output change. A chat's cell
holds its static transcript (the whole conversation as Markdown, rewritten as it changes):
nbchat's extension (labext/toc.js) keeps it out of the ToC, so a long chat neither fills the
ToC with its replies' headings nor has the page re-parse the conversation on every turn,
while the user's own headings stay, those in the chat's own cell too."""

from __future__ import annotations

import json

import pytest
from tests.e2e.harness import KERNEL_TIMEOUT, Jupyter, notebook_json

from nbchat.widget._static import TRANSCRIPT_MIME

pytestmark = pytest.mark.e2e

TURNS = 40
CHAT = f"""\
import nbchat
from IPython.display import Markdown, display
from nbchat import testing
from nbchat.session import Conversation
history = []
for i in range({TURNS}):
    history.append({{"id": f"u{{i}}", "role": "user", "content": f"# Question {{i}}"}})
    history.append({{"id": f"a{{i}}", "role": "assistant",
                    "content": f"## Answer {{i}}\\n\\n### Why {{i}}\\n\\nBecause.", "meta": {{}}}})
s = testing.script("# The newest reply\\n\\n## Its detail\\n\\nDone.", tokens_per_second=0)
chat = nbchat.Chat(conversation=Conversation(s.model, messages=history))
display(Markdown("## Results"))
chat"""
#: Run again after the turn: a heading that is new, so the ToC shows it only once it has been
#: refreshed after every change the turn made to the chat's cell.
CHECK = 'Markdown(f"## Checked {len(chat.messages) // 2} turns")'
TOC_ITEMS = ".jp-TableOfContents-tree .jp-tocItem-content"


def toc(lab: Jupyter) -> list[str]:
    texts = lab.page.locator(TOC_ITEMS).all_text_contents()
    return [" ".join(t.split()) for t in texts]


def test_a_long_chat_adds_nothing_to_the_table_of_contents(lab: Jupyter) -> None:
    nb = notebook_json(CHAT, CHECK)
    nb["cells"].insert(
        0, {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# My analysis"}
    )
    (lab.server.root / "toc.ipynb").write_text(json.dumps(nb))
    lab.page.goto(lab.server.page_url("toc.ipynb"))
    lab.page.wait_for_function(
        "() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
        timeout=KERNEL_TIMEOUT,
    )
    lab.wait_kernel_idle()
    lab.page.evaluate("() => window.jupyterapp.commands.execute('toc:show-panel')")
    lab.run_all()
    widget = lab.widget()
    widget.locator(".nbc-msg", has_text=f"Answer {TURNS - 1}").wait_for()

    # One more turn: the transcript is rewritten (its last part and its head).
    lab.submit("# One more question")
    lab.wait_idle()
    widget.locator(".nbc-msg", has_text="Its detail").wait_for()
    lab.page.wait_for_function(  # …with the whole turn in it
        """(mime) => window.jupyterapp.shell.currentWidget.content.widgets[1].model.outputs
            .toJSON().some((o) => o.data && mime in o.data
                && JSON.stringify(o.data['text/markdown']).includes('Its detail'))""",
        arg=TRANSCRIPT_MIME,
    )
    lab.run_cell(2)
    checked = f"Checked {TURNS + 1} turns"
    lab.page.wait_for_function(
        "([sel, text]) => [...document.querySelectorAll(sel)].some("
        "  (e) => e.textContent.includes(text))",
        arg=[TOC_ITEMS, checked],
    )

    # The user's headings only: the chat's 80 questions and answers (and the new turn's) are
    # not there, though its transcript holds them all as Markdown headings.
    assert toc(lab) == ["My analysis", "Results", checked]
    assert lab.unexpected_console_errors() == []
