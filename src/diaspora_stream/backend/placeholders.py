"""The ``"{tmp}"`` placeholder of driver options, shared by the test suites and the benchmarks.

Tests and benchmarks take a backend's driver options as JSON in which the string ``"{tmp}"``
stands for a directory they create (and remove) themselves, for example
``{"root_path": "{tmp}"}``: nothing is then written where the backend keeps its data by default.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

__all__ = [
    "TMP",
    "has_placeholder",
    "points_at_temporary_directory",
    "substitute_placeholders",
]

#: The placeholder that stands for a temporary directory in option values.
TMP = "{tmp}"


def substitute_placeholders(value: Any, temporary_directory: str) -> Any:
    """``value`` with ``"{tmp}"`` replaced by ``temporary_directory`` in every string (recursively
    through JSON objects and arrays)."""
    if isinstance(value, str):
        return value.replace(TMP, temporary_directory)
    if isinstance(value, dict):
        return {
            key: substitute_placeholders(item, temporary_directory) for key, item in value.items()
        }
    if isinstance(value, list):
        return [substitute_placeholders(item, temporary_directory) for item in value]
    return value


def has_placeholder(options: Any) -> bool:
    """Whether ``"{tmp}"`` occurs in any string of ``options``."""
    return TMP in json.dumps(options)


def points_at_temporary_directory(options: Any) -> bool:
    """Whether some string of ``options`` is ``"{tmp}"``-based or a path in the system's
    temporary directory (so what the backend writes there is not left in the project)."""
    if has_placeholder(options):
        return True
    root = os.path.realpath(tempfile.gettempdir())
    return any(
        os.path.isabs(text) and os.path.realpath(text).startswith(root + os.sep)
        for text in _strings(options)
    )


def _strings(value: Any) -> list[str]:
    """Every string inside ``value`` (keys excluded)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []
