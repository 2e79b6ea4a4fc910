"""Argument checks shared by the public classes."""

from __future__ import annotations

from typing import Any

from .exceptions import InvalidArgument
from .json_codec import to_json_value

__all__ = ["size_argument", "options_argument", "name_argument"]

_SIZE_MAX = 2**64 - 1


def size_argument(name: str, value: Any) -> int:
    """A non-negative integer argument (C ``size_t`` in the reference)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _SIZE_MAX:
        raise InvalidArgument(f"{name} must be an integer between 0 and 2**64-1, got {value!r}")
    return value


def options_argument(name: str, value: Any) -> dict[str, Any]:
    """A JSON object argument (``None`` means ``{}``)."""
    if value is None:
        return {}
    converted = to_json_value(value)
    if not isinstance(converted, dict):
        raise InvalidArgument(f"{name} must be a JSON object (a dict), got {type(value).__name__}")
    return converted


def name_argument(what: str, value: Any) -> str:
    """A string name argument, valid Unicode (a lone surrogate cannot be stored or sent)."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidArgument(f"{what} {value!r} is not valid Unicode: {error.reason}") from None
    return value
