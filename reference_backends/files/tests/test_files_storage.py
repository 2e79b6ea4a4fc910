"""The storage layer of the files backend: options, topics, appends, reads, errors, acks."""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from diaspora_stream.backend.log import AppendRecord, TopicConfig
from diaspora_stream.exceptions import ClosedError
from diaspora_stream.exceptions import Exception as DiasporaException
from files_helpers import snapshot

from diaspora_stream_files import FilesDriver, FilesTopic, fileio

MakeDriver = Callable[..., FilesDriver]


def record(metadata: bytes, *segments: bytes) -> AppendRecord:
    views = tuple(memoryview(segment) for segment in segments)
    return AppendRecord(metadata, views, sum(len(segment) for segment in segments))


def read_all(topic: FilesTopic, partition: int = 0) -> list[tuple[bytes, bytes]]:
    result = []
    for stored in topic.read(partition, 0, 1 << 30):
        buffer = bytearray(stored.data_size)
        topic.read_data(partition, stored, [(0, stored.data_size)], [memoryview(buffer)])
        result.append((bytes(stored.metadata), bytes(buffer)))
    return result


def index_records(path: Path) -> list[tuple[int, int, int, int]]:
    raw = path.read_bytes()
    return list(struct.iter_unpack("<QQQQ", raw[: len(raw) - len(raw) % 32]))


@pytest.fixture
def topic(make_driver: MakeDriver) -> FilesTopic:
    driver = make_driver()
    driver.create_topic("t", TopicConfig(num_partitions=2))
    return driver.open_topic("t")


# ---------------------------------------------------------------------- options


