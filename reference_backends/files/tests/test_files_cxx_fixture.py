"""Byte compatibility with the C++ files driver, against the topic directory it wrote."""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from diaspora_stream.backend.log import AppendRecord, StoredRecord, TopicConfig
from diaspora_stream.json_codec import dumps_compact

from diaspora_stream_files import FilesDriver, FilesTopic

TOPICS = {"plain": 3, "schema_topic": 1}
COMPONENT_FILES = ("validator.json", "serializer.json", "partition-selector.json")
PARTITION_FILES = ("data", "metadata", "index")


def expected_events(fixture_dir: Path) -> dict[str, list[dict[str, Any]]]:
    with open(fixture_dir / "expected_events.json", encoding="utf-8") as stream:
        result: dict[str, list[dict[str, Any]]] = json.load(stream)
    return result


def decode_blob(blob: bytes | memoryview) -> Any:
    """Metadata of a default-serializer blob: ``<Q`` length + compact JSON."""
    raw = bytes(blob)
    (length,) = struct.unpack_from("<Q", raw)
    assert len(raw) == 8 + length, "blob length prefix does not match the index record"
    return json.loads(raw[8:])


def full_data(topic: FilesTopic, partition: int, record: StoredRecord) -> bytes:
    buffer = bytearray(record.data_size)
    topic.read_data(partition, record, [(0, record.data_size)], [memoryview(buffer)])
    return bytes(buffer)


def pull_order(topic: FilesTopic) -> list[tuple[int, StoredRecord]]:
    """Records in the C++ consumer's order: round-robin, resuming after the last partition."""
    pending = [list(topic.read(p, 0, 1000)) for p in range(topic.num_partitions)]
    order: list[tuple[int, StoredRecord]] = []
    cursor = 0
    while any(pending):
        for step in range(topic.num_partitions):
            partition = (cursor + step) % topic.num_partitions
            if pending[partition]:
                order.append((partition, pending[partition].pop(0)))
                cursor = (partition + 1) % topic.num_partitions
                break
    return order


@pytest.mark.parametrize("topic_name", sorted(TOPICS))
def test_reads_cxx_topic_in_pull_order(cxx_root: Path, fixture_dir: Path, topic_name: str) -> None:
    driver = FilesDriver({"root_path": str(cxx_root)})
    topic = driver.open_topic(topic_name)
    assert topic.num_partitions == TOPICS[topic_name]
    expected = expected_events(fixture_dir)[topic_name]
    got = pull_order(topic)
    assert len(got) == len(expected)
    for (partition, record), event in zip(got, expected, strict=True):
        assert record.event_id == event["event_id"], event["pull_order"]
        assert decode_blob(record.metadata) == event["metadata"]
        # The C++ serializer wrote exactly the compact encoding of the metadata.
        raw = dumps_compact(event["metadata"])
        assert bytes(record.metadata) == struct.pack("<Q", len(raw)) + raw
        assert full_data(topic, partition, record) == base64.b64decode(event["data_base64"])
    topic.close()


def test_plain_topic_is_round_robin_over_partitions(cxx_root: Path, fixture_dir: Path) -> None:
    """What pushed.py's default partition selector did: pull k from partition k % 3."""
    topic = FilesDriver({"root_path": str(cxx_root)}).open_topic("plain")
    order = pull_order(topic)
    for event, (partition, record) in zip(
        expected_events(fixture_dir)["plain"], order, strict=True
    ):
        assert partition == event["pull_order"] % 3
        assert record.event_id == event["pull_order"] // 3


def test_partial_reads_fill_destinations_contiguously(cxx_root: Path) -> None:
    topic = FilesDriver({"root_path": str(cxx_root)}).open_topic("plain")
    record = topic.read(0, 3, 1)[0]  # event 9: 2304 bytes
    data = full_data(topic, 0, record)
    assert len(data) == 2304
    segments = [(10, 100), (110, 5), (0, 0), (2000, 304), (7, 3)]
    wanted = b"".join(data[offset : offset + size] for offset, size in segments)
    destination = bytearray(b"#" * (len(wanted) + 9))
    views = [
        memoryview(destination)[0:1],
        memoryview(destination)[1:1],
        memoryview(destination)[1:],
    ]
    topic.read_data(0, record, segments, views)
    assert bytes(destination[: len(wanted)]) == wanted
    assert destination[len(wanted) :] == b"#" * 9  # extra capacity untouched


