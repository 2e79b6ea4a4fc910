"""EventBridge-like patterns (reference-api.md §4.3): every rule and key kind, every error."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from diaspora_stream.components.eventbridge import compile_pattern
from diaspora_stream.components.validators import EventbridgeValidator
from diaspora_stream.exceptions import Exception as DiasporaError
from diaspora_stream.exceptions import InvalidMetadata

ABSENT = object()  # marks a key removed from the example metadata

# The pattern and matching example of the reference's EventbridgeTest (§4.3).
FULL_PATTERN: dict[str, Any] = {
    "a1": "a_value",
    "a2": ["a2_value_1", "a2_value_2"],
    "b1": [{"anything-but": "b1_value"}],
    "b2": [{"anything-but": ["b2_value_1", "b2_value_2"]}],
    "b3": [{"anything-but": {"prefix": "b3_prefix"}}],
    "b4": [{"anything-but": {"prefix": ["b4_prefix_1", "b4_prefix_2"]}}],
    "b5": [{"anything-but": {"prefix": {"equals-ignore-case": "b5_prefix"}}}],
    "b6": [{"anything-but": {"prefix": {"equals-ignore-case": ["b6_prefix_1", "b6_prefix_2"]}}}],
    "b7": [{"anything-but": {"suffix": "b7_suffix"}}],
    "b8": [{"anything-but": {"suffix": ["b8_suffix_1", "b8_suffix_2"]}}],
    "b9": [{"anything-but": {"suffix": {"equals-ignore-case": "b9_suffix"}}}],
    "b10": [{"anything-but": {"suffix": {"equals-ignore-case": ["b10_suffix_1", "b10_suffix_2"]}}}],
    "c1": [{"prefix": "c1_prefix"}],
    "c2": [{"prefix": ["c2_prefix_1", "c2_prefix_2"]}],
    "c3": [{"prefix": {"equals-ignore-case": "c3_prefix"}}],
    "c4": [{"prefix": {"equals-ignore-case": ["c4_prefix_1", "c4_prefix_2"]}}],
    "d1": [{"suffix": "d1_suffix"}],
    "d2": [{"suffix": ["d2_suffix_1", "d2_suffix_2"]}],
    "d3": [{"suffix": {"equals-ignore-case": "d3_suffix"}}],
    "d4": [{"suffix": {"equals-ignore-case": ["d4_suffix_1", "d4_suffix_2"]}}],
    "e1": [{"numeric": ["<", 42, ">=", 10]}],
    "e2": [{"numeric": ["<=", 42, ">", 10]}],
    "f1": [{"exists": True}],
    "f2": [{"exists": False}],
    "g1": [{"equals-ignore-case": "g1_VAluE_1"}],
    "g2": [{"equals-ignore-case": ["g2_VAluE_1", "g2_VAluE_2"]}],
    "h1": [{"wildcard": "abc*def*ghi"}],
    "i1": {"i1_1": "i1_1_value"},
    "i2.i2_1": "i2_1_value",
    "j1": [{"$or": [{"j1_1": [{"exists": True}]}, {"j2_2": [{"exists": True}]}]}],
}

EXAMPLE: dict[str, Any] = {
    "a1": "a_value",
    "a2": "a2_value_2",
    "b1": "not_b1_value",
    "b2": "not_b2_value_1",
    "b3": "not_b3_prefix_value",
    "b4": "not_b4_prefix_1",
    "b5": "not_b5_PREfix",
    "b6": "not_b6_PREfix_1",
    "b7": "b7_suffix_not",
    "b8": "b8_suffix_1_not",
    "b9": "b9_SUFfix_not",
    "b10": "b10_SUFfix_1_not",
    "c1": "c1_prefix_value",
    "c2": "c2_prefix_1_value",
    "c3": "c3_PREfix_value",
    "c4": "c4_PREfix_1_value",
    "d1": "value_d1_suffix",
    "d2": "value_d2_suffix_2",
    "d3": "value_d3_SUFfix",
    "d4": "value_d4_SUFfix_2",
    "e1": 33,
    "e2": 34,
    "f1": "something",
    "g1": "g1_vaLUe_1",
    "g2": "g2_vaLUe_2",
    "h1": "abcXXXdefYYghi",
    "i1": {"i1_1": "i1_1_value"},
    "i2": {"i2_1": "i2_1_value"},
    "j1": {"j2_2": 123},
}


def with_value(key: str, value: Any) -> dict[str, Any]:
    """The example metadata with ``key`` set to ``value`` (or removed for ABSENT)."""
    metadata = copy.deepcopy(EXAMPLE)
    if value is ABSENT:
        metadata.pop(key, None)
    else:
        metadata[key] = value
    return metadata


FULL = compile_pattern(FULL_PATTERN)


def test_reference_example_matches() -> None:
    assert FULL(EXAMPLE) is True
    EventbridgeValidator.create({"type": "eventbridge", "schema": FULL_PATTERN}).validate(
        EXAMPLE, []
    )


# Other values, for each key, that still satisfy the full pattern.
ACCEPTED = [
    ("a2", "a2_value_1"),
    ("b1", "b1_VALUE"),
    ("b1", 5),
    ("b1", None),
    ("b2", "b2_value_3"),
    ("b2", ["b2_value_1"]),
    ("b3", "B3_PREFIX"),
    ("b3", 42),
    ("b4", "b4_prefix_3"),
    ("b5", "x_b5_prefix"),
    ("b5", {"b5": 1}),
    ("b6", "b6_prefix_3"),
    ("b7", "b7_SUFFIX"),
    ("b8", "b8_suffix_3"),
    ("b9", "b9_suffix_x"),
    ("b10", "x_b10_suffix_3"),
    ("c1", "c1_prefix"),
    ("c2", "c2_prefix_2"),
    ("c3", "C3_PREFIX"),
    ("c4", "c4_PREFIX_2xyz"),
    ("d1", "d1_suffix"),
    ("d2", "d2_suffix_1"),
    ("d3", "D3_SUFFIX"),
    ("d4", "xD4_suffix_1"),
    ("e1", 10),
    ("e1", 41.999),
    ("e1", 10.0),
    ("e2", 42),
    ("e2", 10.0001),
    ("f1", None),
    ("f1", {}),
    ("f2", ABSENT),
    ("g1", "G1_VALUE_1"),
    ("g2", "g2_value_1"),
    ("h1", "abcdefghi"),
    ("h1", "abc*def*ghi"),
    ("h1", "abc-def-ghi"),
    ("i1", {"i1_1": "i1_1_value", "other": 1}),
    ("i2", {"i2_1": "i2_1_value", "i2_2": 0}),
    ("j1", {"j1_1": None}),
    ("j1", {"j1_1": 1, "j2_2": 2}),
]


@pytest.mark.parametrize(("key", "value"), ACCEPTED)
def test_full_pattern_accepts(key: str, value: Any) -> None:
    assert FULL(with_value(key, value)) is True


# Values, for each key, that make the full pattern fail.
REJECTED = [
    ("a1", "other"),
    ("a1", ABSENT),
    ("a1", ["a_value"]),
    ("a1", {"a_value": 1}),
    ("a2", "a2_value_3"),
    ("a2", ABSENT),
    ("a2", ["a2_value_1"]),
    ("b1", "b1_value"),
    ("b1", ABSENT),
    ("b2", "b2_value_1"),
    ("b2", "b2_value_2"),
    ("b2", ABSENT),
    ("b3", "b3_prefix"),
    ("b3", "b3_prefix_x"),
    ("b3", ABSENT),
    ("b4", "b4_prefix_2xyz"),
    ("b5", "B5_PREFIX_yes"),
    ("b5", "b5_prefix"),
    ("b6", "b6_PREFIX_2..."),
    ("b7", "x_b7_suffix"),
    ("b8", "x_b8_suffix_2"),
    ("b9", "x_B9_SUFFIX"),
    ("b10", "x_b10_SUFFIX_1"),
    ("b10", ABSENT),
    ("c1", "x_c1_prefix"),
    ("c1", "C1_prefix_value"),
    ("c1", 5),
    ("c1", ABSENT),
    ("c2", "c2_prefix_3"),
    ("c3", "c3_prefiy"),
    ("c3", 3),
    ("c4", "c4_prefix_3"),
    ("d1", "d1_suffix_x"),
    ("d1", "value_D1_suffix"),
    ("d1", ["d1_suffix"]),
    ("d2", "d2_suffix_3"),
    ("d3", "d3_suffix_"),
    ("d4", "d4_suffix_3"),
    ("d4", ABSENT),
    ("e1", 42),
    ("e1", 9),
    ("e1", 9.99),
    ("e1", "33"),
    ("e1", True),
    ("e1", None),
    ("e1", [33]),
    ("e1", ABSENT),
    ("e2", 10),
    ("e2", 43),
    ("e2", 42.5),
    ("f1", ABSENT),
    ("f2", None),
    ("f2", "present"),
    ("g1", "g1_value_2"),
    ("g1", 1),
    ("g1", ABSENT),
    ("g2", "g2_value_3"),
    ("h1", "abcXXXdefYYgh"),
    ("h1", "xabcdefghi"),
    ("h1", "abcdefghix"),
    ("h1", 5),
    ("h1", ABSENT),
    ("i1", {"i1_1": "other"}),
    ("i1", {}),
    ("i1", "i1_1_value"),
    ("i1", ABSENT),
    ("i2", {"i2_1": "x"}),
    ("i2", {"i2_2": "i2_1_value"}),
    ("i2", "i2_1_value"),
    ("i2", ["i2_1_value"]),
    ("i2", ABSENT),
    ("j1", {"j3": 1}),
    ("j1", {}),
    ("j1", 123),
    ("j1", ABSENT),
]


@pytest.mark.parametrize(("key", "value"), REJECTED)
def test_full_pattern_rejects(key: str, value: Any) -> None:
    assert FULL(with_value(key, value)) is False
    validator = EventbridgeValidator.create({"type": "eventbridge", "schema": FULL_PATTERN})
    with pytest.raises(InvalidMetadata) as info:
        validator.validate(with_value(key, value), [memoryview(b"ignored")])
    assert str(info.value) == "Metadata object does not satisfy eventbridge pattern"


def test_dotted_key_in_data_is_not_a_path() -> None:
    # "i2.i2_1" is read as d["i2"]["i2_1"], never as a key containing a dot.
    metadata = with_value("i2", ABSENT)
    metadata["i2.i2_1"] = "i2_1_value"
    assert FULL(metadata) is False


# --------------------------------------------------------------------------------------------
# Entry kinds and JSON equality


def matches(pattern: dict[str, Any], value: Any) -> bool:
    return compile_pattern(pattern)(value)


def test_empty_pattern_matches_everything() -> None:
    predicate = compile_pattern({})
    value: Any
    for value in ({}, {"a": 1}, [], 5, "x", None, True):
        assert predicate(value) is True


@pytest.mark.parametrize(
    ("expected", "accepted", "rejected"),
    [
        (1, [1, 1.0], [True, "1", 1.5, [1], {"x": 1}, None, 2]),
        (1.0, [1, 1.0], [True, "1.0", 1.1]),
        (0, [0, 0.0, -0.0], [False, None, ""]),
        (True, [True], [1, 1.0, "true", False]),
        (False, [False], [0, 0.0, None, "", True]),
        (None, [None], [0, False, "", "null", [], {}]),
        ("x", ["x"], ["X", "x ", ["x"], {"x": 1}, 0]),
        (-(2**63), [-(2**63)], [-(2**63) + 1]),
        (2**64 - 1, [2**64 - 1], [2**64 - 2]),
    ],
)
def test_primitive_entry_uses_json_equality(
    expected: Any, accepted: list[Any], rejected: list[Any]
) -> None:
    predicate = compile_pattern({"k": expected})
    for value in accepted:
        assert predicate({"k": value}) is True, value
    for value in rejected:
        assert predicate({"k": value}) is False, value
    assert predicate({}) is False
    assert predicate({"other": expected}) is False


def test_integer_and_float_compare_as_doubles() -> None:
    # nlohmann compares an integer with a float after converting the integer to double.
    assert matches({"k": 9007199254740992.0}, {"k": 2**53 + 1}) is True
    assert matches({"k": 2**53 + 1}, {"k": 9007199254740992.0}) is True
    # Two integers compare exactly.
    assert matches({"k": 2**53}, {"k": 2**53 + 1}) is False


def test_list_of_primitives_matches_any() -> None:
    predicate = compile_pattern({"k": [1, "a", None, True]})
    value: Any
    for value in (1, 1.0, "a", None, True):
        assert predicate({"k": value}) is True, value
    for value in (False, 0, "b", "A", [1], {}):
        assert predicate({"k": value}) is False, value
    assert predicate({}) is False
    strings = compile_pattern({"k": ["a", "b"]})
    assert strings({"k": "b"}) is True
    assert strings({"k": ["a"]}) is False
    assert strings({"k": 1}) is False


def test_object_entry_requires_presence_and_nested_match() -> None:
    predicate = compile_pattern({"k": {}})
    assert predicate({"k": 5}) is True
    assert predicate({"k": None}) is True
    assert predicate({}) is False
    nested = compile_pattern({"k": {"a": {"b": [1, 2]}}})
    assert nested({"k": {"a": {"b": 2}}}) is True
    assert nested({"k": {"a": {"b": 3}}}) is False
    assert nested({"k": {"a": [{"b": 2}]}}) is False
    assert nested({"k": "a"}) is False


def test_dotted_keys() -> None:
    predicate = compile_pattern({"a.b.c": 1})
    assert predicate({"a": {"b": {"c": 1}}}) is True
    assert predicate({"a": {"b": {"c": 2}}}) is False
    assert predicate({"a": {"b": [1]}}) is False
    assert predicate({"a": "b"}) is False
    assert predicate({"a.b.c": 1}) is False
    assert predicate([1]) is False
    # Dotted keys work with rules too, including exists.
    exists = compile_pattern({"a.b": [{"exists": True}]})
    assert exists({"a": {"b": None}}) is True
    assert exists({"a": {"c": None}}) is False
    assert exists({"a": 5}) is False
    missing = compile_pattern({"a.b": [{"exists": False}]})
    assert missing({"a": 5}) is True
    assert missing({}) is True
    assert missing({"a": {"b": 0}}) is False
    # Like std::getline, a trailing dot adds no empty level, and "" designates the value itself.
    assert matches({"a.": 1}, {"a": 1}) is True
    assert matches({"a..b": 1}, {"a": {"": {"b": 1}}}) is True
    assert matches({"": "x"}, "x") is True
    assert matches({"": "x"}, {"": "x"}) is False


def test_empty_rule_list_never_matches() -> None:
    predicate = compile_pattern({"k": []})
    assert predicate({"k": 1}) is False
    assert predicate({"k": []}) is False
    assert predicate({}) is False


def test_rules_are_ored() -> None:
    predicate = compile_pattern({"k": [{"prefix": "a"}, {"suffix": "z"}, {"numeric": [">", 5]}]})
    value: Any
    for value in ("abc", "xyz", "az", 6):
        assert predicate({"k": value}) is True, value
    for value in ("bcd", 5, None):
        assert predicate({"k": value}) is False, value
    either = compile_pattern({"k": [{"exists": False}, {"equals-ignore-case": "yes"}]})
    assert either({}) is True
    assert either({"k": "YES"}) is True
    assert either({"k": "no"}) is False


def test_entries_are_anded() -> None:
    predicate = compile_pattern({"a": 1, "b": [{"prefix": "x"}]})
    assert predicate({"a": 1, "b": "xy"}) is True
    assert predicate({"a": 1, "b": "yx"}) is False
    assert predicate({"a": 2, "b": "xy"}) is False


def test_pattern_is_copied_at_compilation() -> None:
    pattern: dict[str, Any] = {"k": ["a"]}
    predicate = compile_pattern(pattern)
    pattern["k"].append("b")
    pattern["other"] = 1
    assert predicate({"k": "a"}) is True
    assert predicate({"k": "b"}) is False


def test_tuples_are_lists() -> None:
    assert matches({"k": (1, 2)}, {"k": 2}) is True
    assert matches({"k": [{"numeric": (">", 1)}]}, {"k": 2}) is True


# --------------------------------------------------------------------------------------------
# Rules


def rule(rule_object: dict[str, Any]) -> Any:
    """Predicate over the value of "k" for a single rule."""
    predicate = compile_pattern({"k": [rule_object]})
    return lambda value: predicate({"k": value})


def test_exists() -> None:
    present = rule({"exists": True})
    assert present(None) is True
    assert present(False) is True
    assert compile_pattern({"k": [{"exists": True}]})({}) is False
    absent = rule({"exists": False})
    assert absent(None) is False
    assert compile_pattern({"k": [{"exists": False}]})({}) is True
    assert compile_pattern({"k": [{"exists": False}]})("not an object") is True


def test_rules_need_a_present_value() -> None:
    rule_object: Any
    for rule_object in (
        {"anything-but": "x"},
        {"anything-but": []},
        {"anything-but": {"prefix": "x"}},
        {"prefix": ""},
        {"suffix": ""},
        {"equals-ignore-case": "x"},
        {"numeric": []},
        {"$or": [{}]},
        {"wildcard": "*"},
    ):
        assert compile_pattern({"k": [rule_object]})({}) is False, rule_object


def test_anything_but_primitive() -> None:
    predicate = rule({"anything-but": 5})
    assert predicate(5) is False
    assert predicate(5.0) is False
    for value in (6, True, "5", None, [5], {"k": 5}):
        assert predicate(value) is True, value
    not_true = rule({"anything-but": True})
    assert not_true(True) is False
    assert not_true(1) is True
    not_null = rule({"anything-but": None})
    assert not_null(None) is False
    assert not_null(0) is True


def test_anything_but_list() -> None:
    predicate = rule({"anything-but": ["a", 1, None]})
    value: Any
    for value in ("a", 1, 1.0, None):
        assert predicate(value) is False, value
    for value in ("b", 2, True, False, ["a"]):
        assert predicate(value) is True, value
    everything = rule({"anything-but": []})
    assert everything("a") is True
    assert everything(None) is True


def test_anything_but_sub_rules() -> None:
    not_prefix = rule({"anything-but": {"prefix": "ab"}})
    assert not_prefix("abc") is False
    assert not_prefix("xab") is True
    assert not_prefix(12) is True  # a non-string does not start with "ab"
    not_numeric = rule({"anything-but": {"numeric": [">", 10]}})
    assert not_numeric(11) is False
    assert not_numeric(10) is True
    assert not_numeric("11") is True
    not_ignore_case = rule({"anything-but": {"equals-ignore-case": ["A", "b"]}})
    assert not_ignore_case("a") is False
    assert not_ignore_case("B") is False
    assert not_ignore_case("c") is True
    not_wildcard = rule({"anything-but": {"wildcard": "x*"}})
    assert not_wildcard("xyz") is False
    assert not_wildcard("yx") is True
    not_or = rule({"anything-but": {"$or": [{"a": 1}]}})
    assert not_or({"a": 1}) is False
    assert not_or({"a": 2}) is True
    double_negation = rule({"anything-but": {"anything-but": "x"}})
    assert double_negation("x") is True
    assert double_negation("y") is False


def test_rule_priority_order() -> None:
    # With several keys, the first of anything-but, prefix, suffix, equals-ignore-case,
    # numeric, $or, wildcard wins.
    prefix_first = rule({"anything-but": {"suffix": "z", "prefix": "a"}})
    assert prefix_first("xz") is True  # the suffix would have rejected it
    assert prefix_first("ab") is False
    suffix_first = rule({"anything-but": {"wildcard": "q*", "suffix": "z"}})
    assert suffix_first("qa") is True
    assert suffix_first("az") is False
    eic_first = rule({"anything-but": {"numeric": ["=", 1], "equals-ignore-case": "A"}})
    assert eic_first(1) is True
    assert eic_first("a") is False
    numeric_first = rule({"anything-but": {"$or": [{}], "numeric": ["=", 1]}})
    assert numeric_first(2) is True
    assert numeric_first(1) is False
    or_first = rule({"anything-but": {"wildcard": "x", "$or": [{"a": 1}]}})
    assert or_first("x") is True
    assert or_first({"a": 1}) is False
    anything_but_first = rule({"anything-but": {"prefix": "a", "anything-but": "b"}})
    assert anything_but_first("b") is True
    assert anything_but_first("a") is False


def test_prefix_and_suffix() -> None:
    prefix = rule({"prefix": "ab"})
    assert prefix("ab") is True
    assert prefix("abc") is True
    assert prefix("a") is False
    assert prefix("Abc") is False
    assert prefix(["ab"]) is False
    assert prefix(None) is False
    assert rule({"prefix": ""})("") is True
    assert rule({"prefix": ""})(1) is False
    assert rule({"prefix": []})("a") is False
    assert rule({"prefix": ["x", "é"]})("élan") is True
    suffix = rule({"suffix": ["yz", "é"]})
    assert suffix("xyz") is True
    assert suffix("café") is True
    assert suffix("yzx") is False
    assert suffix("XYZ") is False
    assert suffix(5) is False


def test_prefix_and_suffix_ignoring_case() -> None:
    prefix = rule({"prefix": {"equals-ignore-case": ["Ab", "xY"]}})
    value: Any
    for value in ("abc", "ABC", "aBz", "XYZ", "xy"):
        assert prefix(value) is True, value
    for value in ("bac", "a", 1, None):
        assert prefix(value) is False, value
    suffix = rule({"suffix": {"equals-ignore-case": "Yz"}})
    assert suffix("XYZ") is True
    assert suffix("xyzX") is False
    assert suffix(["yz"]) is False
    # Only ASCII letters are folded (C tolower on each byte).
    assert rule({"prefix": {"equals-ignore-case": "élan"}})("éLAN vital") is True
    assert rule({"prefix": {"equals-ignore-case": "élan"}})("ÉLAN") is False
    assert rule({"suffix": {"equals-ignore-case": "É"}})("é") is False
    # As in the reference, an equals-ignore-case operand that is neither a string nor a list
    # gives no candidate: nothing matches.
    assert rule({"prefix": {"equals-ignore-case": 5}})("5") is False
    assert rule({"suffix": {"equals-ignore-case": None}})("") is False


def test_equals_ignore_case() -> None:
    single = rule({"equals-ignore-case": "HeLLo"})
    assert single("hello") is True
    assert single("HELLO") is True
    assert single("hello!") is False
    assert single(["hello"]) is False
    assert single(5) is False
    several = rule({"equals-ignore-case": ["a", "B"]})
    assert several("A") is True
    assert several("b") is True
    assert several("c") is False
    assert rule({"equals-ignore-case": []})("a") is False
    # ASCII-only folding.
    assert rule({"equals-ignore-case": "Straße"})("STRAßE") is True
    assert rule({"equals-ignore-case": "é"})("É") is False
    assert rule({"equals-ignore-case": "straße"})("STRASSE") is False


@pytest.mark.parametrize(
    ("condition", "accepted", "rejected"),
    [
        (["<", 42, ">=", 10], [33, 10, 41.5, 10.0], [42, 9, 9.999, "33", True, None, [33]]),
        (["=", 3], [3, 3.0], [3.5, "3", True]),
        (["=", 1], [1], [True]),
        ([">", 1.5], [2, 1.6], [1, 1.5]),
        (["<=", -1], [-1, -2.5, -(2**63)], [0, -0.5]),
        (["=", 9007199254740993], [9007199254740992, 9007199254740993], [9007199254740995]),
        (["=", 0], [0, -0.0], [False]),
        ([">", 0, "<", 100, "=", 50], [50, 50.0], [49, 51]),
        ([], [0, -1.5, 2**64 - 1], ["x", None, True, [], {}]),
    ],
)
def test_numeric(condition: list[Any], accepted: list[Any], rejected: list[Any]) -> None:
    predicate = rule({"numeric": condition})
    for value in accepted:
        assert predicate(value) is True, value
    for value in rejected:
        assert predicate(value) is False, value


def test_or_applies_to_the_nested_value() -> None:
    predicate = rule(
        {
            "$or": [
                {"x": [{"numeric": [">", 0, "<=", 5]}]},
                {"y": [{"numeric": ["<", 10]}]},
                {"z": "v", "w": [{"exists": False}]},
            ]
        }
    )
    assert predicate({"x": 3}) is True
    assert predicate({"y": -1}) is True
    assert predicate({"z": "v"}) is True
    assert predicate({"x": 6, "y": 10}) is False
    assert predicate({"z": "v", "w": 0}) is False
    assert predicate({}) is False
    assert predicate(3) is False
    # The top-level metadata is not what $or looks at.
    assert compile_pattern({"k": [{"$or": [{"x": 1}]}]})({"x": 1, "k": {}}) is False
    assert rule({"$or": []})({}) is False
    assert rule({"$or": [{}]})(None) is True


def test_wildcard() -> None:
    predicate = rule({"wildcard": "abc*def*ghi"})
    assert predicate("abcXXXdefYYghi") is True
    assert predicate("abcdefghi") is True
    assert predicate("abcXXXdefYYgh") is False
    assert predicate("xabcdefghi") is False
    assert predicate("abcdefghix") is False
    for value in (None, 1, ["abcdefghi"], {"abcdefghi": 1}):
        assert predicate(value) is False
    exact = rule({"wildcard": "plain"})
    assert exact("plain") is True
    assert exact("plainer") is False
    assert rule({"wildcard": "*"})("") is True
    assert rule({"wildcard": "*"})("anything at all") is True
    assert rule({"wildcard": ""})("") is True
    assert rule({"wildcard": ""})("x") is False


def test_wildcard_is_a_regular_expression() -> None:
    # Other metacharacters are not escaped.
    assert rule({"wildcard": "a.c"})("abc") is True
    assert rule({"wildcard": "a+"})("aaa") is True
    assert rule({"wildcard": "(x|y)z*"})("yzzz") is True
    # A pair of backslashes is a literal backslash in the regular expression.
    pair = rule({"wildcard": "a\\\\b"})
    assert pair("a\\b") is True
    assert pair("ab") is False
    pair_star = rule({"wildcard": "a\\\\*b"})
    assert pair_star("a\\xyzb") is True
    assert pair_star("axyzb") is False
    # A single backslash before '*' escapes the '.' produced for the '*'.
    escaped = rule({"wildcard": "a\\*b"})
    assert escaped("ab") is True
    assert escaped("a...b") is True
    assert escaped("axb") is False
    assert escaped("a*b") is False


# --------------------------------------------------------------------------------------------
# Malformed patterns


def error_of(pattern: Any) -> str:
    with pytest.raises(DiasporaError) as info:
        compile_pattern(pattern)
    assert type(info.value) is DiasporaError
    assert isinstance(info.value, RuntimeError)
    return str(info.value)


@pytest.mark.parametrize("pattern", ["x", [], 5, None, True, [{"a": 1}]])
def test_pattern_must_be_an_object(pattern: Any) -> None:
    assert error_of(pattern) == "Invalid Eventbridge pattern: expected object"


P = "Invalid Eventbridge pattern: "


def R(name: str) -> str:
    """The prefix of the reference's messages for a malformed rule ``name``."""
    return f'Invalid Eventbridge "{name}" rule: '


