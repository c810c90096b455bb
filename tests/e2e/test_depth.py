"""A long conversation in a real JupyterLab: the list keeps only what is on screen in the DOM,
opens at the newest message, never skips the newest exchange (content-visibility), the chat's
own find (Ctrl+F) reaches a message out of the DOM, "jump to latest" brings it back, and a
default save (no widget state) holds the whole conversation, read back with nbconvert."""

from __future__ import annotations

import typing

import nbconvert as _nbconvert
import nbformat as _nbformat
import pytest
from tests.e2e.harness import Jupyter

#: nbformat's and nbconvert's functions are untyped.
nbformat: typing.Any = _nbformat
nbconvert: typing.Any = _nbconvert

pytestmark = pytest.mark.e2e

TURNS = 300
CODE = f"""\
import nbchat
from nbchat import testing
from nbchat.session import Conversation
history = []
for i in range({TURNS}):
    history.append({{"id": f"u{{i}}", "role": "user", "content": f"Question {{i}}?"}})
    history.append({{"id": f"a{{i}}", "role": "assistant",
                    "content": f"Answer {{i}}: $x^2$ and `code`.", "meta": {{}}}})
s = testing.script("The newest reply.", tokens_per_second=0)
chat = nbchat.Chat(conversation=Conversation(s.model, messages=history))
chat"""


def test_a_deep_chat_stays_small_finds_follows_jumps_and_saves_whole(lab: Jupyter) -> None:
    lab.open_notebook(CODE, name="deep.ipynb")
    lab.run_all()
    widget = lab.widget()
    widget.locator(".nbc-msg", has_text=f"Answer {TURNS - 1}:").wait_for()
    scroller = widget.locator(".nbc-scroller")
    gap = "s => s.scrollHeight - s.scrollTop - s.clientHeight"

    # Opens at the newest message, with a bounded number of messages in the DOM.
    assert scroller.evaluate(gap) <= 70
    assert widget.locator(".nbc-msg").count() <= 40

    # The chat's own find (the browser's cannot see messages out of the DOM): Ctrl+F inside
    # the chat finds the first of 300 turns, scrolls to it and highlights it; Escape returns.
    prompt = widget.locator("textarea.nbc-input")
    prompt.click()
    assert widget.locator(".nbc-msg", has_text="Question 0?").count() == 0
    lab.page.keyboard.press("Control+f")
    find = widget.get_by_role("textbox", name="Find in chat")
    find.wait_for(state="visible")
    assert find.evaluate("el => el === document.activeElement")
    find.press_sequentially("question 0?", delay=5)
    count = widget.locator(".nbc-find-count")
    lab.page.wait_for_function("(el) => el.textContent === '1 of 1'", arg=count.element_handle())
    first = widget.locator(".nbc-msg", has_text="Question 0?")
    first.wait_for()
    lab.page.wait_for_function(
        """([s, m]) => {
            const a = s.getBoundingClientRect(), b = m.getBoundingClientRect();
            return b.top >= a.top - 1 && b.bottom <= a.bottom + 1
                && CSS.highlights.get('nbc-find-current')?.size === 1;
        }""",
        arg=[scroller.element_handle(), first.element_handle()],
    )
    assert lab.page.locator(".jp-DocumentSearch-overlay:visible").count() == 0  # not Lab's
    find.press("Escape")
    find.wait_for(state="hidden")
    assert prompt.evaluate("el => el === document.activeElement")

    # Scrolled away to the top: the oldest messages mount, the newest leave, Jump shows.
    scroller.evaluate("s => { s.scrollTop = 0; }")
    widget.locator(".nbc-msg", has_text="Question 0?").wait_for()
    jump = widget.locator(".nbc-jump")
    jump.wait_for(state="visible")
    assert widget.locator(".nbc-msg").count() <= 40
    jump.click()
    widget.locator(".nbc-msg", has_text=f"Answer {TURNS - 1}:").wait_for()
    lab.page.wait_for_function(
        "(s) => s.scrollHeight - s.scrollTop - s.clientHeight <= 70",
        arg=scroller.element_handle(),
    )

    # One more turn at depth: the list follows it and stays small.
    lab.submit("One more?")
    lab.wait_idle()
    widget.locator(".nbc-msg", has_text="The newest reply.").wait_for()
    lab.page.wait_for_function(
        "(s) => s.scrollHeight - s.scrollTop - s.clientHeight <= 70",
        arg=scroller.element_handle(),
    )
    assert widget.locator(".nbc-msg").count() <= 40
    # The newest exchange is never skipped while off screen (a reply mounted below the
    # viewport would be styled and laid out whole when it scrolls in); older ones may be.
    visibility = "el => getComputedStyle(el).contentVisibility"
    newest = widget.locator(".nbc-msg", has_text="The newest reply.")
    assert newest.evaluate(visibility) == "visible"
    older = widget.locator(".nbc-msg", has_text=f"Answer {TURNS - 1}:")
    assert older.evaluate(visibility) == "auto"

    # A default save (JupyterLab does not save widget state): the transcript is all there.
    lab.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    lab.page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    nb = nbformat.read(str(lab.server.root / "deep.ipynb"), as_version=4)
    markdown, _ = nbconvert.MarkdownExporter().from_notebook_node(nb)
    positions = [markdown.find(f"Question {i}?") for i in range(TURNS)]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert markdown.find("One more?") > positions[-1]
    assert "The newest reply." in markdown
    assert lab.unexpected_console_errors() == []
