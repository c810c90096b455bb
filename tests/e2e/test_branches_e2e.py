"""Branches, autosave and export in a real JupyterLab (issue #12): regenerate twice and walk
versions 1/3 to 3/3, edit a question and switch back, export HTML and open it (math typeset, no
script, no request), restart the kernel and re-run the cell: the chat is back from its file."""

from __future__ import annotations

import pathlib

import pytest
from playwright.sync_api import Locator, Request, expect
from tests.e2e.harness import Jupyter

pytestmark = pytest.mark.e2e

CELL = (
    "import nbchat\nfrom nbchat import testing\n"
    's = testing.script("one $x^2$", "two $x^2$", "three $x^2$", "four $x^2$", "five")\n'
    'chat = nbchat.Chat(s.model, file="branches.json")\nchat'
)


def _wait_text(locator: Locator, text: str) -> None:
    """Wait until ``locator`` (queried again and again: a switch replaces message views)
    shows ``text``."""
    expect(locator).to_have_text(text, timeout=30_000)


def test_regenerate_edit_switch_export_and_restore(lab: Jupyter) -> None:
    lab.open_notebook(CELL)
    lab.run_all()
    widget = lab.widget()
    lab.submit("Question")
    lab.wait_idle()
    reply = widget.locator(".nbc-msg-assistant").last

    # Regenerate twice: three versions of the reply, the newest shown.
    for label in ("2/2", "3/3"):
        reply.get_by_role("button", name="Regenerate this reply").click()
        _wait_text(widget.locator(".nbc-msg-assistant .nbc-version-label"), label)
        lab.wait_idle()
    reply = widget.locator(".nbc-msg-assistant").last
    assert "three" in (reply.locator(".nbc-body").text_content() or "")
    # Walk back with the keyboard: the switcher's buttons are in the Tab order.
    previous = reply.get_by_role("button", name="Previous version")
    for label, word in (("2/3", "two"), ("1/3", "one")):
        previous.focus()
        previous.press("Enter")
        _wait_text(widget.locator(".nbc-msg-assistant .nbc-version-label"), label)
        body = widget.locator(".nbc-msg-assistant .nbc-body").last
        assert word in (body.text_content() or "")

    # Edit the question: a sibling with a fresh reply; switch back to the first question.
    question = widget.locator(".nbc-msg-user").first
    question.get_by_role("button", name="Edit and resend").click()
    area = question.locator("textarea.nbc-edit-input")
    area.fill("Question, edited")
    area.press("Enter")
    _wait_text(widget.locator(".nbc-msg-user .nbc-version-label"), "2/2")
    lab.wait_idle()
    assert "four" in (widget.locator(".nbc-msg-assistant .nbc-body").last.text_content() or "")
    widget.locator(".nbc-msg-user").get_by_role("button", name="Previous version").click()
    _wait_text(widget.locator(".nbc-msg-user .nbc-version-label"), "1/2")
    # The first question's branch comes back with the reply it last showed (version 1 of 3).
    _wait_text(widget.locator(".nbc-msg-assistant .nbc-version-label"), "1/3")

    # Export → HTML: a download, opened in a browser page of its own.
    widget.get_by_role("button", name="Export the conversation").click()
    with lab.page.expect_download() as info:
        widget.get_by_role("menuitem", name="Export as HTML").click()
    html = pathlib.Path(info.value.path()).read_text(encoding="utf-8")
    page = lab.page.context.new_page()
    requests: list[str] = []

    def remote(request: Request) -> None:
        if not request.url.startswith(("data:", "about:")):
            requests.append(request.url)

    page.on("request", remote)
    page.set_content(html)
    assert page.locator("script").count() == 0
    assert page.locator(".nbc-msg-assistant .katex").count() >= 1
    page.wait_for_function("() => document.fonts.ready.then(() => true)")
    assert page.evaluate("() => document.fonts.check('1em KaTeX_Main')")
    assert requests == []
    page.close()

    # Restart the kernel and re-run the cell: the same chat, branches included.
    lab.page.evaluate(
        "async () => { await window.jupyterapp.shell.currentWidget.sessionContext"
        ".session.kernel.restart(); }"
    )
    lab.wait_kernel_idle()
    lab.run_all()
    widget = lab.widget()
    _wait_text(widget.locator(".nbc-msg-user .nbc-version-label"), "1/2")
    _wait_text(widget.locator(".nbc-msg-assistant .nbc-version-label"), "1/3")
    assert "one" in (widget.locator(".nbc-msg-assistant .nbc-body").last.text_content() or "")
    assert lab.unexpected_console_errors() == []
