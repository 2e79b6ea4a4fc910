"""Unit tests of the pure parts of diaspora-ctl: typed hierarchical options, merge patch,
control grammar, forward configuration."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from diaspora_stream.api import AdaptiveBatchSize
from diaspora_stream.ctl.errors import CommandError, one_line
from diaspora_stream.ctl.fifo_grammar import (
    batch_size_option,
    format_option,
    parse_control_command,
)
from diaspora_stream.ctl.forward_config import load_forward_config, load_plugin
from diaspora_stream.ctl.options import (
    extract_hierarchical,
    load_config_file,
    merge_patch,
    parse_value,
)

LOG = logging.getLogger("test-ctl")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("42", 42),
        ("-3", -3),
        ("+7", 7),
        ("1.", 1.0),
        (".5", 0.5),
        ("-2.25", -2.25),
        ("1e5", "1e5"),
        ("0x10", "0x10"),
        ("", ""),
        ("-", "-"),
        (".", "."),
        ("True", "True"),
        ("a,b", ["a", "b"]),
        ("a,,b", ["a", "", "b"]),
        ("a,b,", ["a", "b"]),
        ("1,true,x,2.5,null", [1, True, "x", 2.5, None]),
        ("18446744073709551615", 2**64 - 1),
    ],
)
def test_parse_value_types_values(text: str, value: object) -> None:
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_parse_value_rejects_integers_beyond_64_bits() -> None:
    with pytest.raises(CommandError, match="out of range"):
        parse_value("18446744073709551616")


def test_extract_hierarchical_follows_the_reference_rules() -> None:
    argv = [
        "--driver", "files",
        "--validator.x", "42",
        "--validator.y.z", "abc",
        "--driver.root_path", "--name",
        "--topic.a", "1",
        "--topic.a.b", "2",
        "--partition-selector.k", "v",
        "--serializer.last",
    ]  # fmt: skip
    remaining, objects = extract_hierarchical(argv)
    assert remaining == ["--driver", "files", "--serializer.last"]
    assert objects["validator"] == {"x": 42, "y": {"z": "abc"}}
    assert objects["driver"] == {"root_path": "--name"}
    assert objects["topic"] == {"a": {"b": 2}}  # a non-object intermediate is replaced
    assert objects["partition-selector"] == {"k": "v"}
    assert objects["serializer"] == {}


def test_extract_hierarchical_rejects_empty_keys() -> None:
    with pytest.raises(CommandError, match="empty key"):
        extract_hierarchical(["--driver.a..b", "1"])


def test_merge_patch_is_rfc_7386() -> None:
    # The examples of RFC 7386, appendix A.
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": "b", "b": "c"}, {"a": None}) == {"b": "c"}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "c"}, {"a": ["b"]}) == {"a": ["b"]}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch(["a", "b"], ["c", "d"]) == ["c", "d"]
    assert merge_patch({"a": "b"}, ["c"]) == ["c"]
    assert merge_patch({"a": "foo"}, None) is None
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch([1, 2], {"a": "b", "c": None}) == {"a": "b"}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_config_files(tmp_path: Path) -> None:
    assert load_config_file("", "driver") == {}
    with pytest.raises(CommandError, match="Failed to open config file"):
        load_config_file(str(tmp_path / "missing.json"), "driver")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(CommandError, match="Invalid JSON"):
        load_config_file(str(bad), "driver")
    array = tmp_path / "array.json"
    array.write_text("[1]")
    with pytest.raises(CommandError, match="must hold a JSON object"):
        load_config_file(str(array), "driver")


def test_one_line_joins_lines() -> None:
    assert one_line("a\n  b\n\nc ") == "a b c"


@pytest.mark.parametrize(
    ("line", "kind", "path", "topic", "options"),
    [
        ("/tmp/p -> t", "producer", "/tmp/p", "t", {}),
        ("  /tmp/p\t ->  t \r", "producer", "/tmp/p", "t", {}),
        ("/tmp/q <- t", "consumer", "/tmp/q", "t", {}),
        ("p -> t (batch_size=256)", "producer", "p", "t", {"batch_size": "256"}),
        ("p -> t(a=1, b = x=y ,=z, c)trailing", "producer", "p", "t", {"a": "1", "b": "x=y"}),
        ("a <- b -> c", "producer", "a <- b", "c", {}),
    ],
)
def test_control_grammar(
    line: str, kind: str, path: str, topic: str, options: dict[str, str]
) -> None:
    command = parse_control_command(line, LOG)
    assert command is not None
    assert (command.kind, command.path, command.topic, command.options) == (
        kind,
        path,
        topic,
        options,
    )


@pytest.mark.parametrize("line", ["", "p->t", "p -> ", " -> t", "p -> t (batch_size=1", "p <-t"])
def test_control_grammar_invalid_lines(line: str) -> None:
    assert parse_control_command(line, LOG) is None


@pytest.mark.parametrize(
    ("text", "size"),
    [(None, 128), ("16", 16), ("12abc", 12), ("abc", 128), ("0", 128), ("adaptive", None)],
)
def test_batch_size_option(text: str | None, size: int | None) -> None:
    line = "p -> t" if text is None else f"p -> t (batch_size={text})"
    command = parse_control_command(line, LOG)
    assert command is not None
    expected = AdaptiveBatchSize if size is None else size
    assert batch_size_option(command, LOG) == expected


def test_format_option() -> None:
    for text, expected in (("", "raw"), ("(format=json)", "json"), ("(format=xml)", "raw")):
        command = parse_control_command(f"p -> t {text}", LOG)
        assert command is not None
        assert format_option(command, LOG) == expected


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "forward.yaml"
    path.write_text(text)
    return str(path)


def test_forward_config(tmp_path: Path) -> None:
    config = load_forward_config(
        _config(
            tmp_path,
            """
