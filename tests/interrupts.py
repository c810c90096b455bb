"""A real kernel interrupt for tests: SIGINT delivered to the main thread on a condition."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["sigint_when"]


@contextlib.contextmanager
def sigint_when(condition: threading.Event) -> Iterator[None]:
    """Deliver a real SIGINT to the main thread once ``condition`` is set."""
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.main_thread().ident
    assert main is not None

    def fire() -> None:
        if condition.wait(10):
            signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(10)
        signal.signal(signal.SIGINT, previous)
