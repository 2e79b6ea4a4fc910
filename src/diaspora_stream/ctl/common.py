"""Helpers shared by the sub-commands: driver creation and JSON output."""

from __future__ import annotations

import logging
from typing import Any

from ..api import Driver
from ..json_codec import dumps_compact
from .errors import CommandError, one_line

__all__ = ["compact_json", "make_driver", "push_metadata"]


def compact_json(value: Any) -> str:
    """``value`` as compact JSON with sorted keys (the reference's ``dump()``)."""
    return dumps_compact(value).decode("utf-8")


def make_driver(
    name: str, options: dict[str, Any], logger: logging.Logger, level: int = logging.INFO
) -> Driver:
    """Create the driver ``name`` with ``options`` (logging it at ``level``); failures become
    :class:`CommandError`."""
    logger.debug("Driver config: %s", compact_json(options))
    logger.log(level, "Creating driver: %s", name)
    try:
        return Driver(backend=name, options=options)
    except Exception as error:  # noqa: BLE001 - reported as one line
        raise CommandError(f"Failed to create driver '{name}': {one_line(error)}") from None


def push_metadata(metadata: Any) -> Any:
    """``metadata`` in the form ``Producer.push`` stores as is: a JSON *string* value must be
    given as JSON text, since ``push`` parses ``str`` and ``bytes`` arguments."""
    if isinstance(metadata, (str, bytes, bytearray)):
        if not isinstance(metadata, str):
            metadata = bytes(metadata).decode("utf-8", "replace")
        return compact_json(metadata)
    return metadata
