"""Built-in validators, serializers and partition selector (reference-api.md §4.1-§4.6)."""

from __future__ import annotations

import json
import os
import struct
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diaspora_stream.components.interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
)
from diaspora_stream.components.partition_selectors import DefaultPartitionSelector
from diaspora_stream.components.serializers import DefaultSerializer, SchemaSerializer
from diaspora_stream.components.validators import (
    DefaultValidator,
    EventbridgeValidator,
    SchemaValidator,
)
from diaspora_stream.exceptions import Exception as DiasporaError
from diaspora_stream.exceptions import InvalidMetadata
from diaspora_stream.json_codec import dumps_compact


def fixtures_dir() -> Path:
    """The fixtures directory: $DIASPORA_FIXTURES, else tests/fixtures next to this file."""
    configured = os.environ.get("DIASPORA_FIXTURES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent / "fixtures"


CXX_FILES = fixtures_dir() / "cxx-files-v0.5.2"

DATA = [memoryview(b"some data"), memoryview(b"")]
SCHEMA = {
    "type": "object",
    "properties": {"energy": {"type": "integer", "maximum": 99}, "name": {"type": "string"}},
    "required": ["energy"],
}
SCHEMA_PREFIX = "Metadata does not comply to required schema:\n"


def expect_error(kind: type[BaseException], message: str, function: Any, *args: Any) -> None:
    """Call ``function(*args)``; check it raises exactly ``kind`` with exactly ``message``."""
    with pytest.raises(kind) as info:
        function(*args)
    assert type(info.value) is kind
    assert str(info.value) == message


# --------------------------------------------------------------------------------------------
# DefaultValidator


def test_default_validator() -> None:
    validator = DefaultValidator.create({"type": "default", "ignored": [1, 2]})
    assert isinstance(validator, ValidatorInterface)
    assert validator.type_name == "default"
    assert validator.accepts_everything is True
    assert DefaultValidator.accepts_everything is True
    assert validator.metadata() == {"type": "default"}
    assert DefaultValidator.create({}).metadata() == {"type": "default"}
    metadata: Any
    for metadata in ({}, {"a": [1, None]}, [], 5, 1.5, "text", None, True):
        validator.validate(metadata, DATA)
    validator.validate({"a": 1}, [])


# --------------------------------------------------------------------------------------------
# SchemaValidator


@pytest.mark.parametrize("config", ["x", [], 5, None, True, [{"schema": {}}]])
def test_schema_validator_config_must_be_an_object(config: Any) -> None:
    expect_error(
        DiasporaError, "Provided Metadata is not a JSON object", SchemaValidator.create, config
    )


@pytest.mark.parametrize("config", [{}, {"type": "schema"}, {"Schema": {}}])
def test_schema_validator_needs_a_schema(config: dict[str, Any]) -> None:
    expect_error(
        DiasporaError,
        'SchemaValidator is expecting a "schema" entry in its configuration',
        SchemaValidator.create,
        config,
    )


@pytest.mark.parametrize("schema", ["not-an-object", 5, 1.5, None, [], [{"type": "string"}]])
def test_schema_validator_schema_must_be_object_or_boolean(schema: Any) -> None:
    with pytest.raises(ValueError) as info:
        SchemaValidator.create({"type": "schema", "schema": schema})
    assert type(info.value) is ValueError  # the built-in, not the package's Exception
    assert not isinstance(info.value, RuntimeError)
    assert "SchemaValidator" in str(info.value)
    assert "object or a boolean" in str(info.value)


@pytest.mark.parametrize(
    "schema", [{"type": 5}, {"type": "integr"}, {"required": "energy"}, {"minimum": "1"}]
)
def test_schema_validator_rejects_invalid_schema_documents(schema: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as info:
        SchemaValidator.create({"type": "schema", "schema": schema})
    assert type(info.value) is ValueError
    assert str(info.value).startswith("SchemaValidator: invalid JSON schema: ")


def test_schema_validator_metadata() -> None:
    validator = SchemaValidator.create({"type": "schema", "schema": SCHEMA, "other": 1})
    assert isinstance(validator, ValidatorInterface)
    assert validator.accepts_everything is False
    assert validator.metadata() == {"type": "schema", "schema": SCHEMA}
    # metadata() is a copy: changing it does not change the validator.
    validator.metadata()["schema"]["required"].append("name")
    assert validator.metadata() == {"type": "schema", "schema": SCHEMA}
    validator.validate({"energy": 1}, DATA)
    assert SchemaValidator.create({"schema": True}).metadata() == {"type": "schema", "schema": True}


def test_schema_validator_accepts_valid_metadata() -> None:
    validator = SchemaValidator.create({"type": "schema", "schema": SCHEMA})
    validator.validate({"energy": 42}, DATA)
    validator.validate({"energy": 99, "name": "x", "extra": [1]}, [])
    # Formats are not asserted (draft-07 without a format checker).
    SchemaValidator.create({"schema": {"format": "email"}}).validate("not an email", DATA)


def schema_error(schema: Any, metadata: Any) -> str:
    validator = SchemaValidator.create({"type": "schema", "schema": schema})
    with pytest.raises(InvalidMetadata) as info:
        validator.validate(metadata, DATA)
    message = str(info.value)
    assert message.startswith(SCHEMA_PREFIX)
    return message[len(SCHEMA_PREFIX) :]


def jsonschema_messages(schema: Any, metadata: Any) -> list[str]:
    return [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(metadata)]


def test_schema_validator_error_format() -> None:
    metadata = {"energy": 100}
    (message,) = jsonschema_messages(SCHEMA, metadata)
    assert schema_error(SCHEMA, metadata) == f"'/energy' - '100': {message}"
    # The instance is written as compact JSON, the root pointer is empty.
    metadata2: dict[str, Any] = {"name": "é", "list": [1, 2.5, None]}
    (message,) = jsonschema_messages(SCHEMA, metadata2)
    assert schema_error(SCHEMA, metadata2) == (
        f'\'\' - \'{{"list":[1,2.5,null],"name":"é"}}\': {message}'
    )
    assert "'energy' is a required property" in message


def test_schema_validator_reports_every_error_without_separator() -> None:
    metadata = {"energy": "high", "name": 5}
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(metadata))
    assert len(errors) == 2
    heads = {("energy",): "'/energy' - '\"high\"': ", ("name",): "'/name' - '5': "}
    text = schema_error(SCHEMA, metadata)
    assert text == "".join(heads[tuple(error.absolute_path)] + error.message for error in errors)
    assert "\n" not in text


def test_schema_validator_json_pointers() -> None:
    schema = {"properties": {"a/b~c": {"type": "string"}}, "items": {"type": "string"}}
    (message,) = jsonschema_messages(schema, {"a/b~c": 1})
    assert schema_error(schema, {"a/b~c": 1}) == f"'/a~1b~0c' - '1': {message}"
    (message,) = jsonschema_messages(schema, ["a", True])
    assert schema_error(schema, ["a", True]) == f"'/1' - 'true': {message}"
    nested = {"properties": {"x": {"properties": {"y": {"type": "null"}}}}}
    (message,) = jsonschema_messages(nested, {"x": {"y": 1.5}})
    assert schema_error(nested, {"x": {"y": 1.5}}) == f"'/x/y' - '1.5': {message}"


def test_schema_validator_validates_any_json_type() -> None:
    schema = {"type": "string"}
    SchemaValidator.create({"schema": schema}).validate("text", DATA)
    (message,) = jsonschema_messages(schema, 5)
    assert schema_error(schema, 5) == f"'' - '5': {message}"
    (message,) = jsonschema_messages(schema, None)
    assert schema_error(schema, None) == f"'' - 'null': {message}"


def test_schema_validator_boolean_schemas() -> None:
    accept_all = SchemaValidator.create({"type": "schema", "schema": True})
    metadata: Any
    for metadata in ({}, 1, None, "x"):
        accept_all.validate(metadata, DATA)
    reject_all = SchemaValidator.create({"type": "schema", "schema": False})
    with pytest.raises(InvalidMetadata) as info:
        reject_all.validate({"a": 1}, DATA)
    assert str(info.value).startswith(SCHEMA_PREFIX + "'' - '{\"a\":1}': ")


def test_schema_validator_ignores_data() -> None:
    validator = SchemaValidator.create({"schema": {"maxProperties": 0}})
    validator.validate({}, [memoryview(b"x" * 1000)])
    with pytest.raises(InvalidMetadata):
        validator.validate({"a": 1}, [])


def test_schema_validator_unresolvable_reference() -> None:
    validator = SchemaValidator.create({"schema": {"$ref": "#/definitions/missing"}})
    with pytest.raises(DiasporaError) as info:
        validator.validate({}, DATA)
    assert not isinstance(info.value, InvalidMetadata)
    assert "cannot be resolved" in str(info.value)


# --------------------------------------------------------------------------------------------
# EventbridgeValidator


def test_eventbridge_validator() -> None:
    schema = {"source": ["my.app"], "detail-type": ["my-event"]}
    config = {"type": "eventbridge", "schema": schema}
    validator = EventbridgeValidator.create(config)
    assert isinstance(validator, ValidatorInterface)
    assert validator.accepts_everything is False
    assert validator.metadata() == {"type": "eventbridge", "schema": schema}
    validator.metadata()["schema"]["source"].append("other")
    assert validator.metadata() == {"type": "eventbridge", "schema": schema}
    validator.validate({"source": "my.app", "detail-type": "my-event", "x": 1}, DATA)
    metadata: Any
    for metadata in ({"source": "my.app"}, {"source": "other", "detail-type": "my-event"}, 5, []):
        expect_error(
            InvalidMetadata,
            "Metadata object does not satisfy eventbridge pattern",
            validator.validate,
            metadata,
            DATA,
        )


@pytest.mark.parametrize("config", [{}, {"type": "eventbridge"}, {"pattern": {}}, "x", None, []])
def test_eventbridge_validator_needs_a_schema(config: Any) -> None:
    expect_error(
        InvalidMetadata,
        'Metadata object does not contain a "schema" field for EventbridgeValidator',
        EventbridgeValidator.create,
        config,
    )


@pytest.mark.parametrize("schema", ["not-an-object", 5, None, [], [{"a": 1}], True])
def test_eventbridge_validator_schema_must_be_an_object(schema: Any) -> None:
    expect_error(
        InvalidMetadata,
        '"schema" field in EventbridgeValidator configuration should be an object',
        EventbridgeValidator.create,
        {"type": "eventbridge", "schema": schema},
    )


def test_eventbridge_validator_malformed_pattern() -> None:
    expect_error(
        DiasporaError,
        'Invalid Eventbridge "wildcard" rule: pattern should be a string',
        EventbridgeValidator.create,
        {"type": "eventbridge", "schema": {"k": [{"wildcard": 1}]}},
    )


def test_eventbridge_validator_empty_pattern_accepts_everything() -> None:
    validator = EventbridgeValidator.create({"schema": {}})
    metadata: Any
    for metadata in ({}, 5, None, "x", [1]):
        validator.validate(metadata, DATA)


# --------------------------------------------------------------------------------------------
# DefaultSerializer / SchemaSerializer


def test_default_serializer_metadata() -> None:
    serializer = DefaultSerializer.create({"type": "default", "ignored": 1})
    assert isinstance(serializer, SerializerInterface)
    assert serializer.type_name == "default"
    assert serializer.metadata() == {"type": "default"}


@pytest.mark.parametrize(
    ("metadata", "text"),
    [
        ({"b": 1, "a": [True, None, 1.5, "é"]}, '{"a":[true,null,1.5,"é"],"b":1}'),
        ({}, "{}"),
        ([], "[]"),
        (5, "5"),
        (-(2**63), "-9223372036854775808"),
        (2**64 - 1, "18446744073709551615"),
        (1.0, "1.0"),
        (1e100, "1e+100"),
        ('a\nb\x01"\\/', '"a\\nb\\u0001\\"\\\\/"'),
        (None, "null"),
        (False, "false"),
        ({"z": {"y": {}, "x": []}}, '{"z":{"x":[],"y":{}}}'),
    ],
)
def test_default_serializer_blob(metadata: Any, text: str) -> None:
    serializer = DefaultSerializer()
    encoded = text.encode("utf-8")
    blob = serializer.serialize(metadata)
    assert type(blob) is bytes
    assert blob == struct.pack("<Q", len(encoded)) + encoded
    assert serializer.deserialize(blob) == metadata
    assert serializer.deserialize(memoryview(blob)) == metadata
    assert serializer.deserialize(bytearray(blob)) == metadata


def test_deserialize_memoryview_slices() -> None:
    serializer = DefaultSerializer()
    blob = serializer.serialize({"k": "v"})
    buffer = b"xxxx" + blob + b"yyyy"
    view = memoryview(buffer)[4 : 4 + len(blob)]
    assert serializer.deserialize(view) == {"k": "v"}
    padded = serializer.serialize("abcdefgh")  # 8 + 10 bytes: castable to 2-byte items
    assert serializer.deserialize(memoryview(padded).cast("H")) == "abcdefgh"


@pytest.mark.parametrize("serializer", [DefaultSerializer(), SchemaSerializer({"type": "string"})])
@pytest.mark.parametrize(
    ("blob", "detail"),
    [
        (b"", "blob of 0 bytes is too short for the 8-byte length prefix"),
        (
            b"\x02\x00\x00\x00\x00\x00\x00",
            "blob of 7 bytes is too short for the 8-byte length prefix",
        ),
        (
            struct.pack("<Q", 5) + b"{}",
            "the length prefix announces 5 bytes of JSON but the blob holds 2 bytes "
            "after the prefix",
        ),
        (
            struct.pack("<Q", 2) + b"{}xyz",
            "the length prefix announces 2 bytes of JSON but the blob holds 5 bytes "
            "after the prefix",
        ),
        (
            struct.pack("<Q", 2**64 - 1),
            "the length prefix announces 18446744073709551615 bytes of JSON but the blob holds "
            "0 bytes after the prefix",
        ),
    ],
)
def test_deserialize_inconsistent_blob(
    serializer: SerializerInterface, blob: bytes, detail: str
) -> None:
    expect_error(
        DiasporaError,
        "Could not deserialize Serializer metadata: " + detail,
        serializer.deserialize,
        blob,
    )
    expect_error(
        DiasporaError,
        "Could not deserialize Serializer metadata: " + detail,
        serializer.deserialize,
        memoryview(blob),
    )


@pytest.mark.parametrize("serializer", [DefaultSerializer(), SchemaSerializer(True)])
@pytest.mark.parametrize("text", [b"", b"{", b"{'a':1}", b"[1,]", b"NaN", b"\xff\xfe", b"1 2"])
def test_deserialize_invalid_json(serializer: SerializerInterface, text: bytes) -> None:
    with pytest.raises(DiasporaError) as info:
        serializer.deserialize(struct.pack("<Q", len(text)) + text)
    assert type(info.value) is DiasporaError
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    assert message.startswith("Could not deserialize Serializer metadata: ")
    assert len(message) > len("Could not deserialize Serializer metadata: ")


@pytest.mark.parametrize("config", ["x", [], 5, None, True])
def test_schema_serializer_config_must_be_an_object(config: Any) -> None:
    expect_error(
        DiasporaError, "Provided Metadata is not a JSON object", SchemaSerializer.create, config
    )


@pytest.mark.parametrize("config", [{}, {"type": "schema"}])
def test_schema_serializer_needs_a_schema(config: dict[str, Any]) -> None:
    expect_error(
        DiasporaError,
        'SchemaSerializer is expecting a "schema" entry in its configuration',
        SchemaSerializer.create,
        config,
    )


@pytest.mark.parametrize("schema", ["not-an-object", 5, None, [], {"type": 5}])
def test_schema_serializer_invalid_schema(schema: Any) -> None:
    with pytest.raises(ValueError) as info:
        SchemaSerializer.create({"type": "schema", "schema": schema})
    assert type(info.value) is ValueError
    assert "SchemaSerializer" in str(info.value)


def test_schema_serializer() -> None:
    serializer = SchemaSerializer.create({"type": "schema", "schema": SCHEMA})
    assert isinstance(serializer, SerializerInterface)
    assert not isinstance(serializer, DefaultSerializer)
    assert serializer.metadata() == {"type": "schema", "schema": SCHEMA}
    serializer.metadata()["schema"]["required"].append("x")
    assert serializer.metadata() == {"type": "schema", "schema": SCHEMA}
    assert SchemaSerializer.create({"schema": False}).metadata() == {
        "type": "schema",
        "schema": False,
    }
    # Same wire format as the default serializer; the schema is not enforced.
    for metadata in ({"energy": 5}, {"energy": "not an integer"}, [1, 2], "x"):
        blob = serializer.serialize(metadata)
        assert blob == DefaultSerializer().serialize(metadata)
        assert serializer.deserialize(blob) == metadata


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(), children, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_serializer_round_trip(value: Any) -> None:
    for serializer in (DefaultSerializer(), SchemaSerializer({})):
        blob = serializer.serialize(value)
        (length,) = struct.unpack_from("<Q", blob)
        assert length == len(blob) - 8
        assert blob[8:] == dumps_compact(value)
        assert orjson.loads(blob[8:]) == value
        assert serializer.deserialize(blob) == value
        assert serializer.deserialize(memoryview(blob)) == value


JSON_VALUES_WITHOUT_FLOATS = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(), children, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES_WITHOUT_FLOATS)
def test_serializer_text_is_sorted_compact_json(value: Any) -> None:
    # Without floats, nlohmann's compact dump is Python's sorted compact dump (§11.1).
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    assert DefaultSerializer().serialize(value)[8:] == text.encode("utf-8")


