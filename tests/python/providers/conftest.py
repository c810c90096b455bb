"""Provider suites talk HTTP to the loopback emulators in ``tests/servers``."""

from __future__ import annotations

from tests.servers.fixtures import emulator  # noqa: F401  (a fixture)
