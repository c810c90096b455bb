"""The same chat in Notebook 7: one smoke test of what a user does most."""

from __future__ import annotations

import pytest
from tests.e2e.harness import Jupyter

pytestmark = pytest.mark.e2e


def test_a_reply_streams_and_renders_and_typing_leaves_the_notebook_alone(
    notebook7: Jupyter,
) -> None:
    page = notebook7.page
    notebook7.open_notebook(
        "import nbchat\nchat = nbchat.Chat('demo:showcase', tokens_per_second=150)\nchat"
    )
    notebook7.run_all()
    widget = notebook7.widget()
    cells, counts = notebook7.cell_count(), notebook7.execution_counts()

    # Notebook 7 is where widget inputs used to trigger notebook shortcuts.
    box = widget.locator("textarea.nbc-input")
    box.click()
    box.press_sequentially("a b dd m 00 x", delay=10)
    box.press("Shift+Enter")
    assert box.input_value() == "a b dd m 00 x\n"
    assert (notebook7.cell_count(), notebook7.execution_counts()) == (cells, counts)
    box.fill("")

    notebook7.submit("Show me what you can do")
    lengths = notebook7.watch_stream(
        until=lambda: not notebook7.is_streaming() and notebook7.reply_length() > 500
    )
    growing = [n for n in lengths if n > 0]
    assert len(set(growing)) >= 3, lengths
    notebook7.wait_idle()
    reply = widget.locator(".nbc-msg-assistant").last
    assert reply.locator(".katex").count() >= 3
    assert page.evaluate("() => document.fonts.check('1em KaTeX_Main')")
    assert reply.locator("table tr").count() >= 4
    assert reply.locator("pre code .hljs-keyword").count() >= 2
    assert (notebook7.cell_count(), notebook7.execution_counts()) == (cells, counts)
    notebook7.screenshot("showcase", widget)
    assert notebook7.unexpected_console_errors() == []
