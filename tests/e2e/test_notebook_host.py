"""The chat and the notebook around it (issue 15 parts 1 and 2), in JupyterLab 4 and Notebook 7.

- A reply run from code holds its cell, and the kernel hears nothing from the widget until it
  ends: the widget shows how to stop it (no dead Stop), and an interrupt ends the cell with one
  line and no traceback. ``await chat.ask_async`` keeps a Stop that works.
- Insert below puts a code block into a new cell right under the chat's cell, through nbchat's
  JupyterLab extension (labext/).
"""

from __future__ import annotations

import time
import typing

import pytest
from tests.e2e.harness import KERNEL_TIMEOUT, Jupyter

pytestmark = pytest.mark.e2e

STOPPED = "Stopped: the partial reply is kept."
SETUP = "import nbchat\nfrom nbchat import testing"
# A reply slow enough to act on while it streams: 400 words at 40 tokens a second.
SLOW = 's = testing.script(["word "] * 400, " and the end.", tokens_per_second=40)'


@pytest.fixture(params=["lab", "notebook7"])
def app(request: pytest.FixtureRequest) -> Jupyter:
    return typing.cast(Jupyter, request.getfixturevalue(request.param))


def start_run_all(jupyter: Jupyter) -> None:
    """Run All, without waiting: a cell is about to block."""
    jupyter.page.evaluate(
        """() => {
            const app = window.jupyterapp;
            app.shell.activateById(app.shell.currentWidget.id);
            void app.commands.execute('notebook:run-all-cells');
        }"""
    )


def wait_streamed(jupyter: Jupyter, chars: int = 40) -> None:
    jupyter.page.wait_for_function(
        """(n) => (document.querySelector('.nbc-msg-assistant.is-streaming .nbc-body')
                   ?.textContent || '').length > n""",
        arg=chars,
        timeout=KERNEL_TIMEOUT,
    )


def cells(jupyter: Jupyter) -> list[dict[str, typing.Any]]:
    """The notebook model's cells, as nbformat JSON."""
    return typing.cast(
        list[dict[str, typing.Any]],
        jupyter.page.evaluate(
            """() => window.jupyterapp.shell.currentWidget.content.model
                 .sharedModel.cells.map((c) => c.toJSON())"""
        ),
    )


def wait_cell_done(jupyter: Jupyter, index: int) -> None:
    """Wait until cell ``index`` has run (an execution count, no [*]) and the kernel idles."""
    jupyter.page.wait_for_function(
        """(i) => {
            const cell = window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells[i];
            return cell.execution_count !== null
                && !document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i]
                     .querySelector('.jp-InputArea-prompt').textContent.includes('*');
        }""",
        arg=index,
        timeout=KERNEL_TIMEOUT,
    )
    jupyter.wait_kernel_idle()


def assert_stopped_in_one_line(jupyter: Jupyter, index: int) -> None:
    """Cell ``index`` failed with KeyboardInterrupt, shown as exactly the one line."""
    outputs = cells(jupyter)[index]["outputs"]
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert len(errors) == 1, outputs
    assert errors[0]["ename"] == "KeyboardInterrupt"
    assert errors[0]["traceback"] == [STOPPED]
    shown = jupyter.page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    text = shown.locator(".jp-OutputArea-output[data-mime-type*='stderr']").inner_text()
    assert text.strip() == STOPPED
    assert "nbchat" not in text
    assert "Traceback" not in text


def assert_partial_kept_and_stopped(jupyter: Jupyter) -> None:
    reply = jupyter.widget().locator(".nbc-msg-assistant").last
    reply.locator(".nbc-tag-stopped").wait_for(timeout=KERNEL_TIMEOUT)
    partial = (reply.locator(".nbc-body").text_content() or "").strip()
    assert 40 <= len(partial) < len("word " * 400)
    assert set(partial.split()) == {"word"}


# ---------------------------------------------------------------------------------------
# Part 1: Stop that always works.


