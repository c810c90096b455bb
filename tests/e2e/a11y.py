"""Accessibility checks in a real browser: axe-core over the chat, and a Tab walk.

``axe_violations`` injects axe-core (npm, ``node_modules/axe-core``) into the page once and
runs it over the widget's root only (JupyterLab's own UI is not ours to fix), returning the
violations at the impacts we fix ("serious", "critical"). ``control_problems`` is the
browser half of ``tests/js/a11y.ts``: every shown control under the root must be named in
Chromium's accessibility tree and reached by pressing Tab from the first one, so a control
someone adds later (approval, image, insert buttons) is held to the same rule.
"""

from __future__ import annotations

import typing

from tests.e2e.harness import REPO

if typing.TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

__all__ = ["AXE", "axe_violations", "control_problems", "live_regions"]

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("serious", "critical")

_CONTROLS = (
    "button, a[href], input:not([type=hidden]), textarea, select, summary, [role=button],"
    " [role=link], [role=checkbox], [role=switch], [role=tab], [role=menuitem], [tabindex]"
)


def axe_violations(page: Page, root: Locator) -> list[dict[str, typing.Any]]:
    """axe-core's serious and critical violations inside ``root``, one dict per rule."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `npm ci` (axe-core is a dev dependency)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = root.evaluate(
        """async (el) => {
            const result = await window.axe.run(el, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map((n) => n.html.slice(0, 160) + " :: " + n.failureSummary),
            }));
        }"""
    )
    return [v for v in typing.cast(list[dict[str, typing.Any]], found) if v["impact"] in IMPACTS]


def control_problems(page: Page, root: Locator) -> list[str]:
    """Shown controls under ``root`` that have no name, or that Tab never reaches."""
    problems: list[str] = []
    # Names as Chromium exposes them (the accessibility tree, not our attributes).
    for line in root.aria_snapshot().splitlines():
        item = line.strip().removeprefix("- ")
        role = item.split(" ", 1)[0].rstrip(":")
        named = '"' in item
        if role in ("button", "textbox", "link", "checkbox", "switch", "tab", "menuitem"):
            problems += [] if named else [f"no name: {item}"]
    # Reachability: mark the shown controls, focus the first, press Tab until focus leaves.
    count = root.evaluate(
        """(root, selector) => {
            const shown = [...root.querySelectorAll(selector)].filter(
                (el) => !el.disabled && el.checkVisibility());
            shown.forEach((el, i) => { el.dataset.a11yControl = String(i); });
            shown[0]?.focus();
            return shown.length;
        }""",
        _CONTROLS,
    )
    reached: set[str] = set()
    for _ in range(count + 3):
        mark = root.evaluate(
            """(root) => {
                let el = document.activeElement;
                while (el && el.shadowRoot && el.shadowRoot.activeElement) {
                    el = el.shadowRoot.activeElement;
                }
                return el && root.contains(el) ? (el.dataset.a11yControl ?? "other") : null;
            }"""
        )
        if mark is None:
            break
        reached.add(mark)
        page.keyboard.press("Tab")
    missed = root.evaluate(
        """(root, reached) => [...root.querySelectorAll('[data-a11y-control]')]
            .filter((el) => !reached.includes(el.dataset.a11yControl))
            .map((el) => el.outerHTML.slice(0, 120))""",
        sorted(reached),
    )
    root.evaluate(
        "(root) => root.querySelectorAll('[data-a11y-control]')"
        ".forEach((el) => delete el.dataset.a11yControl)"
    )
    problems += [f"not reached by Tab: {html}" for html in missed]
    return problems


def live_regions(root: Locator) -> list[str]:
    """Classes of the elements under ``root`` a screen reader reads out when they change."""
    return typing.cast(
        list[str],
        root.evaluate(
            """(root) => {
                const implicit = { log: "polite", status: "polite", alert: "assertive" };
                return [...root.querySelectorAll("[aria-live], [role]")].filter((el) => {
                    const live = el.getAttribute("aria-live")
                        ?? implicit[el.getAttribute("role")] ?? "off";
                    return live !== "off";
                }).map((el) => el.className);
            }"""
        ),
    )