drivers:
  a: {type: files, options: {root_path: /tmp/x, use_file_locking: yes, port: "9092"}}
  b: {type: memory}
forward:
  - from: a/src/sub
    to: b/dst
    data_selector: ctl_plugins:first_half
""",
        )
    )
    assert config.drivers["a"].options == {
        "root_path": "/tmp/x",
        "use_file_locking": True,
        "port": "9092",
    }
    (policy,) = config.policies
    assert (policy.source_alias, policy.source_topic) == ("a", "src/sub")
    assert policy.label == "a/src/sub -> b/dst"
    assert policy.consumer_name == "a/src/sub->b/dst"
    assert policy.data_selector == "ctl_plugins:first_half"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("forward: []", "Config missing 'drivers' section"),
        ("drivers: {a: {options: {}}}\nforward: [{from: a/x, to: a/y}]", "missing required 'type'"),
        ("drivers: {a: {type: files}}", "Config missing 'forward' entries"),
        ("drivers: {a: {type: files}}\nforward: [{from: a/x}]", "missing 'from' or 'to'"),
        ("drivers: {a: {type: files}}\nforward: [{from: /x, to: a/y}]", "Invalid topic reference"),
        ("drivers: {a: {type: files}}\nforward: [{from: a/x, to: a}]", "Invalid topic reference"),
        ("drivers: {a: {type: files}}\nforward: [{from: b/x, to: a/y}]", "Unknown driver 'b'"),
        (
            "drivers: {a: {type: files}}\nforward: [{from: a/x, to: a/y, data_selecter: m:f}]",
            "Unknown key 'data_selecter'",
        ),
        (
            "drivers: {a: {type: files}}\nforward: [{from: a/x, to: a/y, data_selector: nocolon}]",
            "Invalid plugin spec 'nocolon'",
        ),
        ("drivers: [\n", "Failed to parse YAML config"),
        ("just text", "must hold a mapping"),
    ],
)
def test_forward_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        load_forward_config(_config(tmp_path, text))


def test_forward_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Failed to open config file"):
        load_forward_config(str(tmp_path / "none.yaml"))


def test_load_plugin() -> None:
    assert load_plugin("ctl_plugins:first_half").__name__ == "first_half"
    with pytest.raises(CommandError, match="Failed to import module"):
        load_plugin("no_such_module_xyz:f")
    with pytest.raises(CommandError, match="not found in module"):
        load_plugin("ctl_plugins:missing")
    with pytest.raises(CommandError, match="not callable"):
        load_plugin("ctl_plugins:not_callable")