def test_list_topics_and_components(cxx_root: Path, fixture_dir: Path) -> None:
    driver = FilesDriver({"root_path": str(cxx_root)})
    listing = driver.list_topics()
    assert set(listing) == set(TOPICS)
    for name, partitions in TOPICS.items():
        components = {}
        for file_name, key in zip(
            COMPONENT_FILES, ("validator", "serializer", "partition_selector"), strict=True
        ):
            with open(cxx_root / name / file_name, encoding="utf-8") as stream:
                components[key] = json.load(stream)
        assert listing[name] == {
            "name": name,
            "path": os.path.join(str(cxx_root), name),
            "num_partitions": partitions,
            **components,
        }
        config = driver.open_topic(name).config
        assert config.num_partitions == partitions
        assert config.validator == components["validator"]
        assert config.serializer == {"type": "default"}
        assert config.partition_selector == {"type": "default"}
    schema_validator = driver.open_topic("schema_topic").config.validator
    assert schema_validator is not None and schema_validator["type"] == "schema"
    assert schema_validator["schema"]["properties"]["energy"]["maximum"] == 99
    assert driver.topic_exists("plain") and not driver.topic_exists("missing")


def batches_of(topic_name: str, count: int) -> list[tuple[int, int]]:
    """Per-partition append batches of pushed.py: batch_size=4 for 'plain' then the final
    flush; the schema topic's producer had the adaptive batch size (one batch at flush)."""
    if topic_name == "plain":
        return [(0, 4), (4, count)]
    return [(0, count)]


@pytest.mark.parametrize("topic_name", sorted(TOPICS))
def test_writes_byte_identical_files(cxx_root: Path, tmp_path: Path, topic_name: str) -> None:
    source = FilesDriver({"root_path": str(cxx_root)}).open_topic(topic_name)
    driver = FilesDriver({"root_path": str(tmp_path / "ours")})
    driver.create_topic(topic_name, source.config)
    topic = driver.open_topic(topic_name)
    for partition in range(source.num_partitions):
        records = source.read(partition, 0, 1000)
        for start, stop in batches_of(topic_name, len(records)):
            batch = []
            for record in records[start:stop]:
                data = full_data(source, partition, record)
                # Split the data into segments (with an empty one) as a producer may.
                cut = len(data) // 3
                segments = (memoryview(data)[:cut], memoryview(b""), memoryview(data)[cut:])
                batch.append(AppendRecord(bytes(record.metadata), segments, len(data)))
            assert topic.append(partition, batch) == start
    topic.close()
    ours_dir = tmp_path / "ours" / topic_name
    theirs_dir = cxx_root / topic_name
    ours = sorted(str(p.relative_to(ours_dir)) for p in ours_dir.rglob("*"))
    theirs = sorted(str(p.relative_to(theirs_dir)) for p in theirs_dir.rglob("*"))
    assert ours == theirs
    for name in COMPONENT_FILES:
        assert (ours_dir / name).read_bytes() == (theirs_dir / name).read_bytes(), name
    for partition in range(TOPICS[topic_name]):
        for name in PARTITION_FILES:
            relative = Path("partitions") / f"{partition:08d}" / name
            assert (ours_dir / relative).read_bytes() == (theirs_dir / relative).read_bytes(), (
                relative
            )


def test_absent_components_are_two_bytes(make_driver: Any, tmp_path: Path) -> None:
    driver = make_driver()
    driver.create_topic("bare", TopicConfig(num_partitions=2))
    for name in COMPONENT_FILES:
        assert (tmp_path / "root" / "bare" / name).read_bytes() == b"{}"
    config = driver.open_topic("bare").config
    assert (config.validator, config.serializer, config.partition_selector) == (None, None, None)
    assert driver.list_topics()["bare"]["validator"] == {}


def test_opening_creates_missing_partition_files(cxx_root: Path) -> None:
    """The C++ `topic create` makes only directories and JSON files; opening adds the rest."""
    partition_dir = cxx_root / "schema_topic" / "partitions" / "00000001"
    partition_dir.mkdir()
    topic = FilesDriver({"root_path": str(cxx_root)}).open_topic("schema_topic")
    assert topic.num_partitions == 2
    for name in PARTITION_FILES:
        path = partition_dir / name
        assert path.read_bytes() == b""
        assert (path.stat().st_mode & 0o777) == 0o644 & ~_umask()
    assert topic.event_count(1) == 0 and topic.event_count(0) == 3


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
