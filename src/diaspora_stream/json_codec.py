"""JSON encoding byte-compatible with the C++ reference (nlohmann::json ``dump``).

The compact form (``dump()``) is what the default serializer stores: sorted keys, no spaces,
UTF-8 left as is, control characters escaped with lower-case hex, floats in the shortest
round-trip form with nlohmann's choice between decimal and exponent notation, NaN and
infinities written as ``null``. The pretty form (``dump(2)``) is used for component files.

``orjson`` produces the same bytes for everything except some floats; those are detected on its
output and re-encoded by the exact (slower) encoder in this module.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import orjson

from .exceptions import InvalidArgument, InvalidMetadata

__all__ = [
    "dumps_compact",
    "dumps_metadata",
    "dumps_metadata_many",
    "dumps_pretty",
    "loads",
    "to_json_value",
    "format_float",
]

_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_orjson_dumps = orjson.dumps
# orjson and nlohmann may differ on floats written with an exponent, below 1e-4, or with 16
# integral digits; output that may contain one goes through the exact encoder. Substring tests
# are used because they are an order of magnitude faster than a regular expression here.
_DIGITS_TO_NINES = bytes(
    ord("9") if chr(c).isdigit() and c < 128 else (c if c == ord(".") else ord(" "))
    for c in range(256)
)
_SIXTEEN_DIGITS_THEN_POINT = b"9" * 16 + b"."


#: Byte values of ``e`` and ``.``. ``int in bytes`` is a plain ``memchr``; ``needle in bytes``
#: with a ``bytes`` needle first tries the needle as an integer and builds and drops a
#: ``TypeError``, which costs ten times more (``bytes.find`` does not).
_E = ord("e")
_POINT = ord(".")


def _may_differ_from_nlohmann(encoded: bytes) -> bool:
    # One-byte membership tests first: most metadata has no '.' or no 'e' at all.
    if _E in encoded and (encoded.find(b"e-") >= 0 or encoded.find(b"e+") >= 0):
        return True
    if _POINT not in encoded:
        return False
    return encoded.find(b"0.0000") >= 0 or (
        encoded.translate(_DIGITS_TO_NINES).find(_SIXTEEN_DIGITS_THEN_POINT) >= 0
    )


_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def format_float(value: float) -> str:
    """Format a float exactly as nlohmann::json does (shortest round trip, ``1e+16`` style)."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    text = repr(value)
    if "e" in text or "E" in text:
        return text
    # Python writes decimals up to 16 integral digits; nlohmann switches to an exponent at 16.
    sign = "-" if text.startswith("-") else ""
    integral, _, fraction = text.lstrip("-").partition(".")
    if len(integral) < 16:
        return text
    digits = (integral + fraction).rstrip("0") or "0"
    exponent = len(integral) - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e+{exponent:02d}"


def _escape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group(0)
        return _ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _NEEDS_ESCAPE.sub(replace, text) + '"'


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, float):
        return format_float(key)
    return str(key)


