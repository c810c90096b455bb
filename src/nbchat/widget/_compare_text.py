"""What a comparison says in text: each reply's figures, which was fastest, and a Markdown
transcript with the replies one after another, each headed by its model and figures."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..messages import Message, MessageMeta
from ..transcript import to_markdown

__all__ = ["exchange_markdown", "figures", "history_markdown", "marks"]


def figures(meta: MessageMeta) -> str:
    """``first token 0.31 s · 120 tokens · 45.6 tok/s · 2.9 s total`` (what is known)."""
    parts: list[str] = []
    ttft = meta.get("ttft_s")
    if isinstance(ttft, (int, float)):
        parts.append(f"first token {ttft:.2f} s")
    tokens = meta.get("tokens")
    if isinstance(tokens, int):
        parts.append(f"{tokens} token" if tokens == 1 else f"{tokens} tokens")
    rate = meta.get("tokens_per_s")
    if isinstance(rate, (int, float)):
        parts.append(f"{rate:.1f} tok/s")
    elapsed = meta.get("elapsed_s")
    if isinstance(elapsed, (int, float)):
        parts.append(f"{elapsed:.1f} s total")
    if meta.get("error"):
        parts.append("failed")
    elif meta.get("stopped"):
        parts.append("stopped")
    return " · ".join(parts)


def marks(metas: Sequence[MessageMeta | None]) -> list[list[str]]:
    """Per reply, which of ``"first token"`` / ``"finish"`` it was fastest at. Only replies
    that ended well compete (a stopped or failed reply's time says nothing); none is marked
    when fewer than two have the figure."""
    out: list[list[str]] = [[] for _ in metas]
    for key, name in (("ttft_s", "fastest first token"), ("elapsed_s", "fastest finish")):
        values = [
            float(v)
            if m is not None
            and not m.get("error")
            and not m.get("stopped")
            and isinstance(v := m.get(key), (int, float))
            else math.inf
            for m in metas
        ]
        if sum(v < math.inf for v in values) < 2:
            continue
        out[values.index(min(values))].append(name)
    return out


def _reply_markdown(label: str, reply: Message, mark: list[str]) -> str:
    meta = reply.get("meta") or {}
    line = " · ".join(p for p in (figures(meta), *mark) if p)
    # The reply's own rendering (reasoning, content, error), without its heading and meta
    # line: the model and figures head it instead.
    kept = MessageMeta()
    for key in ("error", "hint"):
        if key in meta:
            kept[key] = meta[key]
    body = to_markdown([Message(**{**reply, "meta": kept})], inert=True)
    body = body.split("\n", 1)[1].strip() if "\n" in body else ""
    head = f"#### {_code(label)}" + (f"\n\n*{line}*" if line else "")
    return f"{head}\n\n{body}".rstrip()


def exchange_markdown(prompt: str, replies: Sequence[tuple[str, Message | None]]) -> str:
    """One prompt and each model's reply to it, one after another."""
    blocks = [to_markdown([Message(id="p", role="user", content=prompt, parent=None)], inert=True)]
    metas = [None if r is None else r.get("meta") or MessageMeta() for _, r in replies]
    for (label, reply), mark in zip(replies, marks(metas), strict=True):
        if reply is None:
            blocks.append(f"#### {_code(label)}\n\n*no reply*")
        else:
            blocks.append(_reply_markdown(label, reply, mark))
    return "\n\n".join(b.rstrip() for b in blocks) + "\n"


def history_markdown(columns: Sequence[tuple[str, list[Message]]]) -> str:
    """Every column's conversation, one after another (columns may have diverged)."""
    blocks = []
    for label, messages in columns:
        body = to_markdown(messages, inert=True) if messages else "*No messages yet.*"
        blocks.append(f"## {_code(label)}\n\n{body.rstrip()}")
    return "\n\n".join(blocks) + "\n"


def _code(label: str) -> str:
    return f"`{label.replace('`', '')}`"
