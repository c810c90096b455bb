"""A conversation kept in a file as it happens: ``Conversation(..., file="talk.json")``.

On disk, beside each other:

```
talk.json           the snapshot: a transcript (format 3) with "journal": {"id", "seq"}
talk.json.journal   what happened since: one JSON record per line, appended and fsynced
talk.json.images/   image bytes, one file per image id (<id>.png, <id>.jpeg, …)
```

A record is ``{"of": id, "seq": n, "put": [message…]}`` (a turn's messages, added or, for a
continued reply, replaced; the last one is then shown), ``{…, "select": id}`` (another
branch shown) or ``{…, "clear": true}``. Reading takes the snapshot and replays the
records of the same ``id`` with a ``seq`` above the snapshot's.

**Crash safety.** A record is one ``write`` of a whole line, then ``fsync``: a process killed
mid-write leaves at most a partial last line, which reading ignores (and the next writer
cuts off). The snapshot is replaced atomically (a temporary file, ``fsync``, ``rename``,
``fsync`` of the folder) *before* the journal is emptied, and its ``seq`` says which
records it holds already, so a crash between the two replays nothing twice. Either way a
reader finds the state before the interrupted save or after it, never a mix.

**Cost per turn.** A turn appends its own messages: its cost does not depend on how long
the conversation is. The journal is folded into a new snapshot once it is larger than the
snapshot (and at least :data:`COMPACT_AT` bytes), so rewriting the snapshot — O(size) —
happens after O(size) bytes of turns: constant per turn, amortised.

**One writer.** The journal is locked (``flock``) for as long as a conversation writes the
file. Another conversation of the same process opening the file takes it over (re-running
a cell in the same kernel): the earlier one stops writing. A lock held by another live
process refuses the open (:class:`~nbchat.errors.FileInUse`); a crashed process holds
none, since the system drops its locks.

**Refusals.** A snapshot that is not a transcript, is truncated or corrupt, or comes from a
newer nbchat, and a journal with a broken line before its end, are refused with a one-line
:class:`~nbchat.errors.ConversationFileError`; nothing is written then.

This module is the writer; reading the file back is :mod:`._journal`, and the lock with
the files this process holds is :mod:`._file_lock`.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import sys
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence

from .. import transcript
from ..errors import ConversationFileError
from ..images import ImageStore
from ..messages import ImagePart, Message, image_parts_of
from . import _file_lock
from ._journal import EXTENSIONS, Restored, images_path, read, read_images

__all__ = ["COMPACT_AT", "Autosave", "Restored", "read", "read_images", "write_images"]

#: The journal is folded into the snapshot once it is larger than this and than the snapshot.
COMPACT_AT = 64 * 1024

Snapshot = Callable[[], Mapping[str, typing.Any]]  # keyword arguments for transcript.dumps


class Autosave:
    """The writer of one conversation file; see the module docstring.

    ``Autosave.open(path)`` locks the file (or takes it over within this process) and
    reads it; :meth:`start` makes this the file's writer. Then :meth:`put`,
    :meth:`select` and :meth:`clear` record what happens, each on disk when it returns.
    """

    def __init__(
        self, path: pathlib.Path, held: _file_lock.Held, restored: Restored | None
    ) -> None:
        self.path = path
        self.restored = restored
        self._held = held
        self._started = False
        self._closed = False
        self.handed_over = False  # a newer conversation of this process writes the file now
        self._images: ImageStore | None = None
        self._snapshot: Snapshot | None = None
        self._id = restored.journal_id if restored and restored.journal_id else secrets.token_hex(8)
        self._seq = restored.seq if restored else 0
        self._journal_size = restored.journal_good if restored else 0
        self._snapshot_size = restored.snapshot_bytes if restored else 0
        self._dirty = True  # the snapshot must be written before records can follow it
        self._previous: Autosave | None = None  # the writer before, until this one starts

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Autosave:
        """Lock ``path`` for writing (or take it over from a conversation of this process)
        and read it. Nothing is written until :meth:`start`."""
        path = pathlib.Path(path).expanduser()
        key = os.path.realpath(path)
        with _file_lock.files_lock:
            held = _file_lock.files.get(key)
            fresh = held is None
            if held is None:
                read(path)  # refuse a bad file before creating anything beside it
                held = _file_lock.Held(key, _file_lock.lock(path))
                _file_lock.files[key] = held
            try:
                with held.lock:
                    writer = cls(path, held, read(path))
                    # From here on the earlier conversation writes nothing: what it does
                    # next would not be in what this one has read.
                    writer._previous = held.owner
                    if held.owner is not None:
                        held.owner.handed_over = True
                    held.owner = writer
                    return writer
            except BaseException:
                if fresh:
                    del _file_lock.files[key]
                    _file_lock.release(held)
                raise

    @property
    def writing(self) -> bool:
        """Whether this conversation writes the file now (not closed, not handed over)."""
        return self._started and not self._closed and self._held.owner is self

    def start(self, snapshot: Snapshot, images: ImageStore | None = None) -> None:
        """Become the file's writer (the one before, if any, stops), and write the snapshot
        now if the file is new, older, or has a journal to fold in."""
        held = self._held
        with held.lock:
            if self._closed or held.owner is not self:
                raise RuntimeError("nbchat: this autosave was closed or taken over")
            self._previous = None
            self._started = True
            self._snapshot = snapshot
            self._images = images
            _remove_temporaries(self.path)
            try:  # a partial last record (a crash mid-write) must not precede new ones
                if os.fstat(held.fd).st_size > self._journal_size:
                    os.ftruncate(held.fd, self._journal_size)
            except OSError as exc:
                raise _unwritable(self.path, exc) from None
            restored = self.restored
            if restored is not None and restored.journal_id and not restored.journal_records:
                self._dirty = False  # a clean snapshot: nothing to rewrite
            if self._dirty:  # a new file may start with messages (and their images)
                self._write_images(image_parts_of(snapshot()["messages"]))
            self._write_pending()

    def put(self, messages: Iterable[Message]) -> None:
        """Record a turn: its messages added (or a continued reply replaced), the last shown."""
        listed = list(messages)
        self._append({"put": listed}, images=image_parts_of(listed))

    def select(self, message_id: str) -> None:
        """Record that the branch through ``message_id`` is shown."""
        self._append({"select": message_id})

    def clear(self) -> None:
        """Record that every message is gone."""
        self._append({"clear": True}, compact=True)

    def compact(self) -> None:
        """Fold the journal into a new snapshot now."""
        with self._held.lock:
            if self.writing:
                self._dirty = True
                self._write_pending()

    def close(self) -> None:
        """Stop writing and release the file (the last writer of this process unlocks it)."""
        held = self._held
        with _file_lock.files_lock, held.lock:
            if self._closed:
                return
            self._closed = True
            if held.owner is not self:
                return
            previous = self._previous
            if previous is not None and not previous._closed:
                previous.handed_over = False  # never started: the earlier one goes on
                held.owner = previous
                return
            held.owner = None
            if _file_lock.files.get(held.key) is held:
                del _file_lock.files[held.key]
            _file_lock.release(held)

    # -- the writes ---------------------------------------------------------------------

    def _append(
        self,
        record: dict[str, object],
        *,
        images: Sequence[ImagePart] = (),
        compact: bool = False,
    ) -> None:
        held = self._held
        with held.lock:
            if not self.writing:
                return
            self._seq += 1
            self._write_images(images)
            if self._dirty or compact:
                self._dirty = True
                self._write_pending()
                return
            line = {"of": self._id, "seq": self._seq, **record}
            data = _dumps_line(line)
            start = self._journal_size
            try:
                _write_all(held.fd, data)
                _sync(held.fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(held.fd, start)  # no partial record may stay before others
                self._dirty = True  # the next save rewrites the snapshot instead
                raise _unwritable(self.path, exc) from None
            self._journal_size += len(data)
            if self._journal_size >= max(COMPACT_AT, self._snapshot_size):
                self._dirty = True
                self._write_pending()

    def _write_pending(self) -> None:
        """Fold everything into a new snapshot, then empty the journal (when dirty)."""
        if not self._dirty or self._snapshot is None:
            return
        fields = dict(self._snapshot())
        fields["extra"] = {"journal": {"id": self._id, "seq": self._seq}}
        data = transcript.dumps(**fields).encode("utf-8")
        try:
            _replace(self.path, data)
            os.ftruncate(self._held.fd, 0)
            _sync(self._held.fd)
        except OSError as exc:
            raise _unwritable(self.path, exc) from None
        self._snapshot_size = len(data)
        self._journal_size = 0
        self._dirty = False

    def _write_images(self, parts: Sequence[ImagePart]) -> None:
        if self._images is not None:
            write_images(self.path, parts, self._images)

    def load_images(self, store: ImageStore, messages: Iterable[Message]) -> list[str]:
        """Put the images the messages show into ``store``; the ids whose file is missing."""
        return read_images(self.path, messages, store)


def write_images(path: pathlib.Path, parts: Iterable[ImagePart], store: ImageStore) -> None:
    """Write the bytes of the images ``parts`` name beside the file ``path``, one file per
    image (``talk.json.images/<id>.png``), each once: named by content, the same id is the
    same bytes. An image ``store`` does not have is left out."""
    folder = images_path(path)
    for part in parts:
        target = folder / f"{part['id']}.{EXTENSIONS.get(part['mime'], 'bin')}"
        if target.exists():
            continue
        try:
            data = store.get(part["id"])
        except KeyError:
            continue  # a part restored without its file
        try:
            folder.mkdir(exist_ok=True)
            _replace(target, data)
        except OSError as exc:
            raise _unwritable(path, exc) from None


def _dumps_line(record: Mapping[str, object]) -> bytes:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def _unwritable(path: pathlib.Path, exc: OSError) -> ConversationFileError:
    return ConversationFileError(
        f"{path.name} could not be saved: {exc.strerror or exc}.",
        hint="The conversation is kept in memory; free some space or save it elsewhere.",
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync(fd: int) -> None:
    # fdatasync also writes the file's size (what an append changes); macOS has only fsync.
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def _replace(path: pathlib.Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old file or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: pathlib.Path) -> None:
    if sys.platform == "win32":
        return  # folders cannot be opened there; NTFS journals the rename
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_temporaries(path: pathlib.Path) -> None:
    # Left by a writer killed mid-snapshot; only the lock holder writes them.
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()
