"""The control-FIFO command grammar of ``diaspora-ctl fifo`` (reference-api.md §7.6).

::

    producer:  <fifo-path> -> <topic> [ ( key=value, key=value, ... ) ]
    consumer:  <fifo-path> <- <topic> [ ( key=value, ... ) ]

Options: ``batch_size`` (a number, or ``adaptive``; default 128) and ``format`` (``raw``, the
default, or ``json``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..api import AdaptiveBatchSize

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FORMATS",
    "ControlCommand",
    "batch_size_option",
    "format_option",
    "parse_control_command",
]

DEFAULT_BATCH_SIZE = 128
FORMATS = ("raw", "json")
_WHITESPACE = " \t\r\n"
_KNOWN_OPTIONS = ("batch_size", "format")


@dataclass(frozen=True)
class ControlCommand:
    """One valid control line."""

    kind: str  # "producer" (->) or "consumer" (<-)
    path: str
    topic: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def arrow(self) -> str:
        """``->`` for a producer command, ``<-`` for a consumer command."""
        return "->" if self.kind == "producer" else "<-"

    def describe(self) -> str:
        """The command as the daemon logs it."""
        text = f"'{self.path}' {self.arrow} '{self.topic}'"
        if self.options:
            text += " (" + ", ".join(f"{k}={v}" for k, v in self.options.items()) + ")"
        return text


def _parse_options(text: str, logger: logging.Logger) -> dict[str, str]:
    options: dict[str, str] = {}
    for raw_piece in text.split(","):
        piece = raw_piece.strip(_WHITESPACE)
        if not piece:
            continue
        if "=" not in piece:
            logger.warning("Invalid key-value pair (missing '='): '%s'", piece)
            continue
        key, _, value = piece.partition("=")
        key = key.strip(_WHITESPACE)
        if key:
            options[key] = value.strip(_WHITESPACE)
    return options


def parse_control_command(line: str, logger: logging.Logger) -> ControlCommand | None:
    """Parse one control line; log a warning and return ``None`` if it is invalid."""
    separator, kind = " -> ", "producer"
    position = line.find(separator)
    if position < 0:
        separator, kind = " <- ", "consumer"
        position = line.find(separator)
    if position < 0:
        logger.warning("Invalid command format: '%s'", line)
        return None
    path = line[:position].strip(_WHITESPACE)
    rest = line[position + len(separator) :].strip(_WHITESPACE)
    options: dict[str, str] = {}
    if "(" in rest:
        opening = rest.index("(")
        closing = rest.find(")", opening + 1)
        if closing < 0:
            logger.warning("Missing closing parenthesis in command: '%s'", line)
            return None
        topic = rest[:opening].strip(_WHITESPACE)
        options = _parse_options(rest[opening + 1 : closing], logger)
    else:
        topic = rest
    if not path or not topic:
        logger.warning("Invalid command format (empty FIFO path or topic): '%s'", line)
        return None
    for key in options:
        if key not in _KNOWN_OPTIONS:
            logger.warning(
                "Unknown option '%s' ignored (known: %s)", key, ", ".join(_KNOWN_OPTIONS)
            )
    return ControlCommand(kind, path, topic, options)


def batch_size_option(command: ControlCommand, logger: logging.Logger) -> int:
    """The ``batch_size`` option: leading digits (like ``strtoull``), ``adaptive``, or 128."""
    text = command.options.get("batch_size")
    if text is None:
        return DEFAULT_BATCH_SIZE
    if text.lower() == "adaptive":
        return AdaptiveBatchSize
    digits = ""
    for character in text:
        if not character.isdigit():
            break
        digits += character
    if not digits or int(digits) == 0:
        logger.warning(
            "Invalid batch_size '%s' for FIFO '%s', using %d",
            text,
            command.path,
            DEFAULT_BATCH_SIZE,
        )
        return DEFAULT_BATCH_SIZE
    return int(digits)


def format_option(command: ControlCommand, logger: logging.Logger) -> str:
    """The ``format`` option (``raw`` when absent or unknown, with a warning if unknown)."""
    value = command.options.get("format", "raw")
    if value not in FORMATS:
        logger.warning(
            "Unknown format '%s' for FIFO '%s', using 'raw' instead", value, command.path
        )
        return "raw"
    return value
