"""A progress bar on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 30
_INTERVAL_S = 0.1


class Progress:
    """``update(done)`` redraws ``label [#####.....] 45% 450/1000`` at most every 0.1 s."""

    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled and total > 0
        self.total = total
        self.label = label
        self._last = 0.0
        self._done = 0
        #: Call :meth:`update` every ``step`` events (about 200 calls for the whole run).
        self.step = max(1, total // 200)

    def update(self, done: int) -> None:
        """Redraw with ``done`` events done (throttled)."""
        if not self.enabled:
            return
        self._done = done
        now = time.monotonic()
        if now - self._last < _INTERVAL_S:
            return
        self._last = now
        fraction = min(1.0, done / self.total)
        filled = int(fraction * _WIDTH)
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:4.0%} {done}/{self.total}")
        self.stream.flush()

    def close(self) -> None:
        """Finish the line."""
        if self.enabled:
            self._last = 0.0
            self.update(self._done)
            self.stream.write("\n")
            self.stream.flush()
