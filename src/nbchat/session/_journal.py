"""The conversation file as read: the snapshot, its journal replayed onto it.

The layout on disk, the records and what is refused are drawn in
:mod:`nbchat.session.autosave`'s docstring; this module reads them and never writes. A
reader takes the snapshot, replays the journal's records of the same ``id`` with a ``seq``
above the snapshot's, and ignores a partial last record (a crash mid-write). It also
names the files beside the snapshot (``talk.json.journal``, ``talk.json.images/``) and
reads the images kept there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import typing
from collections.abc import Iterable, Mapping

from .. import transcript
from ..errors import ConversationFileError, InvalidImage, NbchatError
from ..images import ImageStore
from ..messages import Message, image_parts_of
from .tree import Tree

__all__ = [
    "EXTENSIONS",
    "Restored",
    "images_path",
    "journal_path",
    "read",
    "read_images",
]

#: The file extension of an image kept beside the file, by its MIME type.
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}


def journal_path(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(path.name + ".journal")


def images_path(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(path.name + ".images")


@dataclasses.dataclass
class Restored:
    """A file as read: the transcript (journal applied) and where its journal stands."""

    transcript: transcript.Transcript
    journal_id: str | None  # None: the snapshot is not one an autosave wrote (version 1–2)
    seq: int  # the last record applied
    snapshot_bytes: int
    journal_good: int  # bytes of the journal up to its last whole record
    journal_records: int  # records read from the journal (applied or not)


def read(path: str | os.PathLike[str]) -> Restored | None:
    """The conversation in ``path`` (and its journal), or ``None`` if there is none yet.

    Raises :class:`~nbchat.errors.ConversationFileError` for a file that cannot be read
    as one; never writes anything.
    """
    path = pathlib.Path(path)
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        journal = _read_bytes(journal_path(path))
        if journal.strip(b"\0\n "):
            raise ConversationFileError(
                f"{name}.journal has records but {name} is missing.",
                hint=f"Restore {name}, or move {name}.journal away to start anew.",
            ) from None
        return None
    except OSError as exc:
        raise ConversationFileError(f"{name} cannot be read: {exc.strerror}.") from None
    saved = _parse(name, data)
    info = saved.extra.get("journal")
    journal_id: str | None = None
    base_seq = 0
    if isinstance(info, dict) and isinstance(info.get("id"), str):
        journal_id = info["id"]
        seq_given = info.get("seq")
        base_seq = seq_given if isinstance(seq_given, int) else 0
    tree = _tree(name, saved.messages, saved.active, saved.leaf)
    good, count, seq = 0, 0, base_seq
    if journal_id is not None:
        good, count, seq = _replay(name, journal_path(path), tree, journal_id, base_seq)
    saved.messages = list(tree)
    saved.active = tree.active_map()
    saved.leaf = tree.leaf
    return Restored(saved, journal_id, seq, len(data), good, count)


def _parse(name: str, data: bytes) -> transcript.Transcript:
    refuse = f"{name} was left as it is; move it away or pass another file="
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ConversationFileError(
            f"{name} cannot be restored: it is not complete JSON (truncated or corrupt?).",
            hint=refuse,
        ) from None
    version = raw.get("version") if isinstance(raw, dict) else None
    if isinstance(version, int) and version > transcript.VERSION:
        raise ConversationFileError(
            f"{name} was saved by a newer nbchat (format version {version}; this one reads "
            f"up to {transcript.VERSION}).",
            hint="Upgrade: pip install -U jupyter-nbchat. The file was left as it is.",
        )
    try:
        return transcript.loads(data)
    except NbchatError as exc:
        what = exc.message.rstrip(".")
        raise ConversationFileError(
            f"{name} cannot be restored: {what[:1].lower()}{what[1:]}.", hint=refuse
        ) from None


def _tree(name: str, messages: list[Message], active: Mapping[str, str], leaf: str | None) -> Tree:
    last = messages[-1]["id"] if messages else None
    try:
        return Tree.of(messages, active=active, leaf=leaf or last)
    except NbchatError as exc:
        raise ConversationFileError(f"{name} cannot be restored: {exc.message}") from None


def _read_bytes(path: pathlib.Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _replay(
    name: str, journal: pathlib.Path, tree: Tree, journal_id: str, seq: int
) -> tuple[int, int, int]:
    """Apply the journal's records to ``tree``: (bytes of whole records, records, last seq)."""
    data = _read_bytes(journal)
    records: list[tuple[int, dict[str, typing.Any]]] = []  # (end offset, record)
    start = 0
    torn = False
    while start < len(data):
        end = data.find(b"\n", start)
        line = data[start : len(data) if end < 0 else end]
        record = _record(line) if end >= 0 else None
        if record is None:
            torn = True  # a partial last record (a crash mid-write), unless more follows
        elif torn:
            raise ConversationFileError(
                f"{name}.journal has a broken record before its end (line {len(records) + 1}).",
                hint=f"Both files were left as they are; {name} alone holds the older state.",
            )
        else:
            records.append((end + 1, record))
        start = len(data) if end < 0 else end + 1
    good = records[-1][0] if records else 0
    for number, (_end, record) in enumerate(records, 1):
        if record.get("of") != journal_id or not isinstance(record.get("seq"), int):
            continue  # another snapshot's records (left by a crash before it was emptied)
        if record["seq"] <= seq:
            continue
        try:
            _apply(tree, record)
        except (NbchatError, KeyError, TypeError, ValueError):
            raise ConversationFileError(
                f"{name}.journal record {number} does not fit the conversation.",
                hint="Both files were left as they are.",
            ) from None
        seq = record["seq"]
    return good, len(records), seq


def _record(line: bytes) -> dict[str, typing.Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _apply(tree: Tree, record: Mapping[str, typing.Any]) -> None:
    if "put" in record:
        messages = transcript.loads(
            json.dumps({"format": transcript.FORMAT, "version": 3, "messages": record["put"]})
        ).messages
        for message in messages:
            if message["id"] in tree:
                tree.replace(message)
            else:
                tree.add(message)
        if messages:
            tree.select(messages[-1]["id"])
    elif "select" in record:
        tree.select(record["select"])
    elif record.get("clear") is True:
        tree.clear()
    else:
        raise ValueError("unknown record")


def read_images(path: pathlib.Path, messages: Iterable[Message], store: ImageStore) -> list[str]:
    """Put the images ``messages`` show, from beside the file ``path``, into ``store``;
    the ids whose file is missing, unreadable or changed."""
    missing: list[str] = []
    folder = images_path(path)
    for part in image_parts_of(messages):
        target = folder / f"{part['id']}.{EXTENSIONS.get(part['mime'], 'bin')}"
        try:
            kept = store.put(target.read_bytes(), part["mime"])
        except (OSError, InvalidImage):
            missing.append(part["id"])
            continue
        if kept["id"] != part["id"]:  # the file was changed: not the image the part names
            missing.append(part["id"])
    return missing
