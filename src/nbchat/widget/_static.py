"""The static transcript of a displayed chat: the conversation as Markdown, in a few outputs
beside the live view, rewritten as it changes, so that a notebook saved at any moment shows
it everywhere (GitHub, nbviewer, nbconvert). In a default JupyterLab save it is the only copy.

Rewriting one output with the whole conversation after every turn costs O(conversation)
bytes per turn, O(n²) over a session. So the transcript is a **head** (a line naming the
model and counting the messages, and the system prompt) and :data:`LIMITS`-bounded
**segments**, oldest first, each holding a run of whole messages: new messages join the
last segment; a segment that outgrows its limit moves into the one before it. A turn
rewrites the head and the last segment (at most its limit plus the turn); a bigger segment
is rewritten only each time the ones after it have filled up (about 16 KB, 128 KB, 1 MB of
Markdown later): amortised, a turn costs its own Markdown a few times over.

Each output carries :data:`TRANSCRIPT_MIME` beside its ``text/markdown``: where nbchat's
JupyterLab extension is installed, its renderer draws the Markdown only when no live chat
hides it, so the page never re-renders (and re-typesets) a hidden copy on every turn.
"""

from __future__ import annotations

import dataclasses
import typing

from ..transcript import count, to_markdown

if typing.TYPE_CHECKING:
    from ..messages import Message
    from ..session import Conversation

__all__ = ["LIMITS", "STATIC_MARKER", "TRANSCRIPT_MIME", "StaticTranscript"]

#: Opens every transcript output; the front end's CSS hides such an output when a live chat
#: is rendered in the same cell (the transcript is for readers without widget JavaScript).
STATIC_MARKER = '<div class="nbchat-static"></div>'
#: nbchat's own mime type on the transcript outputs (see the module's docstring).
TRANSCRIPT_MIME = "application/vnd.nbchat.transcript+json"
#: Most Markdown (characters) each segment holds before it moves into the one before it;
#: the first segment has no limit.
LIMITS: tuple[int | None, ...] = (None, 1 << 20, 128 << 10, 16 << 10)

Bundle = dict[str, object]


@dataclasses.dataclass
class _Segment:
    messages: list[Message] = dataclasses.field(default_factory=list)  # as rendered
    chunks: list[str] = dataclasses.field(default_factory=list)  # each message's Markdown
    size: int = 0


class StaticTranscript:
    """The head and segments of one displayed chat, and which of them a change rewrites."""

    def __init__(self, display_id: str) -> None:
        self.display_id = display_id
        self._segments = [_Segment() for _ in LIMITS]
        self._head = ""

    def display_ids(self) -> list[str]:
        """One per output, in order: the head, then the segments."""
        return [f"{self.display_id}-{i}" for i in range(len(self._segments) + 1)]

    def outputs(self, conversation: Conversation) -> list[tuple[str, Bundle]]:
        """Every output as it should be now (a first display)."""
        self.changed(conversation)
        ids = self.display_ids()
        head = [(ids[0], _bundle(self._head, 0))]
        return head + [(ids[i + 1], self._segment_bundle(i)) for i in range(len(self._segments))]

    def changed(self, conversation: Conversation) -> list[tuple[str, Bundle]]:
        """The outputs to rewrite so that they show ``conversation``."""
        messages = conversation.messages
        ids = self.display_ids()
        out: list[tuple[str, Bundle]] = []
        head = _head(conversation, len(messages))
        if head != self._head:
            self._head = head
            out.append((ids[0], _bundle(head, 0)))
        dirty = self._take(messages)
        dirty |= self._cascade()
        out.extend((ids[i + 1], self._segment_bundle(i)) for i in sorted(dirty))
        return out

    def _take(self, messages: list[Message]) -> set[int]:
        """Drop what no longer matches ``messages`` and append what is new to the last
        segment; the indices of the segments changed."""
        dirty: set[int] = set()
        index = 0  # messages[index] is compared with the next message held
        for number, segment in enumerate(self._segments):
            for kept, held in enumerate(segment.messages):
                if index < len(messages) and messages[index] == held:
                    index += 1
                    continue
                # From here on the conversation differs (an edit, a regenerate, a clear).
                del segment.messages[kept:], segment.chunks[kept:]
                segment.size = sum(len(c) for c in segment.chunks)
                dirty.add(number)
                for later in range(number + 1, len(self._segments)):
                    if self._segments[later].messages:
                        self._segments[later] = _Segment()
                        dirty.add(later)
                break
            else:
                continue
            break
        last = len(self._segments) - 1
        tail = self._segments[last]
        for message in messages[index:]:
            chunk = _markdown(message)
            tail.messages.append(message)
            tail.chunks.append(chunk)
            tail.size += len(chunk)
            dirty.add(last)
        return dirty

    def _cascade(self) -> set[int]:
        """Move each segment past its limit into the one before it."""
        dirty: set[int] = set()
        for number in range(len(self._segments) - 1, 0, -1):
            segment, limit = self._segments[number], LIMITS[number]
            if limit is None or segment.size <= limit:
                continue
            before = self._segments[number - 1]
            before.messages += segment.messages
            before.chunks += segment.chunks
            before.size += segment.size
            self._segments[number] = _Segment()
            dirty |= {number - 1, number}
        return dirty

    def _segment_bundle(self, number: int) -> Bundle:
        return _bundle("\n\n".join(self._segments[number].chunks), number + 1)


def _head(conversation: Conversation, messages: int) -> str:
    head = f"**nbchat** · `{conversation.model}` · {count(messages, 'message')}"
    if conversation.system:
        # Inert: JupyterLab renders this output trusted (see transcript.inert_markdown).
        head += "\n\n" + to_markdown([], system=conversation.system, inert=True).rstrip()
    return head


def _markdown(message: Message) -> str:
    # Inert: JupyterLab renders this output trusted, and the text is a model's.
    return to_markdown([message], inert=True).rstrip()


def _bundle(markdown: str, part: int) -> Bundle:
    text = f"{STATIC_MARKER}\n\n{markdown}".rstrip() + "\n"
    return {"text/markdown": text, TRANSCRIPT_MIME: {"version": 1, "part": part}}
