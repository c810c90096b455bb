"""%%chat in a real JupyterLab 4: the reply streams visibly, then stays as a transcript."""

from __future__ import annotations

import typing

import pytest
from tests.e2e.harness import Jupyter

pytestmark = pytest.mark.e2e

SETUP = 'import nbchat\nnbchat.configure("demo:showcase", tokens_per_second=120)\n%load_ext nbchat'
PROMPT = "Show me what you can do, please."

# Every animation frame, in the page: how long the streaming reply is, and what the view
# looks like. Recording in the page sees every state the user sees, without polling.
RECORD = """() => {
    const record = {lengths: [], compact: false, inputShown: false};
    window.__nbcRecord = record;
    const tick = () => {
        const root = document.querySelector('.jp-OutputArea-output .nbc-root');
        if (root) {
            const bodies = root.querySelectorAll('.nbc-msg-assistant .nbc-body');
            const body = bodies[bodies.length - 1];
            const n = body ? body.textContent.length : 0;
            if (record.lengths[record.lengths.length - 1] !== n) record.lengths.push(n);
            record.compact = record.compact || root.classList.contains('is-compact');
            const input = root.querySelector('textarea.nbc-input');
            record.inputShown = record.inputShown || !!(input && input.checkVisibility());
        }
        window.__nbcFrame = requestAnimationFrame(tick);
    };
    tick();
}"""
STOP = "() => { cancelAnimationFrame(window.__nbcFrame); return window.__nbcRecord; }"
CELL_DONE = """(index) => {
    const prompt = document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')[index];
    return !!prompt && /\\[\\d+\\]/.test(prompt.textContent || '');
}"""  # noqa: E501
TRANSCRIPT = ".jp-Notebook .jp-Cell:nth-child({}) .jp-OutputArea-output.jp-RenderedMarkdown"
FOLLOW_UP = "And in two lines?"


def test_chat_cell_streams_visibly_then_leaves_a_static_transcript(lab: Jupyter) -> None:
    lab.open_notebook(SETUP, f"%%chat\n{PROMPT}", f"%chat {FOLLOW_UP}")
    lab.run_cell(0)
    lab.page.wait_for_function(CELL_DONE, arg=0, timeout=60_000)
    lab.page.evaluate(RECORD)

    lab.run_cell(1)
    view = lab.widget()
    view.locator(".nbc-msg-assistant .nbc-body").last.wait_for(timeout=60_000)
    lab.page.wait_for_function(
        "() => [...document.querySelectorAll('.nbc-msg-assistant .nbc-body')]"
        ".some((b) => b.textContent.length > 80)"
    )
    lab.screenshot("magic-streaming", view)
    lab.page.wait_for_function(CELL_DONE, arg=1, timeout=60_000)
    transcript = lab.page.locator(TRANSCRIPT.format(2))
    transcript.wait_for(timeout=60_000)
    record = typing.cast(dict[str, typing.Any], lab.page.evaluate(STOP))

    lengths = [n for n in record["lengths"] if n > 0]
    assert len(set(lengths)) >= 3, f"too few intermediate states: {record['lengths']}"
    assert lengths == sorted(lengths), f"the reply shrank while streaming: {record['lengths']}"
    assert record["compact"]
    assert not record["inputShown"]  # a compact view: no input box, no toolbar

    # The live view became the transcript JupyterLab renders itself: math, table, code.
    assert lab.widgets().count() == 0
    assert PROMPT in (transcript.text_content() or "")
    assert transcript.locator("table tr").count() >= 3
    assert transcript.locator("pre").count() >= 1
    transcript.locator("mjx-container").first.wait_for(timeout=30_000)
    lab.screenshot("magic-transcript", transcript)

    # The next cell continues the conversation and streams into the same (reused) widget.
    lab.page.evaluate(RECORD)
    lab.run_cell(2)
    lab.page.wait_for_function(CELL_DONE, arg=2, timeout=60_000)
    follow_up = lab.page.locator(TRANSCRIPT.format(3))
    follow_up.wait_for(timeout=60_000)
    record = typing.cast(dict[str, typing.Any], lab.page.evaluate(STOP))
    lengths = [n for n in record["lengths"] if n > 0]
    assert len(set(lengths)) >= 3, f"too few intermediate states: {record['lengths']}"
    assert FOLLOW_UP in (follow_up.text_content() or "")
    assert PROMPT not in (follow_up.text_content() or "")  # each cell shows its exchange
    assert lab.widgets().count() == 0
    assert lab.unexpected_console_errors() == []
