"""Tool calls in a real JupyterLab: the card, approval from the keyboard, the kernel running
the function, a denial with a reason, Stop while a call waits, and hostile arguments and
results that stay text.

The model is scripted (``nbchat.testing``) in the notebook's kernel, so what the model was
sent on each step can be read back from a cell.
"""

from __future__ import annotations

import json
import typing

import pytest
from playwright.sync_api import expect
from tests.reliability.test_hostile_output import DOM_CHECK, EVIL

if typing.TYPE_CHECKING:
    from playwright.sync_api import Locator
    from tests.e2e.harness import Jupyter

pytestmark = pytest.mark.e2e

#: Arguments and a result built from the XSS corpus: each sets ``window.__xss`` if it runs,
#: or asks ``evil.invalid`` for something if it fetches.
HOSTILE_ARGUMENT = (
    f"<script>__xss=1</script><img src=x onerror=__xss=2>[x](javascript:__xss=3)"
    f"![y]({EVIL}/4.png)<style>body{{display:none!important}}</style>"
)
HOSTILE_RESULT = f"<img src=x onerror=__xss=5> **21 °C** <iframe src={EVIL}/6></iframe>"

SETUP = f"""\
import json, nbchat
from nbchat import testing
from nbchat.providers.base import ToolCall
calls = []
def weather(city: str) -> str:
    '''Current weather for a city.'''
    calls.append(city)
    return {HOSTILE_RESULT!r} + " in " + city
def call(id, city):
    return ToolCall(0, "weather", json.dumps({{"city": city}}), id)
s = testing.script(
    ["Let me check. ", call("c1", "Paris")], "It is 21 °C in Paris.",
    [call("c2", {HOSTILE_ARGUMENT!r})], "Alright, no weather.",
    [call("c3", "Rome")], "never asked for",
)
chat = nbchat.Chat(s.model, tools=[weather])
chat"""

#: What the kernel saw: the function's calls and the tool messages of the last request.
REPORT = (
    "print(json.dumps({'calls': calls, 'requests': len(s.requests), 'tool_results': "
    "[m['content'] for m in s.requests[-1].messages if m['role'] == 'tool']}))"
)


def _last_card(root: Locator, status: str) -> Locator:
    """The last reply's last card, once its status is ``status``."""
    card = root.locator(".nbc-msg-assistant").last.locator(".nbc-tool").last
    expect(card).to_have_attribute("data-status", status, timeout=30_000)
    return card


def _report(lab: Jupyter, seen: int) -> dict[str, typing.Any]:
    """Run the report cell and read what it printed (its ``seen``-th run)."""
    lab.run_cell(1)
    out = lab.page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea-output")
    lab.page.wait_for_function(
        """([n]) => {
            const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[1];
            const prompt = cell.querySelector('.jp-InputArea-prompt').textContent || '';
            const out = cell.querySelector('.jp-OutputArea-output');
            return out && (out.textContent || '').trim().startsWith('{')
                && /\\[\\d+\\]/.test(prompt) && Number(prompt.match(/\\d+/)[0]) >= n;
        }""",
        arg=[seen],
    )
    return typing.cast(dict[str, typing.Any], json.loads(out.last.inner_text()))


def test_allow_deny_and_stop_on_tool_cards_and_hostile_calls_stay_text(lab: Jupyter) -> None:
    requests: list[str] = []
    lab.page.context.on("request", lambda request: requests.append(request.url))
    lab.open_notebook(SETUP, REPORT)
    lab.run_cell(0)
    root = lab.widget()
    width = root.evaluate("el => el.getBoundingClientRect().width")

    # 1. A card appears where the call came, waiting; the status line says so.
    lab.submit("Weather in Paris?")
    card = _last_card(root, "waiting")
    assert root.locator(".nbc-status").inner_text() == "waiting for approval"
    assert card.locator(".nbc-tool-name").inner_text() == "weather"
    assert json.loads(card.locator(".nbc-tool-args").inner_text()) == {"city": "Paris"}
    assert _report(lab, 2)["calls"] == []  # the kernel is free meanwhile, and nothing ran
    lab.screenshot("waiting", root)

    # Allow from the keyboard: the function runs in the kernel and the reply goes on.
    allow = card.get_by_role("button", name="Allow weather", exact=True)
    allow.focus()
    lab.page.keyboard.press("Enter")
    expect(card).to_have_attribute("data-status", "done", timeout=30_000)
    lab.wait_idle()
    body = root.locator(".nbc-msg-assistant").last.locator(".nbc-body")
    text = body.inner_text()
    assert text.index("Let me check.") < text.index("weather") < text.index("It is 21 °C")
    assert card.locator(".nbc-tool-status").inner_text().startswith("done in ")
    card.locator("summary.nbc-tool-summary").click()  # the result is collapsed until asked
    assert HOSTILE_RESULT in card.locator(".nbc-tool-result pre").first.inner_text()
    report = _report(lab, 3)
    assert report["calls"] == ["Paris"]  # the side effect, seen in the kernel
    assert report["tool_results"] == [f"{HOSTILE_RESULT} in Paris"]

    # 2. Hostile arguments, denied with a reason typed after Tab-bing from Allow.
    lab.submit("And in <script>?")
    card = _last_card(root, "waiting")
    assert json.loads(card.locator(".nbc-tool-args").inner_text()) == {"city": HOSTILE_ARGUMENT}
    card.get_by_role("button", name="Allow weather", exact=True).focus()
    lab.page.keyboard.press("Tab")  # Always allow weather
    lab.page.keyboard.press("Tab")  # the reason
    focused = lab.page.evaluate("() => document.activeElement.className")
    assert "nbc-tool-reason" in focused
    lab.page.keyboard.type("not with that city")
    lab.page.keyboard.press("Enter")
    expect(card).to_have_attribute("data-status", "declined", timeout=30_000)
    lab.wait_idle()
    assert "Alright, no weather." in root.locator(".nbc-msg-assistant").last.inner_text()
    report = _report(lab, 4)
    assert report["calls"] == ["Paris"]  # not run
    assert report["requests"] == 4  # the refusal went to the model, which answered
    # The history carries the first exchange too: both results, in order.
    assert report["tool_results"] == [
        f"{HOSTILE_RESULT} in Paris",
        "The user declined this call: not with that city",
    ]

    # 3. Stop while a call waits: it is not run, and the reply ends stopped.
    lab.submit("And in Rome?")
    card = _last_card(root, "waiting")
    root.locator("button.nbc-send").click()  # Send is Stop while a reply is in flight
    lab.wait_idle()
    expect(card).to_have_attribute("data-status", "stopped", timeout=30_000)
    root.locator(".nbc-msg-assistant").last.locator(".nbc-tag-stopped").wait_for()
    report = _report(lab, 5)
    assert report["calls"] == ["Paris"]
    assert report["requests"] == 5  # no follow-up request

    # Nothing the model or the tool wrote ran, fetched or escaped the chat.
    lab.screenshot("after", root)
    outside = [[5, 5], [5, 995]]
    result = lab.page.evaluate(DOM_CHECK, [root.element_handle(), outside])
    assert result["intact"]
    assert result["xss"] == "undefined"
    assert result["problems"] == []
    assert root.evaluate("el => el.getBoundingClientRect().width") == width
    allowed = (lab.server.url + "/", f"blob:{lab.server.url}/", "data:")
    assert [u for u in requests if not u.startswith(allowed)] == []
    assert lab.unexpected_console_errors() == []