def test_a_blocking_ask_shows_how_to_stop_it_and_the_toolbar_interrupt_ends_it_in_one_line(
    lab: Jupyter,
) -> None:
    lab.open_notebook(
        f"{SETUP}\n{SLOW}\nchat = nbchat.Chat(s.model)\nchat", 'chat.ask("Talk")', "after = 1"
    )
    start_run_all(lab)
    wait_streamed(lab)
    widget = lab.widget()

    # No dead Stop: Send is disabled, and the note says what stops the reply.
    send = widget.locator("button.nbc-send")
    assert send.text_content() == "Send"
    assert send.is_disabled()
    assert widget.locator(".nbc-stop:visible").count() == 1  # only the extension's Interrupt
    note = widget.locator(".nbc-blocking")
    assert note.is_visible()
    assert "interrupt" in (note.text_content() or "").lower()
    # Keyboard users reach the note and Interrupt, just above the input box (and its Attach).
    widget.locator("textarea.nbc-input").focus()
    focused = []
    for _ in range(3):
        lab.page.keyboard.press("Shift+Tab")
        focused.append(lab.page.evaluate("() => document.activeElement.className"))
    assert focused == [
        "nbc-btn nbc-attach-button",
        "nbc-btn nbc-stop nbc-interrupt",
        "nbc-blocking-text",
    ]
    lab.screenshot("blocking-note", widget)

    # The notebook's own ■.
    lab.page.locator(
        ".jp-NotebookPanel-toolbar [data-command='notebook:interrupt-kernel']"
    ).first.click()
    wait_cell_done(lab, 1)
    assert_stopped_in_one_line(lab, 1)
    assert_partial_kept_and_stopped(lab)
    # Run All stopped at the interrupted cell.
    assert cells(lab)[2]["execution_count"] is None
    assert note.is_hidden()
    assert not send.is_disabled()
    assert lab.unexpected_console_errors() == []


def test_the_widgets_interrupt_button_stops_a_chat_cell_magic(lab: Jupyter) -> None:
    lab.open_notebook(
        f"{SETUP}\n{SLOW}\nnbchat.configure(s.model)\n%load_ext nbchat", "%%chat\nTalk"
    )
    lab.run_cell(0)
    wait_cell_done(lab, 0)
    lab.run_cell(1)
    wait_streamed(lab)
    widget = lab.widget()
    assert widget.locator(".nbc-blocking").is_visible()  # the compact view shows it too
    widget.locator("button.nbc-interrupt").click()
    wait_cell_done(lab, 1)
    assert_stopped_in_one_line(lab, 1)
    assert lab.unexpected_console_errors() == []


def test_stop_during_await_ask_async_ends_the_turn_within_a_second(lab: Jupyter) -> None:
    lab.open_notebook(
        f"{SETUP}\n{SLOW}\nchat = nbchat.Chat(s.model)\nchat",
        'reply = await chat.ask_async("Talk")',
        "len(reply)",
    )
    start_run_all(lab)
    wait_streamed(lab)
    widget = lab.widget()
    assert widget.locator(".nbc-blocking").is_hidden()
    stop = widget.locator("button.nbc-send.nbc-stop")
    assert stop.text_content() == "Stop"

    clicked = time.monotonic()
    stop.click()
    lab.page.wait_for_function(
        "() => !document.querySelector('.nbc-msg.is-streaming')", timeout=KERNEL_TIMEOUT
    )
    elapsed = time.monotonic() - clicked
    assert elapsed < 1.0, f"the turn ended {elapsed:.2f} s after Stop"
    assert_partial_kept_and_stopped(lab)
    # The cell was not interrupted: it returned the partial reply, and Run All went on.
    wait_cell_done(lab, 2)
    all_cells = cells(lab)
    assert not [o for o in all_cells[1]["outputs"] if o["output_type"] == "error"]
    assert all_cells[2]["execution_count"] is not None
    assert lab.unexpected_console_errors() == []


# ---------------------------------------------------------------------------------------
# Part 2: code into cells.


def test_insert_below_puts_the_code_in_a_new_cell_under_the_chats_cell(app: Jupyter) -> None:
    reply = "Here:\\n\\n```python\\nprint(6 * 7)\\n```\\n"
    app.open_notebook(
        "x = 0",
        f'{SETUP}\ns = testing.script("{reply}")\nchat = nbchat.Chat(s.model)\nchat',
        "y = 1",
    )
    app.run_all()
    app.submit("Some code, please")
    app.wait_idle()
    insert = app.widget().locator(".nbc-insert")
    insert.wait_for(state="visible")
    assert insert.get_attribute("aria-label") == "Insert below as a new cell"
    insert.click()
    app.page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 4"
    )
    shown = cells(app)
    assert [(c["cell_type"], c["source"]) for c in shown] == [
        ("code", "x = 0"),
        ("code", shown[1]["source"]),
        ("code", "print(6 * 7)"),
        ("code", "y = 1"),
    ]
    active = app.page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
    )
    assert active == 2
    assert insert.text_content() == "Inserted"
    assert app.unexpected_console_errors() == []
