"""The one error type of ``diaspora-ctl`` and the one-line error report."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["CommandError", "one_line", "report_error"]


class CommandError(Exception):
    """A user-facing failure: printed as one ``Error: ...`` line, exit status 1."""


def one_line(message: object) -> str:
    """``message`` as text on a single line (inner line breaks become spaces)."""
    text = str(message).strip()
    return " ".join(part.strip() for part in text.splitlines() if part.strip()) or "unknown error"


def report_error(message: object, stream: TextIO | None = None) -> int:
    """Print ``Error: <message>`` on one line of ``stream`` (stderr) and return exit status 1."""
    print(f"Error: {one_line(message)}", file=stream or sys.stderr, flush=True)
    return 1