def _encode(value: Any, indent: int | None, level: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not _INT64_MIN <= value <= _UINT64_MAX:
            raise InvalidMetadata(
                f"Integer {value} does not fit in 64 bits; JSON metadata integers must be "
                "between -2**63 and 2**64-1 (use a float or a string for larger numbers)"
            )
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(format_float(value))
    elif isinstance(value, str):
        out.append(_escape(value))
    elif isinstance(value, dict):
        items = sorted((_key(k), v) for k, v in value.items())
        _encode_container("{", "}", items, indent, level, out, is_object=True)
    elif isinstance(value, (list, tuple)):
        _encode_container("[", "]", list(value), indent, level, out, is_object=False)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append(_escape(_default(value)))
    else:
        raise InvalidArgument(
            f"Cannot convert an object of type {type(value).__name__} to JSON; metadata must be "
            "made of dict, list, tuple, str, int, float, bool, None (or bytes, stored as base64)"
        )


def _encode_container(
    opening: str,
    closing: str,
    items: list[Any],
    indent: int | None,
    level: int,
    out: list[str],
    *,
    is_object: bool,
) -> None:
    if not items:
        out.append(opening + closing)
        return
    out.append(opening)
    inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
    for position, item in enumerate(items):
        if position:
            out.append(",")
        out.append(inner)
        if is_object:
            key, item = item
            out.append(_escape(key))
            out.append(":" if indent is None else ": ")
        _encode(item, indent, level + 1, out)
    if indent is not None:
        out.append("\n" + " " * (indent * level))
    out.append(closing)


def _dumps_exact(value: Any, indent: int | None) -> str:
    out: list[str] = []
    _encode(value, indent, 0, out)
    return "".join(out)


def dumps_compact(value: Any) -> bytes:
    """Encode ``value`` as nlohmann's compact ``dump()`` would, as UTF-8 bytes."""
    try:
        encoded = _orjson_dumps(value, default=_default, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return _encode_text(_dumps_exact(value, None))
    # Floats always contain '.' or 'e': output with neither needs no further check.
    if (_E in encoded or _POINT in encoded) and _may_differ_from_nlohmann(encoded):
        return _encode_text(_dumps_exact(value, None))
    return encoded


def dumps_metadata(value: Any) -> bytes:
    """:func:`dumps_compact` for event metadata: NaN and infinities are refused.

    The C++ reference stores them as ``null``, which silently changes the event (deviation:
    see the documentation's differences); raises :class:`InvalidMetadata` naming the key.
    """
    encoded = dumps_compact(value)
    # Both encoders write non-finite floats as null: look for them only then.
    if encoded.find(b"null") >= 0:
        _refuse_non_finite(value)
    return encoded


def _refuse_non_finite(value: Any) -> None:
    """Raise :class:`InvalidMetadata` naming where ``value`` holds a NaN or an infinity."""
    path = _non_finite_path(value, "")
    if path is not None:
        raise InvalidMetadata(
            f"Metadata value at {path or 'the top level'} is not a finite number (NaN or "
            "infinity), which JSON cannot hold; store it as a string or as null explicitly"
        )


#: Put between the values of a list encoded at once: orjson escapes control characters in
#: strings, so this byte, written raw by the fragment, can only appear as the separator.
_SEPARATOR = b"\x1f"
_SEPARATOR_FRAGMENT = orjson.Fragment(_SEPARATOR)
_SPLIT = b"," + _SEPARATOR + b","


def dumps_metadata_many(values: Sequence[Any]) -> list[bytes]:
    """:func:`dumps_metadata` of each of ``values``, the same bytes, with a few C calls.

    The values are encoded as one list, with a raw separator between them, and the output is
    split again; the checks for floats and non-finite numbers run once over the whole output,
    then only on the values it flags. Raises what :func:`dumps_metadata` raises for the first
    value it refuses.
    """
    count = len(values)
    if count == 0:
        return []
    spaced: list[Any] = [_SEPARATOR_FRAGMENT] * (2 * count - 1)
    spaced[0::2] = values
    try:
        encoded = _orjson_dumps(spaced, default=_default, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        encoded = b""  # a value only the exact encoder takes, or none does
    texts = encoded[1:-1].split(_SPLIT)
    if len(texts) != count:  # or a value orjson wrote raw (an orjson.Fragment of the user's)
        return [dumps_metadata(value) for value in values]
    if encoded.find(b"null") >= 0 or (
        (_E in encoded or _POINT in encoded) and _may_differ_from_nlohmann(encoded)
    ):
        for position, text in enumerate(texts):
            if (_E in text or _POINT in text) and _may_differ_from_nlohmann(text):
                texts[position] = dumps_metadata(values[position])
            elif text.find(b"null") >= 0:
                _refuse_non_finite(values[position])
    return texts


def _non_finite_path(value: Any, path: str) -> str | None:
    """Where in ``value`` a NaN or infinity is (``key 'a'/'b'/0``), or ``None``."""
    if isinstance(value, float):
        return path if not math.isfinite(value) else None
    if isinstance(value, dict):
        items: Any = ((f"{key!r}", item) for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return None
    for key, item in items:
        found = _non_finite_path(item, f"{path}/{key}" if path else f"key {key}")
        if found is not None:
            return found
    return None


def dumps_pretty(value: Any) -> bytes:
    """Encode ``value`` as nlohmann's ``dump(2)``: 2-space indent, sorted keys, no final newline."""
    return _encode_text(_dumps_exact(value, 2))


def _encode_text(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidMetadata(
            f"Metadata contains a string that is not valid Unicode: {error}"
        ) from None


def loads(text: bytes | bytearray | memoryview | str) -> Any:
    """Parse strict JSON text (RFC 8259); raises ``InvalidMetadata`` with the parser's message."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InvalidMetadata(f"Could not parse JSON: {error}") from None


def to_json_value(value: Any) -> Any:
    """Return ``value`` converted to plain JSON types as the C++ binding converts Python objects.

    Tuples become lists, nested bytes become base64 strings, dict keys become strings, NaN and
    infinities become ``None``. Raises :class:`InvalidArgument` for objects JSON cannot hold.
    """
    return orjson.loads(dumps_compact(value))
