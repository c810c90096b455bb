"""A real kernel interrupt for tests: SIGINT delivered to the main thread on a condition."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
import typing
from collections.abc import Iterator

__all__ = ["Presses", "sigint_when"]


@dataclasses.dataclass
class Presses:
    """What became of the interrupts: ``lost`` counts presses Python never acted on."""

    handled: threading.Event = dataclasses.field(default_factory=threading.Event)
    lost: int = 0


@contextlib.contextmanager
def sigint_when(condition: threading.Event, *, press_again: bool = False) -> Iterator[Presses]:
    """Deliver a real SIGINT to the main thread once ``condition`` is set (what the kernel's
    ■ does).

    With ``press_again``, a press that Python does not act on within 5 s is counted in
    ``Presses.lost`` and repeated (up to three times, as a person would), so a test of "no
    interrupt is ever lost" ends and can assert ``lost == 0``.
    """
    assert threading.current_thread() is threading.main_thread()
    presses = Presses()

    def on_sigint(signum: int, frame: typing.Any) -> None:
        presses.handled.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    main = threading.main_thread().ident
    assert main is not None
    done = threading.Event()

    def fire() -> None:
        while not condition.wait(0.05):
            if done.is_set():
                return
        for _ in range(3 if press_again else 1):
            signal.pthread_kill(main, signal.SIGINT)
            if not press_again or presses.handled.wait(5):
                return
            presses.lost += 1

    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    try:
        yield presses
    finally:
        done.set()
        thread.join(20)
        signal.signal(signal.SIGINT, previous)