def _expected_events(topic: str) -> list[dict[str, Any]]:
    with open(CXX_FILES / "expected_events.json", encoding="utf-8") as stream:
        events: list[dict[str, Any]] = json.load(stream)[topic]
    return sorted(events, key=lambda event: event["pull_order"])


def test_default_serializer_matches_cxx_metadata_file_partition_0() -> None:
    events = [e for e in _expected_events("plain") if e["pull_order"] in (0, 3, 6, 9, 12)]
    assert [e["event_id"] for e in events] == [0, 1, 2, 3, 4]
    _check_metadata_file(CXX_FILES / "root" / "plain" / "partitions" / "00000000", events)


@pytest.mark.parametrize("partition", [0, 1, 2])
def test_default_serializer_matches_cxx_metadata_files(partition: int) -> None:
    # The 15 events of "plain" were pushed round robin over 3 partitions.
    events = [e for e in _expected_events("plain") if e["pull_order"] % 3 == partition]
    assert len(events) == 5
    _check_metadata_file(CXX_FILES / "root" / "plain" / "partitions" / f"{partition:08d}", events)


def test_default_serializer_matches_cxx_schema_topic() -> None:
    events = _expected_events("schema_topic")
    _check_metadata_file(CXX_FILES / "root" / "schema_topic" / "partitions" / "00000000", events)


