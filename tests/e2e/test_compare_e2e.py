"""nbchat.Compare in a real JupyterLab 4: three columns stream at once, Stop stops them
all, and a model that fails shows its error in its own column only."""

from __future__ import annotations

import pytest
from tests.e2e.harness import Jupyter

pytestmark = pytest.mark.e2e

SETUP = "import nbchat\nfrom nbchat import testing\nfrom nbchat.errors import ServerError"
COLUMN = ".nbc-compare section.nbc-col"
LENGTHS = f"""() => [...document.querySelectorAll('{COLUMN}')].map((col) =>
    [...col.querySelectorAll('.nbc-msg-assistant .nbc-body')]
        .map((b) => b.textContent.length).reduce((a, b) => a + b, 0))"""
STATES = f"() => [...document.querySelectorAll('{COLUMN}')].map((col) => col.dataset.state)"


@pytest.mark.viewport(1100, 1200)
def test_three_columns_stream_at_once_stop_stops_all_and_an_error_stays_in_its_column(
    lab: Jupyter,
) -> None:
    lab.open_notebook(
        f"{SETUP}\n"
        'a = testing.script(["alpha "] * 400, tokens_per_second=30)\n'
        'b = testing.script(["beta "] * 400, tokens_per_second=20)\n'
        'c = testing.script(["gamma "] * 30 + [ServerError("the server broke")],'
        " tokens_per_second=15)\n"
        "cmp = nbchat.Compare([a.model, b.model, c.model])\ncmp"
    )
    lab.run_all()
    widget = lab.widget()
    page = lab.page
    page.locator(COLUMN).nth(2).wait_for()
    assert page.locator(COLUMN).count() == 3
    # Side by side in a 900-px-wide output, not stacked.
    boxes = [page.locator(COLUMN).nth(i).bounding_box() for i in range(3)]
    assert all(b is not None for b in boxes)
    tops = {round(b["y"]) for b in boxes if b is not None}
    assert len(tops) == 1, boxes

    box = page.locator(".nbc-compare > .nbc-input-area textarea.nbc-input")
    box.click()
    box.press_sequentially("Go", delay=5)
    box.press("Enter")

    # Every column shows growing text before any of them has finished.
    page.wait_for_function(f"() => ({LENGTHS})().every((n) => n > 0)", timeout=30_000)
    first: list[int] = page.evaluate(LENGTHS)
    assert page.evaluate(STATES) == ["streaming"] * 3, page.evaluate(STATES)
    page.wait_for_function(
        f"(was) => ({LENGTHS})().every((n, i) => n > was[i])", arg=first, timeout=30_000
    )

    # The failing model shows its error in its column; the others go on streaming.
    page.wait_for_function(f"() => ({STATES})()[2] === 'error'", timeout=30_000)
    columns = page.locator(COLUMN)
    error = columns.nth(2).locator(".nbc-msg-assistant .nbc-error")
    error.wait_for()
    assert "the server broke" in (error.text_content() or "")
    assert page.evaluate(STATES)[:2] == ["streaming", "streaming"]
    for i in (0, 1):
        assert columns.nth(i).locator(".nbc-error:visible").count() == 0

    # Stop (the input's Send while replies stream) stops all of them.
    page.locator(".nbc-compare > .nbc-input-area button.nbc-send").click()
    page.wait_for_function(f"() => ({STATES})().every((s) => s !== 'streaming')", timeout=30_000)
    assert page.evaluate(STATES) == ["stopped", "stopped", "error"]
    for i in (0, 1):
        columns.nth(i).locator(".nbc-tag-stopped").wait_for()
        assert "first token" in (columns.nth(i).locator(".nbc-col-stats").text_content() or "")
    lab.screenshot("compare", widget)

    # Continue with this one: the comparison becomes that column's chat, in place.
    columns.nth(1).locator("button.nbc-col-choose").click()
    page.wait_for_function("() => document.querySelectorAll('.nbc-compare section').length === 0")
    chosen = widget.locator(".nbc-msg-assistant .nbc-body").last.text_content() or ""
    assert chosen.startswith("beta")
    assert lab.unexpected_console_errors() == []
