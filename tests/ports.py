"""Loopback ports for tests: one helper instead of a copy per file."""

from __future__ import annotations

import socket

__all__ = ["closed_port", "free_port"]


def free_port() -> int:
    """A loopback port nothing listens on right now (bound, then released): start a server
    there, or connect to be refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: The same port, named for what a test means by it: a server that is not there.
closed_port = free_port
