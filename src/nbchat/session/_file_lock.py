"""One writer per file: the lock on its journal, and the files this process writes.

The journal is locked (``flock`` on POSIX, ``msvcrt`` on Windows) for as long as this
process writes the file. The system drops the lock when the process dies, so a crashed
kernel never blocks the file; a lock held by another live process refuses the open
(:class:`~nbchat.errors.FileInUse`). Within this process one lock serves every
conversation of the file: :class:`Held` names the one writing now, and a newer one takes
the file over (:class:`~nbchat.session.autosave.Autosave`).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sys
import threading
import typing

from ..errors import ConversationFileError, FileInUse
from ._journal import journal_path

if typing.TYPE_CHECKING:
    from .autosave import Autosave

__all__ = ["Held", "files", "files_lock", "lock", "release"]


class Held:
    """A file this process writes: its locked journal, and the conversation writing now."""

    def __init__(self, key: str, fd: int) -> None:
        self.key = key
        self.fd = fd
        self.lock = threading.RLock()  # one write at a time, across a handover too
        self.owner: Autosave | None = None


#: The files this process writes, by real path (one lock each: a handover keeps it).
files: dict[str, Held] = {}
files_lock = threading.Lock()


def lock(path: pathlib.Path) -> int:
    journal = journal_path(path)
    try:
        fd = os.open(journal, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise ConversationFileError(
            f"{path.name} cannot be written: {exc.strerror}.",
            hint="Pick a folder you can write to.",
        ) from None
    try:
        _try_lock(fd)
    except OSError:
        os.close(fd)
        raise FileInUse(
            f"{path.name} is being written by another running kernel or process."
        ) from None
    return fd


def _try_lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - not tested here
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def release(held: Held) -> None:
    with contextlib.suppress(OSError):
        os.close(held.fd)  # closing the last descriptor drops the lock
