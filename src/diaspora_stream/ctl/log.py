"""Logging of ``diaspora-ctl``: the reference's line format, on stderr.

Lines look like ``[2025-01-31 12:00:00.123] [info] Creating driver: files``; the level is
coloured only when stderr is a colour terminal. Unlike the reference (which logs to stdout),
logs go to stderr so that stdout carries only a command's output.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

__all__ = ["LOGGER_NAME", "TRACE", "get_logger", "setup_logging"]

LOGGER_NAME = "diaspora-ctl"
#: Level of ``--logging trace``.
TRACE = 5

_NAMES = {
    TRACE: "trace",
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}
_COLOURS = {
    TRACE: "\033[37m",
    logging.DEBUG: "\033[36m",
    logging.INFO: "\033[32m",
    logging.WARNING: "\033[33m\033[1m",
    logging.ERROR: "\033[31m\033[1m",
    logging.CRITICAL: "\033[1m\033[41m",
}
_LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "off": logging.CRITICAL + 10,
}


class _Formatter(logging.Formatter):
    def __init__(self, colour: bool) -> None:
        super().__init__()
        self._colour = colour

    def format(self, record: logging.LogRecord) -> str:
        created = self.formatTime(record, "%Y-%m-%d %H:%M:%S")
        level = _NAMES.get(record.levelno, record.levelname.lower())
        if self._colour:
            level = f"{_COLOURS.get(record.levelno, '')}{level}\033[0m"
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}: {record.exc_info[1]}"
        return f"[{created}.{int(record.msecs):03d}] [{level}] {message}"


def _colour_terminal(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def get_logger() -> logging.Logger:
    """The ``diaspora-ctl`` logger."""
    return logging.getLogger(LOGGER_NAME)


def setup_logging(level: str, stream: TextIO | None = None) -> logging.Logger:
    """Configure the logger for ``--logging level`` (one of ``parsing.LOG_LEVELS``)."""
    stream = stream or sys.stderr
    logger = get_logger()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_Formatter(_colour_terminal(stream)))
    logger.addHandler(handler)
    logger.setLevel(_LEVELS[level])
    logger.propagate = False
    return logger
