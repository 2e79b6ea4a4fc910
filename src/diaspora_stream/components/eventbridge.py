"""Compilation of AWS-EventBridge-like patterns into predicates (reference-api.md §4.3).

:func:`compile_pattern` turns a pattern (a JSON object) into a function that tells whether a
JSON value matches it. The pattern is parsed once, into nested closures; evaluating an event
does no parsing. Semantics follow the C++ reference (``EventbridgeValidator.cpp``):

* a pattern is an object whose entries are all required (AND; ``{}`` matches everything);
* a key is split on ``.`` and looked up level by level in nested objects (``"a.b"`` reads
  ``d["a"]["b"]``); a missing level means the key is *absent*;
* an entry's value is a primitive (the value must be present and equal to it), an object (the
  value must be present and match it as a pattern), a list of primitives (present and equal to
  one of them) or a list of one-key rule objects (OR of the rules; ``[]`` never matches);
* rules: ``exists``, ``anything-but``, ``prefix``, ``suffix``, ``equals-ignore-case``,
  ``numeric``, ``$or`` and ``wildcard``.

Equality is JSON equality: numbers compare by value across integers and floats (an integer
and a float are compared as doubles, like nlohmann::json), but booleans are not numbers
(``true`` does not equal ``1``). Malformed patterns raise
:class:`diaspora_stream.exceptions.Exception` with the reference's messages.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from ..exceptions import Exception as DiasporaError
from ..json_codec import dumps_compact, to_json_value

__all__ = ["compile_pattern", "Predicate"]

#: A compiled pattern or rule: takes a JSON value, tells whether it matches.
Predicate = Callable[[Any], bool]

# Returned by key lookups when a key is absent (distinct from a present ``null``).
_ABSENT: Any = object()

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}

_PREFIX = "Invalid Eventbridge pattern: "


def compile_pattern(pattern: Any) -> Predicate:
    """Compile an EventBridge-like ``pattern`` into a predicate over JSON values.

    ``pattern`` must be a JSON object (a ``dict``); it is first converted to plain JSON types
    (tuples become lists, keys become strings). Raises
    :class:`~diaspora_stream.exceptions.Exception` with the reference implementation's message
    if the pattern is malformed. The returned
    function takes the metadata (any JSON value) and returns ``True`` if it matches.
    """
    if not isinstance(pattern, dict):
        raise DiasporaError(_PREFIX + "expected object")
    return _match_json(to_json_value(pattern))


# --------------------------------------------------------------------------------------------
# Helpers


def _ascii_lower(text: str) -> str:
    """Lower-case the ASCII letters of ``text`` only (C ``tolower`` applied to each byte)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _is_primitive(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _to_double(value: Any) -> float | None:
    """Return a JSON number as a float (as nlohmann's ``get<double>``), or None if not a number."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            return None
    if kind is bool or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _all_of(conditions: list[Predicate]) -> Predicate:
    if not conditions:
        return lambda value: True
    if len(conditions) == 1:
        return conditions[0]
    if len(conditions) == 2:
        first, second = conditions

        def both(value: Any) -> bool:
            return first(value) and second(value)

        return both
    frozen = tuple(conditions)

    def every(value: Any) -> bool:
        for condition in frozen:
            if not condition(value):
                return False
        return True

    return every


def _any_of(conditions: list[Predicate]) -> Predicate:
    if not conditions:
        return lambda value: False
    if len(conditions) == 1:
        return conditions[0]
    frozen = tuple(conditions)

    def some(value: Any) -> bool:
        for condition in frozen:
            if condition(value):
                return True
        return False

    return some


def _make_lookup(key: str) -> Callable[[Any], Any]:
    """Return a function reading ``key`` (dot-separated) in a value, or ``_ABSENT``."""
    tokens = key.split(".")
    # std::getline semantics: a trailing separator does not produce a final empty token.
    if tokens[-1] == "":
        tokens.pop()
    if not tokens:
        return lambda data: data
    if len(tokens) == 1:
        token = tokens[0]

        def lookup_one(data: Any) -> Any:
            if isinstance(data, dict):
                return data.get(token, _ABSENT)
            return _ABSENT

        return lookup_one
    path = tuple(tokens)

    def lookup_path(data: Any) -> Any:
        for token in path:
            if not isinstance(data, dict):
                return _ABSENT
            data = data.get(token, _ABSENT)
            if data is _ABSENT:
                return _ABSENT
        return data

    return lookup_path


def _make_equals(expected: Any) -> Predicate:
    """Return a predicate testing JSON equality with the primitive ``expected``."""
    if expected is None:
        return lambda value: value is None
    if expected is True:
        return lambda value: value is True
    if expected is False:
        return lambda value: value is False
    if isinstance(expected, str):
        return lambda value: isinstance(value, str) and value == expected
    if isinstance(expected, int):
        as_int = int(expected)
        as_float = float(expected)

        def equals_int(value: Any) -> bool:
            kind = type(value)
            if kind is int:
                return value == as_int
            if kind is float:
                return value == as_float
            if kind is bool:
                return False
            if isinstance(value, int):
                return int(value) == as_int
            if isinstance(value, float):
                return float(value) == as_float
            return False

        return equals_int
    as_double = float(expected)

    def equals_float(value: Any) -> bool:
        if type(value) is float:
            return value == as_double
        number = _to_double(value)
        return number is not None and number == as_double

    return equals_float


def _present_and(predicate: Predicate) -> Predicate:
    def check(value: Any) -> bool:
        return value is not _ABSENT and predicate(value)

    return check


# --------------------------------------------------------------------------------------------
# Patterns (matchJson)


def _match_json(pattern: Any) -> Predicate:
    if not isinstance(pattern, dict):
        raise DiasporaError(_PREFIX + "expected object")
    # nlohmann objects iterate in sorted key order: errors surface in that order too.
    return _all_of([_match_entry(key, pattern[key]) for key in sorted(pattern)])


def _match_entry(key: str, value: Any) -> Predicate:
    lookup = _make_lookup(key)
    if _is_primitive(value):
        equals = _make_equals(value)

        def primitive_entry(data: Any) -> bool:
            return equals(lookup(data))

        return primitive_entry
    if isinstance(value, dict):
        inner = _match_json(value)

        def object_entry(data: Any) -> bool:
            nested = lookup(data)
            return nested is not _ABSENT and inner(nested)

        return object_entry
    if not isinstance(value, list):
        raise DiasporaError(_PREFIX + "expected object or primitive")

    has_primitives = False
    has_objects = False
    for element in value:
        if _is_primitive(element):
            has_primitives = True
            if has_objects:
                raise DiasporaError(_PREFIX + "cannot mix primitives with complex conditions")
        elif isinstance(element, dict):
            has_objects = True
            if has_primitives:
                raise DiasporaError(_PREFIX + "cannot mix primitives with complex conditions")
            if len(element) != 1:
                raise DiasporaError(_PREFIX + "each rule can only have one statement")
        else:
            raise DiasporaError(_PREFIX + "expected object or primitive")

    if has_primitives:
        one_of = _match_any_value(value)

        def values_entry(data: Any) -> bool:
            return one_of(lookup(data))

        return values_entry

    rules: list[Predicate] = []
    for rule in value:
        if "exists" in rule:
            rules.append(_match_exists(rule["exists"]))
        else:
            rules.append(_present_and(_match_rule(rule)))
    any_rule = _any_of(rules)

    def rules_entry(data: Any) -> bool:
        return any_rule(lookup(data))

    return rules_entry


def _match_any_value(values: list[Any]) -> Predicate:
    """Predicate: the value equals one of the primitives ``values`` (absent never matches)."""
    if all(isinstance(item, str) for item in values):
        choices = frozenset(values)
        return lambda value: isinstance(value, str) and value in choices
    return _any_of([_make_equals(item) for item in values])


def _match_exists(should_exist: Any) -> Predicate:
    if not isinstance(should_exist, bool):
        raise DiasporaError('Invalid Eventbridge "exists" rule: expected boolean value')
    if should_exist:
        return lambda value: value is not _ABSENT
    return lambda value: value is _ABSENT


# --------------------------------------------------------------------------------------------
# Rules (matchRule); the returned predicates are only called on present values.


def _match_rule(rule: dict[str, Any]) -> Predicate:
    for name, compiler in _RULES:
        if name in rule:
            return compiler(rule[name])
    raise DiasporaError(_PREFIX + "unexpected rule: " + dumps_compact(rule).decode("utf-8"))


def _match_anything_but(operand: Any) -> Predicate:
    if _is_primitive(operand):
        equals = _make_equals(operand)
        return lambda value: not equals(value)
    if isinstance(operand, list):
        for item in operand:
            if not _is_primitive(item):
                raise DiasporaError(
                    'Invalid Eventbridge "anything-but" rule: '
                    "list should contain only primitive types"
                )
        one_of = _match_any_value(operand)
        return lambda value: not one_of(value)
    inner = _match_rule(operand)
    return lambda value: not inner(value)


def _extract_affixes(operand: Any, rule_name: str) -> tuple[bool, tuple[str, ...]]:
    """Parse the operand of ``prefix``/``suffix``: (ignore case?, strings to look for)."""
    error = f'Invalid Eventbridge "{rule_name}" rule: '
    if isinstance(operand, str):
        return False, (operand,)
    if isinstance(operand, list):
        for item in operand:
            if not isinstance(item, str):
                # The reference says "prefixes" for both prefix and suffix rules.
                raise DiasporaError(error + "list of prefixes should contain only strings")
        return False, tuple(operand)
    if isinstance(operand, dict):
        if len(operand) != 1 or "equals-ignore-case" not in operand:
            raise DiasporaError(error + 'only "equals-ignore-case" is allowed as sub-pattern')
        inner = operand["equals-ignore-case"]
        if isinstance(inner, str):
            return True, (_ascii_lower(inner),)
        if isinstance(inner, list):
            for item in inner:
                if not isinstance(item, str):
                    raise DiasporaError(
                        error + 'list in "equals-ignore-case" should contain only strings'
                    )
            return True, tuple(_ascii_lower(item) for item in inner)
        # Like the reference: any other operand yields no candidate, so nothing matches.
        return True, ()
    raise DiasporaError(error + "pattern should be a string, a list, or an object")


def _match_prefix(operand: Any) -> Predicate:
    ignore_case, prefixes = _extract_affixes(operand, "prefix")
    if ignore_case:
        return lambda value: isinstance(value, str) and _ascii_lower(value).startswith(prefixes)
    return lambda value: isinstance(value, str) and value.startswith(prefixes)


def _match_suffix(operand: Any) -> Predicate:
    ignore_case, suffixes = _extract_affixes(operand, "suffix")
    if ignore_case:
        return lambda value: isinstance(value, str) and _ascii_lower(value).endswith(suffixes)
    return lambda value: isinstance(value, str) and value.endswith(suffixes)


def _match_equals_ignore_case(operand: Any) -> Predicate:
    if isinstance(operand, str):
        expected = _ascii_lower(operand)
        return lambda value: isinstance(value, str) and _ascii_lower(value) == expected
    if isinstance(operand, list):
        for item in operand:
            if not isinstance(item, str):
                raise DiasporaError(
                    'Invalid Eventbridge "equals-ignore-case" rule: '
                    "list should contain only strings"
                )
        choices = frozenset(_ascii_lower(item) for item in operand)
        return lambda value: isinstance(value, str) and _ascii_lower(value) in choices
    raise DiasporaError(
        'Invalid Eventbridge "equals-ignore-case" rule: '
        "pattern should be a string or a list of strings"
    )


def _match_numeric(operand: Any) -> Predicate:
    error = 'Invalid Eventbridge "numeric" rule: '
    if not isinstance(operand, list) or len(operand) % 2 != 0:
        raise DiasporaError(error + "pattern should be a list of even number of elements")
    comparisons: list[tuple[Callable[[float, float], bool], float]] = []
    for position in range(0, len(operand), 2):
        op, bound = operand[position], operand[position + 1]
        if not isinstance(op, str):
            raise DiasporaError(error + "operator should be a string")
        number = _to_double(bound)
        if number is None:
            raise DiasporaError(error + "operand should be a number")
        compare = _NUMERIC_OPERATORS.get(op)
        if compare is None:
            raise DiasporaError(error + f'unknown operator "{op}"')
        comparisons.append((compare, number))
    frozen = tuple(comparisons)

    def numeric(value: Any) -> bool:
        number = _to_double(value)
        if number is None:
            return False
        for compare, bound in frozen:
            if not compare(number, bound):
                return False
        return True

    return numeric


def _match_or(operand: Any) -> Predicate:
    error = 'Invalid Eventbridge "$or" rule: pattern should be a list of objects'
    if not isinstance(operand, list):
        raise DiasporaError(error)
    alternatives: list[Predicate] = []
    for alternative in operand:
        if not isinstance(alternative, dict):
            raise DiasporaError(error)
        alternatives.append(_match_json(alternative))
    return _any_of(alternatives)


def _match_wildcard(operand: Any) -> Predicate:
    if not isinstance(operand, str):
        raise DiasporaError('Invalid Eventbridge "wildcard" rule: pattern should be a string')
    # Pairs of backslashes are kept apart from the '*' substitution, then the result is used
    # as a regular expression (other metacharacters are not escaped, as in the reference).
    expression = "\\\\".join(piece.replace("*", ".*") for piece in operand.split("\\\\"))
    try:
        regex = re.compile(expression)
    except re.error as error:
        raise DiasporaError(
            f'Invalid Eventbridge "wildcard" rule: invalid regular expression "{expression}": '
            f"{error}"
        ) from None
    fullmatch = regex.fullmatch
    return lambda value: isinstance(value, str) and fullmatch(value) is not None


_RULES: tuple[tuple[str, Callable[[Any], Predicate]], ...] = (
    ("anything-but", _match_anything_but),
    ("prefix", _match_prefix),
    ("suffix", _match_suffix),
    ("equals-ignore-case", _match_equals_ignore_case),
    ("numeric", _match_numeric),
    ("$or", _match_or),
    ("wildcard", _match_wildcard),
)
