"""Graceful shutdown of the daemons on SIGINT / SIGTERM."""

from __future__ import annotations

import signal
import threading
from types import FrameType

__all__ = ["ShutdownFlag"]


class ShutdownFlag:
    """Set by SIGINT or SIGTERM once :meth:`install` was called (in the main thread)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None

    def install(self) -> None:
        """Install the handlers of SIGINT and SIGTERM."""
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        self._event.set()

    def set(self) -> None:
        """Request the shutdown."""
        self._event.set()

    def is_set(self) -> bool:
        """Whether the shutdown was requested."""
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the shutdown request; return whether it came."""
        return self._event.wait(timeout)
