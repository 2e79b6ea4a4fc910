"""Hierarchical ``--<prefix>.<key> <value>`` options and configuration files.

Extraction follows the reference (reference-api.md §7.2): the argument vector is scanned left to
right; an argument starting with one of :data:`PREFIXES` and followed by another argument takes
that argument as its value, whatever it looks like, and both leave the vector. Values are typed
(design D8) by :func:`parse_value`. Configuration files are JSON objects onto which the
command-line objects are applied as RFC 7386 merge patches (§7.3); a missing file is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from .errors import CommandError

__all__ = [
    "PREFIXES",
    "HierarchicalOptions",
    "extract_hierarchical",
    "load_config_file",
    "merge_patch",
    "parse_value",
]

#: Option prefixes and the key of the object each one fills.
PREFIXES = {
    "--driver.": "driver",
    "--topic.": "topic",
    "--validator.": "validator",
    "--serializer.": "serializer",
    "--partition-selector.": "partition-selector",
}

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1

HierarchicalOptions = dict[str, dict[str, Any]]


def parse_value(text: str) -> Any:
    """Type a command-line value (D8).

    ``true``/``false`` are booleans, ``null`` is ``None``; an optional sign then digits with
    at most one ``.`` (at least one digit) is an integer, or a float when it has the ``.``;
    text containing ``,`` is a list of its comma-separated pieces, each typed by these rules
    (``a,,b`` keeps the empty piece, a trailing comma is dropped); anything else is a string.
    """
    if text == "true":
        return True
    if text == "false":
        return False
    if text == "null":
        return None
    if _NUMBER.fullmatch(text):
        if "." in text:
            return float(text)
        value = int(text)
        if not _INT64_MIN <= value <= _UINT64_MAX:
            raise CommandError(
                f"Integer value {text} is out of range (a JSON integer must fit in 64 bits)"
            )
        return value
    if "," in text:
        pieces = text.split(",")
        if pieces[-1] == "":
            pieces.pop()
        return [parse_value(piece) for piece in pieces]
    return text


def _assign(target: dict[str, Any], option: str, path: str, value: Any) -> None:
    keys = path.split(".")
    if any(not key for key in keys):
        raise CommandError(
            f"Invalid option '{option}': empty key in '{path}' (expected e.g. "
            f"{option.split('.')[0]}.name or {option.split('.')[0]}.a.b)"
        )
    node = target
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def extract_hierarchical(argv: Sequence[str]) -> tuple[list[str], HierarchicalOptions]:
    """Split ``argv`` into the arguments left for the parser and the five option objects.

    A prefixed argument that is the last argument stays in the vector (the parser then rejects
    it as unknown). Later occurrences of a key overwrite earlier ones.
    """
    objects: HierarchicalOptions = {name: {} for name in PREFIXES.values()}
    remaining: list[str] = []
    index = 0
    while index < len(argv):
        argument = argv[index]
        prefix = next((p for p in PREFIXES if argument.startswith(p)), None)
        if prefix is not None and index + 1 < len(argv):
            _assign(
                objects[PREFIXES[prefix]],
                argument,
                argument[len(prefix) :],
                parse_value(argv[index + 1]),
            )
            index += 2
            continue
        remaining.append(argument)
        index += 1
    return remaining, objects


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` as RFC 7386 JSON merge patch; return the result.

    Objects merge recursively, a ``None`` member deletes the key, any other patch value replaces
    the target. ``target`` is not modified.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def load_config_file(path: str, what: str) -> dict[str, Any]:
    """The JSON object in ``path`` (``{}`` for an empty path); a missing, unreadable or invalid
    file, or one that does not hold an object, is a :class:`CommandError`."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except OSError as error:
        raise CommandError(
            f"Failed to open config file: {path}: {error.strerror or error} ({what})"
        ) from None
    except UnicodeDecodeError as error:
        raise CommandError(f"Config file {path} is not UTF-8 text: {error}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"Invalid JSON in config file {path}: {error}") from None
    if not isinstance(value, dict):
        raise CommandError(
            f"Config file {path} must hold a JSON object ({what}), got {type(value).__name__}"
        )
    return value


def merged_config(path: str, cli: dict[str, Any], what: str) -> dict[str, Any]:
    """The config file ``path`` with the command-line object ``cli`` merged over it."""
    merged = merge_patch(load_config_file(path, what), cli)
    assert isinstance(merged, dict)
    return merged
