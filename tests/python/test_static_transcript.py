"""The static transcript in segments: complete at every moment, and a turn rewrites only the
head and the last segment (not the whole conversation)."""

from __future__ import annotations

import re

from nbchat import testing
from nbchat.messages import Message
from nbchat.session import Conversation
from nbchat.widget._static import LIMITS, STATIC_MARKER, TRANSCRIPT_MIME, StaticTranscript

REPLY = "Sure: $e^{i\\pi} + 1 = 0$. " * 40  # ~1 KB


def joined(outputs: dict[str, dict[str, object]]) -> str:
    """What a reader of the saved notebook sees: the outputs' Markdown, in order."""
    return "\n".join(str(b["text/markdown"]) for b in outputs.values())


def test_every_output_is_marked_and_carries_the_mime_type() -> None:
    conversation = Conversation(testing.script("x").model)
    outputs = dict(StaticTranscript("t").outputs(conversation))
    assert len(outputs) == len(LIMITS) + 1
    for bundle in outputs.values():
        assert str(bundle["text/markdown"]).startswith(STATIC_MARKER)
        assert bundle[TRANSCRIPT_MIME] == {
            "version": 1,
            "part": list(outputs.values()).index(bundle),
        }


def test_a_turn_rewrites_the_head_and_a_bounded_tail_and_all_of_it_stays_complete() -> None:
    script = testing.script(*[REPLY] * 400)
    conversation = Conversation(script.model, system="Be exact.")
    static = StaticTranscript("t")
    outputs = dict(static.outputs(conversation))
    rewrites: list[int] = []
    for i in range(400):
        conversation.prompt(f"Question number {i}?").result()
        changed = static.changed(conversation)
        outputs.update(changed)
        rewrites.append(sum(len(str(b["text/markdown"])) for _, b in changed))
        text = joined(outputs)
        # Complete at every moment: every message, in order, once.
        asked = [int(n) for n in re.findall(r"Question number (\d+)\?", text)]
        assert asked == list(range(i + 1))
        assert text.count("Be exact.") == 1
        assert f"{2 * (i + 1)} messages" in text
    total = len(joined(outputs))
    assert total > 400_000  # ~400 turns of ~1.1 KB: past the tail's and the next limit
    tail_limit = LIMITS[-1]
    assert tail_limit is not None
    # Most turns rewrite the head and the tail only; the rare bigger ones are merges.
    usual = sorted(rewrites)[len(rewrites) * 9 // 10]
    assert usual <= tail_limit + 4096, usual
    # Summed over the session: linear in the transcript (each level rewrites a message about
    # limit ratio / 2 times), not the ~n²/2 of a whole rewrite per turn (~90 MB here).
    assert sum(rewrites) <= 16 * total, (sum(rewrites), total)


def test_regenerate_edit_and_clear_rewrite_from_where_the_conversation_changed() -> None:
    script = testing.script(*[REPLY] * 60, "redo", "after edit")
    conversation = Conversation(script.model)
    static = StaticTranscript("t")
    outputs = dict(static.outputs(conversation))
    for i in range(60):
        conversation.prompt(f"Q{i}").result()
        outputs.update(static.changed(conversation))
    conversation.regenerate().result()
    outputs.update(static.changed(conversation))
    assert joined(outputs).count(REPLY.strip()) == 59
    assert joined(outputs).rstrip().endswith("redo")
    conversation.edit("Edited last").result()
    outputs.update(static.changed(conversation))
    text = joined(outputs)
    assert "Q59" not in text
    assert "Edited last" in text
    assert text.rstrip().endswith("after edit")
    conversation.clear()
    outputs.update(static.changed(conversation))
    assert "Q0" not in joined(outputs)
    assert "0 messages" in joined(outputs)


def test_a_loaded_history_is_shown_whole_at_once() -> None:
    history: list[Message] = []
    for i in range(300):
        history.append({"id": f"u{i}", "role": "user", "content": f"Q{i}"})
        history.append({"id": f"a{i}", "role": "assistant", "content": REPLY})
    conversation = Conversation(testing.script("x").model, messages=history)
    text = joined(dict(StaticTranscript("t").outputs(conversation)))
    assert [int(n) for n in re.findall(r"\bQ(\d+)\b", text)] == list(range(300))
