"""Screen readers in a real JupyterLab: axe-core over the chat (idle, streaming, stopped, with
an error), every control named and reached by Tab, and boundaries announced, not tokens."""

from __future__ import annotations

import pytest
from tests.e2e.a11y import axe_violations, control_problems, live_regions
from tests.e2e.harness import Jupyter

pytestmark = pytest.mark.e2e

SETUP = "import nbchat\nfrom nbchat import testing\nfrom nbchat.errors import ServerError"
ANNOUNCER = ".nbc-announcer"


def check(lab: Jupyter, state: str) -> None:
    widget = lab.widget()
    violations = axe_violations(lab.page, widget)
    assert violations == [], f"axe, {state}: {violations}"
    problems = control_problems(lab.page, widget)
    assert problems == [], f"controls, {state}: {problems}"


def heard(lab: Jupyter) -> str:
    return lab.widget().locator(ANNOUNCER).text_content() or ""


def test_the_chat_passes_axe_idle_streaming_stopped_and_failed(lab: Jupyter) -> None:
    lab.open_notebook(
        f"{SETUP}\n"
        "s = testing.script(\n"
        '    "Some **code**:\\n\\n```python\\nprint(1)\\n```\\n\\nand $x^2$.",\n'
        '    ["word "] * 30 + [testing.STALL],\n'
        '    ["Half an answer ", ServerError("The server went away.", hint="Ask again.")],\n'
        "    tokens_per_second=60,\n"
        ")\n"
        "chat = nbchat.Chat(s.model)\nchat"
    )
    lab.run_all()
    widget = lab.widget()
    # Before anything: the transcript is a log that is not read out as it changes.
    log = widget.locator('[role="log"]')
    assert log.get_attribute("aria-live") == "off"
    check(lab, "empty")

    # Record what the announcer says, as it says it.
    widget.evaluate(
        """(root) => {
            const region = root.querySelector('.nbc-announcer');
            window.__nbcHeard = [];
            new MutationObserver(() => window.__nbcHeard.push(region.textContent))
                .observe(region, { childList: true, characterData: true, subtree: true });
        }"""
    )
    lab.submit("Show me code")
    lab.wait_idle()
    lab.page.wait_for_function(
        "() => window.__nbcHeard.includes('Reply complete.')", timeout=10_000
    )
    check(lab, "idle, with a reply")

    # Streaming: the reply is busy, Stop is named and reachable; only the announcer is live.
    lab.submit("Talk")
    reply = widget.locator(".nbc-msg-assistant").nth(1)
    lab.page.wait_for_function(
        "() => (document.querySelectorAll('.nbc-msg-assistant')[1]?.textContent || '')"
        ".includes('word word word')"
    )
    assert reply.get_attribute("aria-busy") == "true"
    assert heard(lab) == "Generating reply…"
    shown_live = [c for c in live_regions(widget) if "nbc-announcer" in c]
    assert shown_live, live_regions(widget)
    assert widget.get_by_role("button", name="Stop generating").is_visible()
    check(lab, "streaming")

    widget.get_by_role("button", name="Stop generating").click()
    reply.locator(".nbc-tag-stopped").wait_for()
    lab.page.wait_for_function(
        "() => window.__nbcHeard.includes('Stopped. The partial reply is kept.')",
        timeout=10_000,
    )
    assert reply.get_attribute("aria-busy") is None
    assert reply.get_by_role("button", name="Continue this reply").count() == 1
    check(lab, "stopped")

    lab.submit("And now?")
    failed = widget.locator(".nbc-msg-assistant").nth(2)
    failed.locator(".nbc-error").wait_for()
    lab.wait_idle()
    lab.page.wait_for_function(
        "() => window.__nbcHeard.some((t) => t.startsWith('Reply failed: '))", timeout=10_000
    )
    said = lab.page.evaluate("() => window.__nbcHeard.filter((t) => t)")
    assert "The server went away." in said[-1]
    check(lab, "with an error")

    # Boundaries only: never a token. Three replies, each started and ended once. The third
    # fails one token after it starts, which can fall between two frames: then it was never
    # seen generating and only its failure is said.
    assert said[:4] == [
        "Generating reply…",
        "Reply complete.",
        "Generating reply…",
        "Stopped. The partial reply is kept.",
    ], said
    assert said[4:] in (["Generating reply…", said[-1]], [said[-1]]), said

    try:
        lab.set_theme("JupyterLab Dark")
        lab.page.wait_for_function(
            "() => document.querySelector('.nbc-root')?.dataset.theme === 'dark'"
        )
        check(lab, "dark, with an error")
    finally:
        lab.set_theme("JupyterLab Light")
    assert lab.unexpected_console_errors() == []