MALFORMED = [
    # Arrays of conditions.
    ({"k": [1, {"prefix": "a"}]}, P + "cannot mix primitives with complex conditions"),
    ({"k": [{"prefix": "a"}, "b"]}, P + "cannot mix primitives with complex conditions"),
    ({"k": [{"prefix": "a"}, None]}, P + "cannot mix primitives with complex conditions"),
    ({"k": [[1]]}, P + "expected object or primitive"),
    ({"k": [1, []]}, P + "expected object or primitive"),
    ({"k": [{"prefix": "a"}, ["b"]]}, P + "expected object or primitive"),
    ({"k": [{"prefix": "a", "suffix": "b"}]}, P + "each rule can only have one statement"),
    ({"k": [{}]}, P + "each rule can only have one statement"),
    # The whole array is checked before any rule is compiled.
    ({"k": [{"prefix": 5}, 1]}, P + "cannot mix primitives with complex conditions"),
    ({"k": [1, {"a": 1, "b": 2}]}, P + "cannot mix primitives with complex conditions"),
    ({"k": [{"a": 1, "b": 2}, 1]}, P + "each rule can only have one statement"),
    # exists
    ({"k": [{"exists": 1}]}, R("exists") + "expected boolean value"),
    ({"k": [{"exists": "true"}]}, R("exists") + "expected boolean value"),
    ({"k": [{"exists": None}]}, R("exists") + "expected boolean value"),
    # Unknown rules.
    ({"k": [{"foo": 1}]}, P + 'unexpected rule: {"foo":1}'),
    ({"k": [{"Prefix": "a"}]}, P + 'unexpected rule: {"Prefix":"a"}'),
    ({"k": [{"anything-but": {}}]}, P + "unexpected rule: {}"),
    ({"k": [{"anything-but": {"exists": True}}]}, P + 'unexpected rule: {"exists":true}'),
    (
        {"k": [{"anything-but": {"z": 1, "é": [1.5, None]}}]},
        P + 'unexpected rule: {"z":1,"é":[1.5,null]}',
    ),
    # anything-but
    (
        {"k": [{"anything-but": [1, [2]]}]},
        R("anything-but") + "list should contain only primitive types",
    ),
    (
        {"k": [{"anything-but": [{"a": 1}]}]},
        R("anything-but") + "list should contain only primitive types",
    ),
    (
        {"k": [{"anything-but": {"prefix": 5}}]},
        R("prefix") + "pattern should be a string, a list, or an object",
    ),
    # prefix
    ({"k": [{"prefix": ["a", 1]}]}, R("prefix") + "list of prefixes should contain only strings"),
    ({"k": [{"prefix": [None]}]}, R("prefix") + "list of prefixes should contain only strings"),
    (
        {"k": [{"prefix": {"foo": "a"}}]},
        R("prefix") + 'only "equals-ignore-case" is allowed as sub-pattern',
    ),
    ({"k": [{"prefix": {}}]}, R("prefix") + 'only "equals-ignore-case" is allowed as sub-pattern'),
    (
        {"k": [{"prefix": {"equals-ignore-case": "a", "x": 1}}]},
        R("prefix") + 'only "equals-ignore-case" is allowed as sub-pattern',
    ),
    (
        {"k": [{"prefix": {"equals-ignore-case": ["a", 2]}}]},
        R("prefix") + 'list in "equals-ignore-case" should contain only strings',
    ),
    ({"k": [{"prefix": 5}]}, R("prefix") + "pattern should be a string, a list, or an object"),
    ({"k": [{"prefix": None}]}, R("prefix") + "pattern should be a string, a list, or an object"),
    ({"k": [{"prefix": True}]}, R("prefix") + "pattern should be a string, a list, or an object"),
    # suffix (the reference's message says "prefixes" for suffixes too)
    ({"k": [{"suffix": ["a", 1]}]}, R("suffix") + "list of prefixes should contain only strings"),
    (
        {"k": [{"suffix": {"foo": "a"}}]},
        R("suffix") + 'only "equals-ignore-case" is allowed as sub-pattern',
    ),
    (
        {"k": [{"suffix": {"equals-ignore-case": [{}]}}]},
        R("suffix") + 'list in "equals-ignore-case" should contain only strings',
    ),
    ({"k": [{"suffix": 1.5}]}, R("suffix") + "pattern should be a string, a list, or an object"),
    # equals-ignore-case
    (
        {"k": [{"equals-ignore-case": ["a", 1]}]},
        R("equals-ignore-case") + "list should contain only strings",
    ),
    (
        {"k": [{"equals-ignore-case": 5}]},
        R("equals-ignore-case") + "pattern should be a string or a list of strings",
    ),
    (
        {"k": [{"equals-ignore-case": {"a": "b"}}]},
        R("equals-ignore-case") + "pattern should be a string or a list of strings",
    ),
    (
        {"k": [{"equals-ignore-case": None}]},
        R("equals-ignore-case") + "pattern should be a string or a list of strings",
    ),
    # numeric
    ({"k": [{"numeric": 5}]}, R("numeric") + "pattern should be a list of even number of elements"),
    (
        {"k": [{"numeric": "<"}]},
        R("numeric") + "pattern should be a list of even number of elements",
    ),
    (
        {"k": [{"numeric": {"<": 1}}]},
        R("numeric") + "pattern should be a list of even number of elements",
    ),
    (
        {"k": [{"numeric": ["<"]}]},
        R("numeric") + "pattern should be a list of even number of elements",
    ),
    (
        {"k": [{"numeric": ["<", 1, ">"]}]},
        R("numeric") + "pattern should be a list of even number of elements",
    ),
    ({"k": [{"numeric": [1, 2]}]}, R("numeric") + "operator should be a string"),
    ({"k": [{"numeric": [5, "x"]}]}, R("numeric") + "operator should be a string"),
    ({"k": [{"numeric": ["<", "1"]}]}, R("numeric") + "operand should be a number"),
    ({"k": [{"numeric": ["<", True]}]}, R("numeric") + "operand should be a number"),
    ({"k": [{"numeric": ["<", None]}]}, R("numeric") + "operand should be a number"),
    ({"k": [{"numeric": ["!=", "x"]}]}, R("numeric") + "operand should be a number"),
    ({"k": [{"numeric": ["!=", 1]}]}, R("numeric") + 'unknown operator "!="'),
    ({"k": [{"numeric": ["<", 1, "==", 2]}]}, R("numeric") + 'unknown operator "=="'),
    # $or
    ({"k": [{"$or": {"a": 1}}]}, R("$or") + "pattern should be a list of objects"),
    ({"k": [{"$or": "a"}]}, R("$or") + "pattern should be a list of objects"),
    ({"k": [{"$or": [1]}]}, R("$or") + "pattern should be a list of objects"),
    ({"k": [{"$or": [{}, []]}]}, R("$or") + "pattern should be a list of objects"),
    ({"k": [{"$or": [{"a": [1, {"b": 1}]}]}]}, P + "cannot mix primitives with complex conditions"),
    # wildcard
    ({"k": [{"wildcard": 5}]}, R("wildcard") + "pattern should be a string"),
    ({"k": [{"wildcard": ["a*"]}]}, R("wildcard") + "pattern should be a string"),
    ({"k": [{"wildcard": None}]}, R("wildcard") + "pattern should be a string"),
    # Errors inside nested objects.
    (
        {"k": {"n": [{"numeric": 1}]}},
        R("numeric") + "pattern should be a list of even number of elements",
    ),
    # Entries are compiled in sorted key order, as nlohmann iterates objects.
    (
        {"b": [{"exists": 1}], "a": [{"numeric": 5}]},
        R("numeric") + "pattern should be a list of even number of elements",
    ),
]


@pytest.mark.parametrize(("pattern", "message"), MALFORMED)
def test_malformed_pattern(pattern: dict[str, Any], message: str) -> None:
    assert error_of(pattern) == message
    with pytest.raises(DiasporaError) as info:
        EventbridgeValidator.create({"type": "eventbridge", "schema": pattern})
    assert str(info.value) == message
    assert not isinstance(info.value, InvalidMetadata)


def test_invalid_wildcard_regex() -> None:
    message = error_of({"k": [{"wildcard": "a(b*"}]})
    assert message.startswith('Invalid Eventbridge "wildcard" rule: invalid regular expression')
    assert "a(b.*" in message