def _check_metadata_file(partition_dir: Path, events: list[dict[str, Any]]) -> None:
    content = (partition_dir / "metadata").read_bytes()
    serializer = DefaultSerializer()
    blobs = [serializer.serialize(event["metadata"]) for event in events]
    assert b"".join(blobs) == content
    offset = 0
    for event, blob in zip(events, blobs, strict=True):
        stored = memoryview(content)[offset : offset + len(blob)]
        assert serializer.deserialize(stored) == event["metadata"]
        offset += len(blob)


# --------------------------------------------------------------------------------------------
# DefaultPartitionSelector


PARTITIONS = [{"name": f"{i:08d}"} for i in range(3)]


def test_partition_selector_metadata() -> None:
    selector = DefaultPartitionSelector.create({"type": "default", "x": 1})
    assert isinstance(selector, PartitionSelectorInterface)
    assert selector.type_name == "default"
    assert selector.metadata() == {"type": "default"}


def test_partition_selector_without_partitions() -> None:
    selector = DefaultPartitionSelector()
    message = "PartitionSelector has no target to select from"
    expect_error(DiasporaError, message, selector.select_partition_for, {}, None)
    expect_error(DiasporaError, message, selector.select_partition_for, {}, 0)
    selector.set_partitions([])
    expect_error(DiasporaError, message, selector.select_partition_for, {}, None)
    selector.set_partitions(PARTITIONS)
    assert selector.select_partition_for({}, None) == 0
    selector.set_partitions([])
    expect_error(DiasporaError, message, selector.select_partition_for, {}, 1)


