"""A rendered reply stays readable in every theme the chat can be in, in a real JupyterLab.

Every piece of text in a reply (body text, links, inline code, tables, the code bar, and each
highlight.js token) must keep a WCAG AA contrast ratio (at least 4.5) against what is really
behind it. The case that matters most is a theme forced opposite to Lab's: the host's
``--jp-*`` colours belong to the other theme there, and must not leak into the chat.
"""

from __future__ import annotations

import typing

import pytest
from tests.e2e.harness import Jupyter

pytestmark = pytest.mark.e2e

#: WCAG AA for body text.
WCAG_AA = 4.5
#: Following the host means drawing its own colour pairs, and some of JupyterLab's fall short
#: of AA in its own editor too (measured in 4.6): Light's comments (#408080 on the cell
#: editor's #f5f5f5, 4.17) and numbers (#080, 4.26); Dark's meta/tags (#a2f on #212121, 3.36)
#: and comments (3.54). So here the floor is WCAG's for large text; the forced cases
#: are the ones that catch the other theme's colours leaking in (down to 1.11 before).
HOST_FLOOR = 3.0

#: A reply with every kind of text the renderer draws, and code in many languages so that
#: most highlight.js token classes show up; the demo's echo model sends it back as its reply.
SAMPLE = r"""# A heading

Body text with **bold**, *italic*, `inline code` and a [link](https://example.com).

> A quote, in quieter text.

- a list item
- another, with `code`

| Name | Value |
|:-----|------:|
| pi | 3.14 |

Inline maths $e^{i\pi} + 1 = 0$, and a display:

$$
\int_0^1 x\,dx = \frac{1}{2}
$$

```python
import math

@dataclass(frozen=True)
class Point(Base):
    '''A point.'''
    x: float = 0.5  # a comment

    def norm(self, scale: int = 2) -> float:
        return math.hypot(self.x, 1) * scale if True else None
```

```javascript
// a comment
const f = async (a, b = 1) => `${a + b}` + /re+/g.source;
class A extends B { static x = null; }
```

```bash
export PATH="$HOME/bin:$PATH"  # a comment
echo "hi" | grep -c h
```

```css
.card > a:hover, #main { color: #fff; margin: 0 2px !important; }
```

```html
<!-- a comment -->
<a href="https://example.com" class="y">text</a>
```

```yaml
name: nbchat
tags: [chat, 3, true]
```

```sql
SELECT name, COUNT(*) FROM users WHERE id > 10 GROUP BY name;
```

```diff
@@ -1 +1 @@
- total = total + x
+ total += x
```
"""

#: Colours in the page, measured where they are drawn. The background is the first opaque
#: one behind the text, with any translucent ones on top of it composited in; the text's own
#: alpha and its ancestors' opacity are composited over that.
MEASURE = """
(body) => {
  const parse = (css) => {
    let m = /^rgba?\\(([\\d.]+),\\s*([\\d.]+),\\s*([\\d.]+)(?:,\\s*([\\d.]+))?\\)$/.exec(css);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
    m = /^color\\(srgb ([\\d.]+) ([\\d.]+) ([\\d.]+)(?: \\/ ([\\d.]+))?\\)$/.exec(css);
    if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : +m[4]];
    throw new Error(`unparsed colour ${css}`);
  };
  const over = ([r, g, b, a], [R, G, B]) =>
    [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a), 1];
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg[3] === 0) continue;
      layers.push(bg);
      if (bg[3] === 1) break;
    }
    let base = [255, 255, 255, 1];  // the canvas, should nothing be opaque
    for (const layer of layers.reverse()) base = over(layer, base);
    return base;
  };
  const luminance = ([r, g, b]) => {
    const lin = (c) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0'))
    .join('');
  const seen = new Set();
  const out = [];
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || seen.has(el) || node.textContent.trim() === '') continue;
    seen.add(el);
    if (el.closest('.katex-mathml')) continue;  // MathML for screen readers, never drawn
    let opacity = 1;
    for (let n = el; n && n !== body.parentElement; n = n.parentElement) {
      opacity *= +getComputedStyle(n).opacity;
    }
    const bg = background(el);
    const [r, g, b, a] = parse(getComputedStyle(el).color);
    const fg = over([r, g, b, a * opacity], bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    out.push({
      classes: el.className || el.tagName.toLowerCase(),
      text: node.textContent.trim().slice(0, 24),
      fg: hex(fg),
      bg: hex(bg),
      ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
    });
  }
  return out;
}
"""


class Sample(typing.TypedDict):
    classes: str
    text: str
    fg: str
    bg: str
    ratio: float


CASES = {
    # A theme forced opposite to Lab's: the host's variables must not reach the chat.
    "dark-in-light-lab": ("JupyterLab Light", "dark", WCAG_AA),
    "light-in-dark-lab": ("JupyterLab Dark", "light", WCAG_AA),
    # Following Lab: its own colours, on its own backgrounds.
    "auto-in-light-lab": ("JupyterLab Light", "auto", HOST_FLOOR),
    "auto-in-dark-lab": ("JupyterLab Dark", "auto", HOST_FLOOR),
}


@pytest.mark.viewport(1280, 2600)
@pytest.mark.parametrize(("lab_theme", "theme", "floor"), CASES.values(), ids=CASES.keys())
def test_every_token_and_the_body_text_keep_their_contrast(
    lab: Jupyter, lab_theme: str, theme: str, floor: float
) -> None:
    lab.open_notebook(
        "import nbchat\n"
        f'chat = nbchat.Chat("demo:echo", theme="{theme}", tokens_per_second=0, height="2400px")'
        "\nchat",
        f"chat.ask({SAMPLE!r});",
    )
    try:
        if lab_theme != "JupyterLab Light":
            lab.set_theme(lab_theme)
        lab.run_all()
        widget = lab.widget()
        widget.locator(".nbc-msg-assistant .hljs-deletion").wait_for()
        expected = theme if theme != "auto" else "dark" if "Dark" in lab_theme else "light"
        assert widget.get_attribute("data-theme") == expected

        samples: list[Sample] = []
        for body in widget.locator(".nbc-msg-assistant .nbc-body").all():
            samples += body.evaluate(MEASURE)
        lab.screenshot(f"contrast-{theme}", widget)
    finally:
        if lab_theme != "JupyterLab Light":
            lab.set_theme("JupyterLab Light")

    tokens = [s for s in samples if "hljs-" in s["classes"]]
    kinds = {c for s in tokens for c in s["classes"].split() if c.startswith("hljs-")}
    assert len(tokens) >= 60, f"too little code was measured: {len(tokens)} tokens"
    assert len(kinds) >= 20, f"too few kinds of token were measured: {sorted(kinds)}"
    assert len(samples) - len(tokens) >= 15, "too little body text was measured"
    worst = sorted((s for s in samples if s["ratio"] < floor), key=lambda s: s["ratio"])
    lines = [
        f"  {s['ratio']:5.2f}  {s['fg']} on {s['bg']}  {s['classes']!r:36} {s['text']!r}"
        for s in worst[:25]
    ]
    assert not worst, f"{len(worst)} of {len(samples)} texts below {floor}:1, worst first:\n" + (
        "\n".join(lines)
    )
    assert lab.unexpected_console_errors() == []