def test_defaults_and_capabilities(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    driver = FilesDriver.create({})
    assert (tmp_path / "diaspora_data").is_dir()
    assert driver.config.use_file_locking is True
    assert driver.config.flush_behavior == "buffered"
    caps = driver.capabilities
    assert caps.persistent_topics and caps.acknowledgements and caps.persistent_acknowledgements
    assert caps.multi_process_producers and caps.partial_data_reads
    assert not caps.durable_flush
    for behavior in ("immediate", "on_flush"):
        assert FilesDriver({"flush_behavior": behavior}).capabilities.durable_flush
    nested = tmp_path / "a" / "b" / "c"
    FilesDriver({"root_path": str(nested)})
    assert nested.is_dir()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"root_path": "x", "colour": "blue"}, "colour"),
        ({"use_file_locking": "true"}, "use_file_locking"),
        ({"root_path": 5}, "root_path"),
        ({"flush_behavior": 1}, "flush_behavior"),
        (
            {"flush_behavior": "sometimes"},
            "Invalid flush_behavior: sometimes. Valid values are: immediate, on_flush, buffered",
        ),
    ],
)
def test_bad_options(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    options = {"root_path": str(tmp_path / "root"), **options}
    with pytest.raises(DiasporaException, match=message):
        FilesDriver(options)
    assert not (tmp_path / "root").exists()


def test_root_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(DiasporaException, match="Failed to create root directory"):
        FilesDriver({"root_path": str(tmp_path / "file")})


# ---------------------------------------------------------------------- topics


def test_create_topic_layout(make_driver: MakeDriver, tmp_path: Path) -> None:
    driver = make_driver()
    driver.create_topic("t", TopicConfig(num_partitions=3, validator={"type": "default"}))
    root = tmp_path / "root"
    assert sorted(os.listdir(root)) == ["t"]  # no temporary directory left
    assert (root / "t" / "validator.json").read_bytes() == b'{\n  "type": "default"\n}'
    for partition in range(3):
        for name in ("data", "metadata", "index"):
            assert (root / "t" / "partitions" / f"{partition:08d}" / name).read_bytes() == b""
    listing = driver.list_topics()
    assert listing["t"]["num_partitions"] == 3 and listing["t"]["name"] == "t"
    assert driver.topic_exists("t")


def test_list_topics_without_root(tmp_path: Path) -> None:
    driver = FilesDriver({"root_path": str(tmp_path / "root")})
    os.rmdir(tmp_path / "root")
    assert driver.list_topics() == {}


def test_temporary_directories_are_not_topics(make_driver: MakeDriver, tmp_path: Path) -> None:
    driver = make_driver()
    driver.create_topic("t", TopicConfig(num_partitions=1))
    leftover = tmp_path / "root" / ".diaspora-files-tmp-0123"
    (leftover / "partitions" / "00000000").mkdir(parents=True)
    assert set(driver.list_topics()) == {"t"}
    with pytest.raises(DiasporaException, match="reserved"):
        driver.create_topic(".diaspora-files-tmp-x", TopicConfig(num_partitions=1))


def test_failed_creation_leaves_nothing(
    make_driver: MakeDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = make_driver()
    original = FilesDriver._build_topic

    def build_then_fail(self: FilesDriver, *args: Any) -> None:
        original(self, *args)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FilesDriver, "_build_topic", build_then_fail)
    with pytest.raises(DiasporaException, match="No space left on device"):
        driver.create_topic("t", TopicConfig(num_partitions=4))
    assert os.listdir(tmp_path / "root") == []
    assert not driver.topic_exists("t")


def test_concurrent_creation_of_one_topic(make_driver: MakeDriver, tmp_path: Path) -> None:
    """Exactly one creator wins; the topic is never half-created; nothing else is left."""
    outcomes: dict[int, str] = {}

    def create(partitions: int) -> None:
        try:
            make_driver().create_topic("race", TopicConfig(num_partitions=partitions))
            outcomes[partitions] = "created"
        except DiasporaException as error:
            outcomes[partitions] = str(error)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [n for n, outcome in outcomes.items() if outcome == "created"]
    assert len(winners) == 1
    assert all(o in ("created", "Topic already exists: race") for o in outcomes.values())
    assert make_driver().open_topic("race").num_partitions == winners[0]
    assert os.listdir(tmp_path / "root") == ["race"]


@pytest.mark.parametrize("name", ["a/b", "..", ".", "", "a\\b", "x" * 250, 7])
def test_bad_topic_names(make_driver: MakeDriver, tmp_path: Path, name: Any) -> None:
    driver = make_driver()
    driver.create_topic("keep", TopicConfig(num_partitions=1))
    before = snapshot(tmp_path)
    for operation in (
        lambda: driver.create_topic(name, TopicConfig(num_partitions=1)),
        lambda: driver.open_topic(name),
        lambda: driver.topic_exists(name),
    ):
        with pytest.raises(DiasporaException, match=r"Invalid topic name|must be a string"):
            operation()
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("partitions", [0, -1, True, 1.5, "2", None])
def test_bad_partition_counts(make_driver: MakeDriver, tmp_path: Path, partitions: Any) -> None:
    driver = make_driver()
    with pytest.raises(DiasporaException, match="Invalid number of partitions"):
        driver.create_topic("t", TopicConfig(num_partitions=partitions))
    assert os.listdir(tmp_path / "root") == []


def test_duplicate_topic(topic: FilesTopic, make_driver: MakeDriver, tmp_path: Path) -> None:
    topic.append(0, [record(b"m", b"d")])
    before = snapshot(tmp_path)
    with pytest.raises(DiasporaException, match=r"^Topic already exists: t$"):
        make_driver().create_topic("t", TopicConfig(num_partitions=5))
    assert snapshot(tmp_path) == before


def test_component_that_is_not_json(make_driver: MakeDriver, tmp_path: Path) -> None:
    driver = make_driver()
    with pytest.raises(DiasporaException, match="Validator metadata is not JSON"):
        driver.create_topic("t", TopicConfig(num_partitions=1, validator={"x": object()}))
    assert os.listdir(tmp_path / "root") == []


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"type": "default"'])
def test_corrupt_component_file(topic: FilesTopic, make_driver: MakeDriver, content: bytes) -> None:
    path = Path(topic.path) / "serializer.json"
    path.write_bytes(content)
    before = snapshot(Path(topic.path))
    driver = make_driver()
    with pytest.raises(DiasporaException, match="Could not parse JSON") as error:
        driver.open_topic("t")
    assert str(path) in str(error.value)
    assert snapshot(Path(topic.path)) == before
    assert "serializer" not in driver.list_topics()["t"]  # omitted, as the C++ driver does


def test_component_values(topic: FilesTopic, make_driver: MakeDriver) -> None:
    directory = Path(topic.path)
    (directory / "validator.json").write_bytes(b"null")
    (directory / "serializer.json").write_bytes(b"[]")
    (directory / "partition-selector.json").write_bytes(b'"x"')
    config = make_driver().open_topic("t").config
    assert (config.validator, config.serializer, config.partition_selector) == (None, None, "x")


@pytest.mark.parametrize(
    ("file_name", "message"),
    [
        ("validator.json", "Validator file does not exist: "),
        ("serializer.json", "Serializer file does not exist: "),
        ("partition-selector.json", "Partition selector file does not exist: "),
    ],
)
def test_missing_component_file(
    topic: FilesTopic, make_driver: MakeDriver, file_name: str, message: str
) -> None:
    path = Path(topic.path) / file_name
    path.unlink()
    with pytest.raises(DiasporaException, match=message) as error:
        make_driver().open_topic("t")
    assert str(error.value) == message + str(path)


def test_open_errors(make_driver: MakeDriver, tmp_path: Path) -> None:
    driver = make_driver()
    root = tmp_path / "root"
    with pytest.raises(DiasporaException, match=r"^Topic directory does not exist: .*missing$"):
        driver.open_topic("missing")
    driver.create_topic("t", TopicConfig(num_partitions=3))
    partitions = root / "t" / "partitions"
    for name in ("data", "metadata", "index"):
        (partitions / "00000001" / name).unlink()
    (partitions / "00000001").rmdir()
    before = snapshot(root)
    with pytest.raises(DiasporaException, match=r"Missing partition directory .*00000001"):
        driver.open_topic("t")
    assert snapshot(root) == before
    for name in os.listdir(partitions):
        for file_name in os.listdir(partitions / name):
            (partitions / name / file_name).unlink()
        (partitions / name).rmdir()
    (partitions / "not-a-number").mkdir()
    with pytest.raises(DiasporaException, match=r"^No valid partitions found for topic: t$"):
        driver.open_topic("t")
    partitions.rename(root / "t" / "elsewhere")
    with pytest.raises(DiasporaException, match=r"^Partitions directory not found for topic: t$"):
        driver.open_topic("t")
    assert driver.topic_exists("t")  # as the C++ driver: a directory is enough
    assert "t" not in driver.list_topics()


# ---------------------------------------------------------------------- append and read


def test_append_and_read(topic: FilesTopic) -> None:
    assert topic.append(0, [record(b"a", b"12", b"", b"345"), record(b"bb")]) == 0
    assert topic.append(0, []) == 2
    assert topic.append(1, [record(b"c", b"x")]) == 0
    assert topic.append(0, [record(b"", b"yz")]) == 2
    assert topic.event_count(0) == 3 and topic.event_count(1) == 1
    assert read_all(topic) == [(b"a", b"12345"), (b"bb", b""), (b"", b"yz")]
    stored = topic.read(0, 1, 5)
    assert [r.event_id for r in stored] == [1, 2]
    assert isinstance(stored[0].metadata, memoryview)
    assert topic.read(0, 3, 10) == [] and topic.read(0, 0, 0) == []
    assert [r.event_id for r in topic.read(0, 0, 2)] == [0, 1]
    # An event without data has data_offset = the data end at that moment.
    index = index_records(Path(topic.path) / "partitions" / "00000000" / "index")
    assert index == [(0, 1, 0, 5), (1, 2, 5, 0), (3, 0, 5, 2)]


def test_many_records_and_segments_in_one_append(topic: FilesTopic) -> None:
    """More than IOV_MAX (1024) buffers in one append, where the C++ driver fails."""
    records = [record(b"m%d" % i, bytes([i % 256]) * (i % 7)) for i in range(3000)]
    segments = [bytes([i % 251]) * (i % 5) for i in range(2500)]
    records.append(record(b"many", *segments))
    assert topic.append(0, records) == 0
    got = read_all(topic)
    assert len(got) == 3001
    for i in range(3000):
        assert got[i] == (b"m%d" % i, bytes([i % 256]) * (i % 7))
    assert got[3000] == (b"many", b"".join(segments))


def test_short_writes_and_iovec_limit(topic: FilesTopic, monkeypatch: pytest.MonkeyPatch) -> None:
    real_pwritev = os.pwritev
    real_pwrite = os.pwrite

    def short_pwritev(fd: int, buffers: Any, offset: int) -> int:
        assert len(buffers) <= fileio.MAX_IOVECS
        first = memoryview(buffers[0]).cast("B")
        if len(first) > 1:  # write part of the first buffer only
            return real_pwrite(fd, first[: len(first) // 2], offset)
        return real_pwritev(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", short_pwritev)
    records = [record(b"meta-%d" % i, b"abc" * i, b"de") for i in range(1500)]
    topic.append(1, records)
    monkeypatch.undo()
    assert read_all(topic, 1) == [(b"meta-%d" % i, b"abc" * i + b"de") for i in range(1500)]


def test_read_data_selections(topic: FilesTopic) -> None:
    payload = bytes(range(200))
    topic.append(0, [record(b"x", payload[:50], payload[50:])])
    stored = topic.read(0, 0, 1)[0]
    destination = bytearray(40)
    views = [
        memoryview(destination)[:7],
        memoryview(destination)[7:20],
        memoryview(destination)[20:],
    ]
    topic.read_data(0, stored, [(5, 10), (15, 5), (190, 10), (0, 0), (100, 15)], views)
    assert bytes(destination) == payload[5:20] + payload[190:200] + payload[100:115]
    with pytest.raises(DiasporaException, match="insufficient capacity"):
        topic.read_data(0, stored, [(0, 100)], [memoryview(bytearray(10))])
    with pytest.raises(DiasporaException, match="exceeds data size 200"):
        topic.read_data(0, stored, [(150, 51)], [memoryview(bytearray(100))])
    words = bytearray(16)  # a non-byte format destination is filled byte-wise
    topic.read_data(0, stored, [(0, 16)], [memoryview(words).cast("I")])
    assert bytes(words) == payload[:16]


def test_data_size_mismatch_changes_nothing(topic: FilesTopic, tmp_path: Path) -> None:
    topic.append(0, [record(b"a", b"b")])
    before = snapshot(tmp_path)
    bad = AppendRecord(b"m", (memoryview(b"abc"),), 5)
    with pytest.raises(DiasporaException, match="declares data_size 5"):
        topic.append(0, [record(b"ok", b"x"), bad])
    assert snapshot(tmp_path) == before


def test_bad_partition_and_counts(topic: FilesTopic) -> None:
    bad: tuple[Any, ...] = (-1, 2, True, "0")
    for partition in bad:
        with pytest.raises(DiasporaException, match="Invalid partition index"):
            topic.append(partition, [record(b"a")])
        with pytest.raises(DiasporaException, match="Invalid partition index"):
            topic.read(partition, 0, 1)
    with pytest.raises(DiasporaException, match="start must be a non-negative integer"):
        topic.read(0, -1, 1)
    with pytest.raises(DiasporaException, match="max_count"):
        topic.read(0, 0, -5)


def test_closed_topic(topic: FilesTopic) -> None:
    topic.append(0, [record(b"a")])
    topic.close()
    topic.close()
    for operation in (
        lambda: topic.append(0, [record(b"a")]),
        lambda: topic.read(0, 0, 1),
        lambda: topic.event_count(0),
        lambda: topic.sync(0),
        lambda: topic.store_acknowledgement("c", 0, 0),
        lambda: topic.load_acknowledgements("c"),
    ):
        with pytest.raises(ClosedError, match="is closed"):
            operation()


@pytest.mark.parametrize("behavior", ["immediate", "on_flush", "buffered"])
def test_flush_behaviors(make_driver: MakeDriver, behavior: str) -> None:
    driver = make_driver(flush_behavior=behavior)
    driver.create_topic("t", TopicConfig(num_partitions=1))
    topic = driver.open_topic("t")
    assert topic.append(0, [record(b"a", b"b")]) == 0
    topic.sync(0)
    assert read_all(topic) == [(b"a", b"b")]


def test_read_only_topic(
    topic: FilesTopic, make_driver: MakeDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files that cannot be opened for writing are opened read-only: reading works."""
    topic.append(0, [record(b"a", b"b")])
    real_open = os.open

    def refuse_writing(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_RDWR and "partitions" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_writing)
    reader = make_driver().open_topic("t")
    monkeypatch.undo()
    assert read_all(reader) == [(b"a", b"b")]
    with pytest.raises(DiasporaException, match="read-only"):
        reader.append(0, [record(b"c")])


# ---------------------------------------------------------------------- damaged files


def test_torn_tail_is_ignored_then_repaired(topic: FilesTopic, make_driver: MakeDriver) -> None:
    """What a writer killed in the middle of an append leaves: garbage past the last record."""
    topic.append(0, [record(b"one", b"1111"), record(b"two", b"22")])
    directory = Path(topic.path) / "partitions" / "00000000"
    with open(directory / "metadata", "ab") as stream:
        stream.write(b"GARBAGE-METADATA")
    with open(directory / "data", "ab") as stream:
        stream.write(b"GARBAGE-DATA" * 100)
    with open(directory / "index", "ab") as stream:
        stream.write(struct.pack("<QQ", 6, 16))  # half a record
    reader = make_driver().open_topic("t")
    assert reader.event_count(0) == 2
    assert read_all(reader) == [(b"one", b"1111"), (b"two", b"22")]
    assert [r.event_id for r in reader.read(0, 0, 100)] == [0, 1]
    assert reader.read(0, 2, 10) == []
    writer = make_driver().open_topic("t")
    assert writer.append(0, [record(b"three", b"333")]) == 2
    assert read_all(reader) == [(b"one", b"1111"), (b"two", b"22"), (b"three", b"333")]
    assert (directory / "metadata").read_bytes() == b"onetwothree"
    assert (directory / "data").read_bytes() == b"111122333"
    assert index_records(directory / "index") == [(0, 3, 0, 4), (3, 3, 4, 2), (6, 5, 6, 3)]
    assert (directory / "index").stat().st_size == 96
    # The first handle (which cached nothing) keeps appending at the true ends.
    assert topic.append(0, [record(b"4", b"4")]) == 3
    assert (directory / "data").read_bytes() == b"1111223334"


@pytest.mark.parametrize("kind", ["metadata", "data"])
def test_truncated_files_are_reported(
    topic: FilesTopic, make_driver: MakeDriver, tmp_path: Path, kind: str
) -> None:
    """An index pointing beyond the end of a truncated file: clear errors, nothing changed."""
    topic.append(0, [record(b"first", b"12345"), record(b"second", b"67890")])
    path = Path(topic.path) / "partitions" / "00000000" / kind
    os.truncate(path, path.stat().st_size - 3)
    before = snapshot(tmp_path)
    reader = make_driver().open_topic("t")
    assert reader.event_count(0) == 2
    if kind == "metadata":
        assert bytes(reader.read(0, 0, 1)[0].metadata) == b"first"
        with pytest.raises(
            DiasporaException,
            match=r"Corrupted metadata index: entry points beyond end of file .*event 1",
        ):
            reader.read(0, 0, 2)
    else:
        # Found when the records are read: no buffer is allocated for data that is not there.
        stored = reader.read(0, 0, 1)
        buffer = memoryview(bytearray(5))
        reader.read_data(0, stored[0], [(0, 5)], [buffer])
        with pytest.raises(
            DiasporaException, match=r"Corrupted data index: entry points beyond end of file"
        ):
            reader.read(0, 0, 2)
    with pytest.raises(DiasporaException, match=f"Corrupted {kind} index.*nothing was written"):
        reader.append(0, [record(b"third", b"x")])
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------- in-process writers


def test_handles_and_threads_in_one_process(make_driver: MakeDriver) -> None:
    """Several handles (without file locks) and threads: exact, dense ids, whole batches."""
    driver = make_driver(use_file_locking=False)
    driver.create_topic("t", TopicConfig(num_partitions=1))
    handles = [driver.open_topic("t") for _ in range(3)]
    firsts: dict[tuple[int, int], int] = {}
    observed: list[int] = []
    stop = threading.Event()

    def write(writer: int) -> None:
        for batch in range(150):
            size = 1 + (writer + batch) % 4
            records = [record(b"%d:%d:%d" % (writer, batch, k), b"%d" % k) for k in range(size)]
            firsts[(writer, batch)] = handles[writer % 3].append(0, records)

    def watch() -> None:
        reader = make_driver(use_file_locking=False).open_topic("t")
        while not stop.is_set():
            observed.append(reader.event_count(0))

    watcher = threading.Thread(target=watch)
    watcher.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    watcher.join()
    got = [metadata for metadata, _ in read_all(handles[0])]
    assert len(got) == sum(1 + (w + b) % 4 for w in range(6) for b in range(150))
    boundaries = {len(got)}
    for (writer, batch), first in firsts.items():
        size = 1 + (writer + batch) % 4
        assert got[first : first + size] == [b"%d:%d:%d" % (writer, batch, k) for k in range(size)]
        boundaries.add(first)
    # A reader never saw part of an append.
    assert set(observed) <= boundaries | {0}


# ---------------------------------------------------------------------- acknowledgements


NAMES = [
    "simple",
    "with/slash",
    "../../escape",
    "",
    ".",
    "spaces and\ttabs",
    "ünïcødé-名前",
    "x" * 300,
]


def test_acknowledgements_persist(make_driver: MakeDriver, tmp_path: Path) -> None:
    driver = make_driver()
    driver.create_topic("t", TopicConfig(num_partitions=3))
    topic = driver.open_topic("t")
    for number, name in enumerate(NAMES):
        assert topic.load_acknowledgements(name) == {}
        topic.store_acknowledgement(name, 0, number)
        topic.store_acknowledgement(name, 2, 100 + number)
    topic.store_acknowledgement("simple", 0, 5)
    topic.store_acknowledgement("simple", 0, 3)  # lower: the position does not move back
    topic.close()
    reopened = make_driver().open_topic("t")
    for number, name in enumerate(NAMES):
        expected = {0: 5 if name == "simple" else number, 2: 100 + number}
        assert reopened.load_acknowledgements(name) == expected
    reopened.store_acknowledgement("simple", 0, 1)
    assert make_driver().open_topic("t").load_acknowledgements("simple") == {0: 5, 2: 100}
    # Everything lives under <topic>/consumers/, one directory per name, nothing escapes it.
    consumers = tmp_path / "root" / "t" / "consumers"
    assert len(os.listdir(consumers)) == len(NAMES)
    assert sorted(os.listdir(tmp_path / "root")) == ["t"]
    assert all(len(name) < 256 for name in os.listdir(consumers))
    assert (consumers / "with%2Fslash" / "00000000").read_text() == f"{1:020d}\n"
    assert driver.list_topics()["t"]["num_partitions"] == 3


def test_acknowledgement_errors(topic: FilesTopic) -> None:
    with pytest.raises(DiasporaException, match="Invalid partition index"):
        topic.store_acknowledgement("c", 5, 1)
    with pytest.raises(DiasporaException, match="event_id must be a non-negative integer"):
        topic.store_acknowledgement("c", 0, -1)
    with pytest.raises(DiasporaException, match="Consumer name must be a string"):
        topic.store_acknowledgement(b"c", 0, 1)  # type: ignore[arg-type]
    position = Path(topic.path) / "consumers" / "c" / "00000001"
    position.parent.mkdir(parents=True)
    position.write_bytes(b"garbage")
    with pytest.raises(DiasporaException, match="Invalid acknowledgement file"):
        topic.load_acknowledgements("c")


def test_concurrent_acknowledgements_keep_the_maximum(topic: FilesTopic) -> None:
    def acknowledge(offset: int) -> None:
        for event_id in range(offset, 400, 4):
            topic.store_acknowledgement("shared", 1, event_id)

    threads = [threading.Thread(target=acknowledge, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert topic.load_acknowledgements("shared") == {1: 399}
    assert sorted(os.listdir(Path(topic.path) / "consumers" / "shared")) == ["00000001"]


def test_a_record_the_serializer_cannot_read_costs_that_record_only(tmp_path: Path) -> None:
    """A record appended by another writer (raw metadata, without the default serializer's
    length prefix) raises once, naming where it is stored; the next pull goes on past it."""
    from diaspora_stream.api import Driver
    from diaspora_stream.api import Exception as DiasporaException

    options = {"root_path": str(tmp_path / "root")}
    driver = Driver(backend="files", options=options)
    driver.create_topic("mixed", options={"num_partitions": 1})
    producer = driver.open_topic("mixed").producer()
    producer.push({"i": 0}, b"a")
    producer.flush().wait()
    raw = FilesDriver(options).open_topic("mixed")
    raw.append(0, [AppendRecord(b"{}", (memoryview(b""),), 0)])
    raw.close()
    producer.push({"i": 2}, b"c")
    producer.flush().wait()
    consumer = driver.open_topic("mixed").consumer("reader")
    assert consumer.pull().wait(1000).metadata == {"i": 0}
    with pytest.raises(DiasporaException, match="event 1"):
        consumer.pull().wait(1000)
    event = consumer.pull().wait(1000)
    assert event is not None and (event.event_id, event.metadata) == (2, {"i": 2})