def test_partition_selector_round_robin() -> None:
    selector = DefaultPartitionSelector()
    selector.set_partitions(PARTITIONS)
    assert [selector.select_partition_for({"i": i}, None) for i in range(7)] == [
        0,
        1,
        2,
        0,
        1,
        2,
        0,
    ]


def test_partition_selector_requested_does_not_advance() -> None:
    selector = DefaultPartitionSelector()
    selector.set_partitions(PARTITIONS)
    assert selector.select_partition_for({}, None) == 0
    assert selector.select_partition_for({}, 7) == 1
    assert selector.select_partition_for({}, 0) == 0
    assert selector.select_partition_for({}, 2) == 2
    assert selector.select_partition_for({}, 3) == 0
    assert selector.select_partition_for({}, 2**64 - 1) == (2**64 - 1) % 3
    assert selector.select_partition_for({}, None) == 1
    assert selector.select_partition_for({}, None) == 2


def test_partition_selectors_are_independent() -> None:
    first, second = DefaultPartitionSelector(), DefaultPartitionSelector()
    first.set_partitions(PARTITIONS)
    second.set_partitions(PARTITIONS)
    assert first.select_partition_for({}, None) == 0
    assert first.select_partition_for({}, None) == 1
    assert second.select_partition_for({}, None) == 0


