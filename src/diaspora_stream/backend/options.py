"""Checking of backend options and topic names, shared by every backend."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import Exception as DiasporaException
from ..logs import get_logger

__all__ = ["Option", "parse_options", "warn_unknown_options", "check_topic_name", "TOPIC_OPTIONS"]

_LOGGER = get_logger("options")

_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    dict: "a JSON object",
    list: "a JSON array",
}


@dataclass(frozen=True)
class Option:
    """One accepted option: its type, default, allowed values and a one-line description."""

    type: type
    default: Any
    help: str = ""
    choices: tuple[Any, ...] | None = None


def _type_name(expected: type) -> str:
    return _TYPE_NAMES.get(expected, expected.__name__)


def _matches(value: Any, expected: type) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, expected)


def warn_unknown_options(options: Mapping[str, Any], accepted: Iterable[str], owner: str) -> None:
    """Log a warning (logger ``diaspora_stream.options``) for each key of ``options`` not in
    ``accepted``, naming it and listing the accepted ones.

    For options the C++ reference ignores when it does not know them (topic options): they are
    ignored here too, but never silently.
    """
    known = sorted(accepted)
    for key in sorted(set(options) - set(known), key=str):
        _LOGGER.warning(
            "Unknown option %r for the %s is ignored; accepted options: %s",
            key,
            owner,
            ", ".join(known) or "none",
        )


def parse_options(
    options: Any,
    accepted: Mapping[str, Option],
    owner: str,
    *,
    allow_unknown: bool = False,
    warn_unknown: bool = False,
) -> dict[str, Any]:
    """Return ``options`` completed with defaults, after checking names, types and choices.

    ``owner`` names what the options configure in error messages (e.g. ``"files driver"``).
    ``None`` means "all defaults". Unknown names raise, unless ``allow_unknown`` (kept in the
    result) or ``warn_unknown`` (a warning naming them, see :func:`warn_unknown_options`; left
    out of the result).
    """
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise DiasporaException(
            f"Options of the {owner} must be a JSON object, got {type(options).__name__}"
        )
    unknown = sorted(set(options) - set(accepted))
    if unknown and warn_unknown:
        warn_unknown_options(options, accepted, owner)
    elif unknown and not allow_unknown:
        known = ", ".join(sorted(accepted)) or "none"
        raise DiasporaException(
            f"Unknown option(s) for the {owner}: {', '.join(unknown)}; accepted options: {known}"
        )
    result: dict[str, Any] = dict(options) if allow_unknown else {}
    for name, option in accepted.items():
        value = options.get(name, option.default)
        if not _matches(value, option.type):
            raise DiasporaException(
                f"Option {name!r} of the {owner} must be {_type_name(option.type)}, "
                f"got {value!r} ({type(value).__name__})"
            )
        if option.choices is not None and value not in option.choices:
            allowed = ", ".join(str(choice) for choice in option.choices)
            raise DiasporaException(
                f"Invalid {name} {value!r} for the {owner}. Valid values are: {allowed}"
            )
        result[name] = value
    return result


#: The topic options of a log-level backend unless it declares others
#: (:attr:`diaspora_stream.backend.log.LogDriver.topic_options`).
TOPIC_OPTIONS: Mapping[str, Option] = {
    "num_partitions": Option(int, 1, "number of partitions of the topic (at least 1)"),
}


def check_topic_name(name: Any) -> str:
    """Return ``name`` if it is a usable topic name, else raise with the reason.

    A topic name is a non-empty string without ``/``, ``\\`` or NUL, other than ``.`` and ``..``,
    valid Unicode (no lone surrogate), of at most 249 bytes in UTF-8: it must be usable as a file
    name and as a Kafka topic suffix.
    """
    if not isinstance(name, str):
        raise DiasporaException(f"Topic name must be a string, got {type(name).__name__}")
    problem = None
    if not name:
        problem = "it is empty"
    elif name in (".", ".."):
        problem = f"{name!r} is reserved"
    elif any(char in name for char in "/\\\0"):
        problem = "it contains '/', '\\' or a NUL character"
    elif not _encodable(name):
        problem = "it is not valid Unicode (it holds a lone surrogate)"
    elif len(name.encode("utf-8")) > 249:
        problem = "it is longer than 249 bytes in UTF-8"
    if problem:
        raise DiasporaException(
            f"Invalid topic name {name!r}: {problem}; use a non-empty name without '/', '\\' "
            "or NUL characters"
        )
    return name


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
