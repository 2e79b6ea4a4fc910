"""The fast batch paths (columnar append and read, bulk serialization and deserialization) give
the same stored bytes, events, ids and errors as the per-event paths, and fall back to them
for components written by users and for backends without the columnar methods."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from diaspora_stream.api import (
    Driver,
    InvalidMetadata,
    Serializer,
    TopicHandle,
    register_serializer,
)
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.backend.log import (
    AppendRecord,
    LogTopic,
    RecordColumns,
    StoredColumns,
    StoredRecord,
    TopicConfig,
)
from diaspora_stream.components.interfaces import SerializerInterface
from diaspora_stream.components.serializers import DefaultSerializer
from diaspora_stream.json_codec import dumps_metadata, dumps_metadata_many

#: Metadata the orjson output of which the exact encoder must rewrite, or that holds nulls,
#: bytes, non-string keys, nesting: the batch encoder must give the same bytes as push.
TRICKY = [
    {"small": 1e-7, "name": "e-mail"},
    {"big": 1e16, "n": None},
    {"integral": 1234567890123456.5},
    {"bytes": b"\x00\xff", 3: "three", "list": [1.5, {"e": 2.5e-5}]},
    {"text": 'with ",\x1f," inside'},
    [],
    "plain",
    12,
    None,
    {"n": 0.1},
]
TRICKY_OBJECTS = [value for value in TRICKY if isinstance(value, dict)]


@pytest.fixture
def files_driver(tmp_path: Path) -> Iterator[Driver]:
    driver = Driver(backend="files", options={"root_path": str(tmp_path)})
    yield driver
    driver.close()


def _open(driver: Driver, name: str, **kwargs: Any) -> TopicHandle:
    driver.create_topic(name, **kwargs)
    return driver.open_topic(name)


def _partition_files(tmp_path: Path, topic: str) -> dict[str, bytes]:
    directory = tmp_path / topic / "partitions" / "00000000"
    return {name: (directory / name).read_bytes() for name in ("metadata", "index", "data")}


# ----------------------------------------------------------------- serialization


def test_dumps_metadata_many_gives_the_bytes_of_dumps_metadata() -> None:
    assert dumps_metadata_many(TRICKY) == [dumps_metadata(value) for value in TRICKY]
    assert dumps_metadata_many([]) == []
    # A value orjson writes raw (a user's Fragment) is encoded one by one, as push does.
    fragment = orjson.Fragment(b"1,\x1f,2")
    assert dumps_metadata_many([fragment, 3]) == [dumps_metadata(fragment), b"3"]


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [({"x": math.nan}, "not a finite number"), ({"x": 2**70}, "does not fit in 64 bits")],
)
def test_dumps_metadata_many_refuses_as_dumps_metadata(bad: Any, fragment: str) -> None:
    with pytest.raises(InvalidMetadata, match=fragment):
        dumps_metadata_many([{"a": 1}, bad, {"b": 2}])


def test_push_many_stores_the_bytes_of_a_push_loop(files_driver: Driver, tmp_path: Path) -> None:
    looped, batched = _open(files_driver, "looped"), _open(files_driver, "batched")
    producer = looped.producer()
    for value in TRICKY_OBJECTS:
        producer.push(value)
    producer.close()
    producer = batched.producer()
    ids = producer.push_many(TRICKY_OBJECTS).wait(10_000)
    assert ids == list(range(len(TRICKY_OBJECTS)))
    producer.close()
    assert _partition_files(tmp_path, "looped") == _partition_files(tmp_path, "batched")


def test_refused_event_in_the_middle_fails_the_call_and_stores_nothing(
    files_driver: Driver,
) -> None:
    topic = _open(files_driver, "refused", options={"num_partitions": 2})
    producer = topic.producer()
    future = producer.push_many([{"n": 0}, {"n": 1}, {"n": math.inf}, {"n": 3}])
    with pytest.raises(InvalidMetadata) as raised:
        future.wait(10_000)
    assert raised.value.batch_index == 2  # type: ignore[attr-defined]
    # The selector ran for events 0 to 2, as push would have run it: the round robin goes on
    # from partition 1 (event 2's), so the next two events go to partitions 1 and 0.
    assert producer.push_many([{"n": "a"}, {"n": "b"}]).wait(10_000) == [0, 0]
    producer.close()
    consumer = topic.consumer("reader")
    events = consumer.pull_many(10, timeout_ms=200)
    assert sorted((e.partition_index, e.metadata["n"]) for e in events) == [(0, "b"), (1, "a")]
    consumer.close()


class _CountingSerializer(SerializerInterface):
    """The default wire format, written in Python, counting its calls in order."""

    type_name: ClassVar[str] = "tests-batch-counting-serializer"
    calls: ClassVar[list[tuple[str, Any]]] = []

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> _CountingSerializer:
        return cls()

    def serialize(self, metadata: Any) -> bytes:
        self.calls.append(("serialize", metadata))
        return DefaultSerializer().serialize(metadata)

    def deserialize(self, blob: bytes | memoryview) -> Any:
        value = DefaultSerializer().deserialize(blob)
        self.calls.append(("deserialize", value))
        return value


register_serializer(_CountingSerializer.type_name, _CountingSerializer)


def test_a_python_serializer_is_called_per_event(files_driver: Driver) -> None:
    serializer = Serializer.from_metadata(type=_CountingSerializer.type_name)
    topic = _open(files_driver, "python-serializer", serializer=serializer)
    _CountingSerializer.calls.clear()
    metadata = [{"n": n} for n in range(5)]
    producer = topic.producer()
    assert producer.push_many(metadata).wait(10_000) == list(range(5))
    producer.close()
    consumer = topic.consumer("reader")
    assert [event.metadata for event in consumer.pull_many(10, timeout_ms=200)] == metadata
    consumer.close()
    assert _CountingSerializer.calls == [("serialize", m) for m in metadata] + [
        ("deserialize", m) for m in metadata
    ]


# ------------------------------------------------------------- columnar append


class _RecordsOnly(LogTopic):
    """A log-level topic with the per-record append only (a third-party backend)."""

    def __init__(self) -> None:
        super().__init__("records-only", TopicConfig(num_partitions=1))
        self.appended: list[AppendRecord] = []

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        first = len(self.appended)
        self.appended.extend(records)
        return first

    def event_count(self, partition: int) -> int:
        return len(self.appended)

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        return []

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        raise AssertionError("not read")


def test_append_columns_falls_back_to_append() -> None:
    topic = _RecordsOnly()
    data = (memoryview(b"xyz"),)
    columns = RecordColumns(b"aabbbc", [2, 3, 1], [(), data, ()], [0, 3, 0])
    assert topic.append_columns(0, columns) == 0
    assert topic.appended == [
        AppendRecord(b"aa", (), 0),
        AppendRecord(b"bbb", data, 3),
        AppendRecord(b"c", (), 0),
    ]
    assert topic.read_columns(0, 0, 10) is None  # the consumer then reads records


def test_memory_backend_push_many_uses_the_per_record_append() -> None:
    driver = Driver(backend="memory", options={})
    topic = _open(driver, "memory-batch")
    producer = topic.producer()
    producer.push({"n": "first"})  # a push, then a push_many into the same open batch
    assert producer.push_many([{"n": 1}, {"n": 2}], [b"ab", None]).wait(10_000) == [1, 2]
    producer.close()
    consumer = topic.consumer("reader")
    events = consumer.pull_many(10, timeout_ms=200)
    assert [(e.metadata["n"], bytes(e.data[0])) for e in events] == [
        ("first", b""),
        (1, b"ab"),
        (2, b""),
    ]
    consumer.close()
    driver.close()


def _files_topic(driver: Driver, name: str) -> Any:
    return _open(driver, name)._impl.log_topic


def test_files_append_columns_writes_what_append_writes(
    files_driver: Driver, tmp_path: Path
) -> None:
    blobs = [DefaultSerializer().serialize({"n": n}) for n in range(4)]
    data: list[tuple[memoryview, ...]] = [(), (memoryview(b"ab"), memoryview(b"c")), (), ()]
    sizes = [0, 3, 0, 0]
    by_record = _files_topic(files_driver, "by-record")
    by_column = _files_topic(files_driver, "by-column")
    for first, stop in ((0, 1), (1, 4)):
        records = [AppendRecord(blobs[i], data[i], sizes[i]) for i in range(first, stop)]
        columns = RecordColumns(
            b"".join(blobs[first:stop]),
            [len(blob) for blob in blobs[first:stop]],
            data[first:stop],
            sizes[first:stop],
        )
        assert by_record.append(0, records) == by_column.append_columns(0, columns) == first
    assert _partition_files(tmp_path, "by-record") == _partition_files(tmp_path, "by-column")


@pytest.mark.parametrize(
    ("columns", "fragment"),
    [
        (RecordColumns(b"abc", [1, 1], [(), ()], [0, 0]), "3 bytes of metadata"),
        (RecordColumns(b"ab", [1, 1], [()], [0, 0]), "different lengths"),
        (RecordColumns(b"ab", [1, 1], [(), ()], [0, 2]), "Record 1 .* declares data_size 2"),
        (
            RecordColumns(b"ab", [1, 1], [(memoryview(b"x"),), ()], [2, 0]),
            "Record 0 .* declares data_size 2 but its segments hold 1",
        ),
    ],
)
def test_files_append_columns_refuses_inconsistent_columns(
    files_driver: Driver, columns: RecordColumns, fragment: str
) -> None:
    log = _files_topic(files_driver, "inconsistent")
    with pytest.raises(DiasporaException, match=fragment):
        log.append_columns(0, columns)
    assert log.event_count(0) == 0


def test_files_integrity_mode_appends_and_reads_by_record(tmp_path: Path) -> None:
    driver = Driver(backend="files", options={"root_path": str(tmp_path), "integrity": True})
    topic = _open(driver, "checked")
    producer = topic.producer()
    assert producer.push_many([{"n": n} for n in range(3)]).wait(10_000) == [0, 1, 2]
    producer.close()
    assert topic._impl.log_topic.read_columns(0, 0, 10) is None
    consumer = topic.consumer("reader")
    assert [e.metadata for e in consumer.pull_many(10, timeout_ms=200)] == [
        {"n": n} for n in range(3)
    ]
    consumer.close()
    driver.close()


# --------------------------------------------------------------- columnar read


def test_read_columns_holds_what_read_gives(files_driver: Driver) -> None:
    topic = _open(files_driver, "columns")
    producer = topic.producer()
    producer.push_many([{"n": n} for n in range(5)], [b"", b"data", None, b"x", None])
    producer.close()
    log = topic._impl.log_topic
    columns = log.read_columns(0, 1, 3)
    assert isinstance(columns, StoredColumns)
    assert len(columns) == 3
    expected = log.read(0, 1, 3)
    assert [(r.event_id, bytes(r.metadata), r.data_size, r.locator) for r in columns.records()] == [
        (r.event_id, bytes(r.metadata), r.data_size, r.locator) for r in expected
    ]
    assert len(log.read_columns(0, 5, 3)) == 0


def test_deserialize_packed_and_many_match_deserialize() -> None:
    serializer = DefaultSerializer()
    blobs = [serializer.serialize(value) for value in ({"a": 1}, [1, 2], "x", None)]
    expected = [serializer.deserialize(blob) for blob in blobs]
    assert serializer.deserialize_packed(b"".join(blobs), [len(b) for b in blobs]) == expected
    assert serializer.deserialize_many([memoryview(blob) for blob in blobs]) == expected
    assert serializer.deserialize_packed(b"", []) == []


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (b"\x05\x00\x00\x00\x00\x00\x00\x00[1,x]", "Could not deserialize"),
        (b"\x09\x00\x00\x00\x00\x00\x00\x00[1]", "announces 9 bytes"),
        (b"\x01\x00", "too short"),
    ],
)
def test_deserialize_packed_and_many_refuse_as_deserialize(bad: bytes, fragment: str) -> None:
    serializer = DefaultSerializer()
    blobs = [serializer.serialize({"a": 1}), bad, serializer.serialize({"b": 2})]
    with pytest.raises(DiasporaException, match=fragment):
        serializer.deserialize_packed(b"".join(blobs), [len(b) for b in blobs])
    with pytest.raises(DiasporaException, match=fragment):
        serializer.deserialize_many(blobs)


def _corrupt_second_metadata(tmp_path: Path, topic: str) -> None:
    path = tmp_path / topic / "partitions" / "00000000" / "metadata"
    raw = bytearray(path.read_bytes())
    second = raw.index(b'{"n":1}')
    raw[second + 1] = ord("?")  # same size, no longer JSON
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, bytes(raw), 0)
    finally:
        os.close(fd)


@pytest.mark.parametrize("with_data", [False, True])
def test_pull_many_meets_unreadable_metadata_in_its_turn(
    files_driver: Driver, tmp_path: Path, with_data: bool
) -> None:
    topic = _open(files_driver, "unreadable")
    producer = topic.producer()
    data = [b"zero", b"one", b"two"] if with_data else None
    producer.push_many([{"n": n} for n in range(3)], data)
    producer.close()
    _corrupt_second_metadata(tmp_path, "unreadable")
    consumer = topic.consumer("reader")
    assert [e.metadata for e in consumer.pull_many(10, timeout_ms=0)] == [{"n": 0}]
    with pytest.raises(DiasporaException, match="moves past this record"):
        consumer.pull_many(10, timeout_ms=0)
    events = consumer.pull_many(10, timeout_ms=0)
    assert [(e.event_id, e.metadata) for e in events] == [(2, {"n": 2})]
    if with_data:
        assert bytes(events[0].data[0]) == b"two"
    consumer.close()


def test_pull_many_events_own_fresh_data_lists(files_driver: Driver) -> None:
    topic = _open(files_driver, "data-lists")
    producer = topic.producer()
    producer.push_many([{"n": n} for n in range(3)])
    producer.close()
    consumer = topic.consumer("reader")
    events = consumer.pull_many(3, timeout_ms=200)
    pulled = topic.consumer("other").pull().wait(1000)
    assert pulled is not None
    assert [list(map(bytes, e.data)) for e in events] == [list(map(bytes, pulled.data))] * 3
    assert events[0].data is not events[1].data
    assert [e.event_id for e in events] == [0, 1, 2]
    assert events[2].partition == pulled.partition
    consumer.close()


def test_pull_many_stops_right_before_an_unreadable_record_in_a_buffered_run(
    files_driver: Driver, tmp_path: Path
) -> None:
    topic = _open(files_driver, "late")
    producer = topic.producer()
    producer.push_many([{"n": n} for n in range(50)])
    producer.close()
    path = tmp_path / "late" / "partitions" / "00000000" / "metadata"
    raw = bytearray(path.read_bytes())
    raw[raw.index(b'{"n":40}') + 1] = ord("?")
    path.write_bytes(bytes(raw))
    consumer = topic.consumer("reader")
    first = consumer.pull().wait(1000)  # the consumer now holds a buffered run
    assert first is not None and first.event_id == 0
    assert [e.event_id for e in consumer.pull_many(100, timeout_ms=0)] == list(range(1, 40))
    with pytest.raises(DiasporaException, match="moves past this record"):
        consumer.pull_many(100, timeout_ms=0)
    assert [e.event_id for e in consumer.pull_many(100, timeout_ms=0)] == list(range(41, 50))
    consumer.close()


@pytest.mark.parametrize("enabled", [True, False])
def test_pull_many_leaves_the_collector_as_it_found_it(files_driver: Driver, enabled: bool) -> None:
    """``pull_many`` pauses the cyclic collector while it builds a batch, not beyond: an
    enabled collector is enabled again after it, a disabled one stays disabled."""
    import gc

    files_driver.create_topic("collector")
    topic = files_driver.open_topic("collector")
    producer = topic.producer()
    producer.push_many([{"n": n} for n in range(100)]).wait(10_000)
    producer.flush().wait(10_000)
    consumer = topic.consumer("reader")
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        events = consumer.pull_many(100, timeout_ms=10_000)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert [event.metadata["n"] for event in events] == list(range(100))
