"""The library's loggers: ``logging.getLogger("diaspora_stream")`` and its children.

What is logged: driver and topic creation, a consumer resuming after its acknowledged events,
the recovery of a torn tail, a reconnection to a server that moved (``INFO``); options the
backend does not know and ignores (``WARNING``).

The package installs no handler. ``INFO`` and ``DEBUG`` records show only once the application
configures logging (e.g. ``logging.basicConfig(level=logging.INFO)``); warnings reach stderr
through Python's last-resort handler unless the application configures otherwise
(``logging.getLogger("diaspora_stream").setLevel(logging.ERROR)`` silences them).
"""

from __future__ import annotations

import logging

__all__ = ["ROOT", "get_logger"]

#: Name of the library's root logger.
ROOT = "diaspora_stream"


def get_logger(child: str) -> logging.Logger:
    """The logger ``diaspora_stream.<child>`` (``child`` like ``"driver"`` or ``"files"``)."""
    return logging.getLogger(f"{ROOT}.{child}")