def test_partition_selector_single_partition() -> None:
    selector = DefaultPartitionSelector()
    selector.set_partitions(PARTITIONS[:1])
    assert {selector.select_partition_for({}, None) for _ in range(10)} == {0}
    assert selector.select_partition_for({}, 5) == 0


def test_partition_selector_is_thread_safe() -> None:
    selector = DefaultPartitionSelector()
    selector.set_partitions([{}] * 4)
    threads_count, calls = 8, 5000
    results: list[list[int]] = [[] for _ in range(threads_count)]
    barrier = threading.Barrier(threads_count)

    def run(out: list[int]) -> None:
        barrier.wait()
        for _ in range(calls):
            out.append(selector.select_partition_for(None, None))

    threads = [threading.Thread(target=run, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(index for out in results for index in out)
    # Every round-robin slot was handed out exactly once: perfectly balanced.
    assert counts == {index: threads_count * calls // 4 for index in range(4)}


def test_partition_selector_locked_counter() -> None:
    # The lock-based counter used when the interpreter runs without a GIL.
    selector = DefaultPartitionSelector()
    selector._lock = threading.Lock()
    selector._next = selector._locked_next
    selector.set_partitions(PARTITIONS)
    assert [selector.select_partition_for({}, None) for _ in range(4)] == [0, 1, 2, 0]
    assert selector.select_partitions_for_many(4, None) == [1, 2, 0, 1]
    assert selector.select_partition_for({}, None) == 2


def test_partition_selector_many_matches_single_calls() -> None:
    many, single = DefaultPartitionSelector(), DefaultPartitionSelector()
    for selector in (many, single):
        selector.set_partitions(PARTITIONS)
    assert many.select_partitions_for_many(5, None) == [
        single.select_partition_for({}, None) for _ in range(5)
    ]
    assert many.select_partitions_for_many(3, 4) == [1, 1, 1]
    assert many.select_partition_for({}, None) == single.select_partition_for({}, None) == 2
    alone = DefaultPartitionSelector()
    alone.set_partitions(PARTITIONS[:1])
    assert alone.select_partitions_for_many(3, None) == [0, 0, 0]
    assert alone._next() == 3  # the round robin moved on by 3
    with pytest.raises(DiasporaError, match="no target"):
        DefaultPartitionSelector().select_partitions_for_many(2, None)
