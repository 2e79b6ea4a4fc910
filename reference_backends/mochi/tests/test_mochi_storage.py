"""Partition storage: chunk files, index, recovery after a crash; the SQLite catalog."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from diaspora_stream_mochi import catalog
from diaspora_stream_mochi.catalog import Catalog, TopicExistsError
from diaspora_stream_mochi.protocol import FileRange
from diaspora_stream_mochi.storage import (
    CompletedError,
    FilePartition,
    MemoryPartition,
    Partition,
)


def _append(partition: Partition, events: list[tuple[bytes, bytes]]) -> int:
    metadata = b"".join(m for m, _ in events)
    data = b"".join(d for _, d in events)
    return partition.append(
        [len(m) for m, _ in events],
        memoryview(metadata),
        [len(d) for _, d in events],
        memoryview(data),
    )


def _data(partition: Partition, event_id: int) -> bytes:
    size = partition.data_size(event_id)
    buffer = memoryview(bytearray(size))
    partition.read(event_id, 0, size, buffer)
    return bytes(buffer)


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_append_and_read(kind: str, tmp_path: Path) -> None:
    partition = FilePartition(tmp_path / "p") if kind == "file" else MemoryPartition()
    assert _append(partition, [(b"{}", b"abc"), (b'{"a":1}', b"")]) == 0
    assert _append(partition, [(b"[]", b"0123456789")]) == 2
    assert partition.count == 3
    assert partition.metadata(0, 10) == ([2, 7, 2], [3, 0, 10], b'{}{"a":1}[]')
    assert [_data(partition, i) for i in range(3)] == [b"abc", b"", b"0123456789"]
    piece = memoryview(bytearray(3))
    partition.read(2, 4, 3, piece)
    assert bytes(piece) == b"456"
    partition.close()


def test_reopened_partition_keeps_events_and_cuts_a_torn_index_record(tmp_path: Path) -> None:
    partition = FilePartition(tmp_path / "p", chunk_size=4096)
    for i in range(50):
        _append(partition, [(b'{"i":%d}' % i, bytes([i]) * 300)])
    partition.close()
    assert len(list((tmp_path / "p").glob("chunk-*.dat"))) > 1  # chunks rolled over
    with open(tmp_path / "p" / "index.bin", "ab") as index:
        index.write(b"\x01" * 17)  # a crash in the middle of an index record
    reopened = FilePartition(tmp_path / "p", chunk_size=4096)
    assert reopened.count == 50
    assert _data(reopened, 49) == bytes([49]) * 300
    assert _append(reopened, [(b"{}", b"new")]) == 50
    assert _data(reopened, 50) == b"new"
    reopened.close()


def test_index_records_past_the_chunk_end_are_dropped(tmp_path: Path) -> None:
    partition = FilePartition(tmp_path / "p")
    _append(partition, [(b"{}", b"a" * 100)])
    _append(partition, [(b"{}", b"b" * 100)])
    partition.close()
    chunk = next((tmp_path / "p").glob("chunk-*.dat"))
    os.truncate(chunk, chunk.stat().st_size - 50)  # the data of the last batch never landed
    reopened = FilePartition(tmp_path / "p")
    assert reopened.count == 1
    assert _data(reopened, 0) == b"a" * 100
    reopened.close()


def test_catalog_topics_partitions_and_positions(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    partitions = catalog.create_topic("t", {"num_partitions": 3}, "default", members=2)
    assert [p["member"] for p in partitions] == [0, 1, 0]
    with pytest.raises(TopicExistsError):
        catalog.create_topic("t", {"num_partitions": 1}, "default", members=1)
    catalog.acknowledge("c", "t", 1, 41)
    catalog.acknowledge("c", "t", 1, 42)
    catalog.close()
    reopened = Catalog(tmp_path / "catalog.sqlite")
    config, stored = reopened.topic("t")  # type: ignore[misc]
    assert config == {"num_partitions": 3}
    assert stored == partitions
    assert reopened.acknowledgements("c", "t") == {1: 42}
    assert reopened.acknowledgements("other", "t") == {}
    assert set(reopened.topics()) == {"t"}
    reopened.close()


def test_the_index_is_rebuilt_from_the_chunks(tmp_path: Path) -> None:
    partition = FilePartition(tmp_path / "p", chunk_size=4096)
    for i in range(30):
        _append(partition, [(b'{"i":%d}' % i, bytes([i]) * 500), (b"{}", b"")])
    partition.close()
    index = tmp_path / "p" / "index.bin"
    full = index.read_bytes()
    for kept in (0, 32 * 7, 32 * 10 + 5):  # none, in the middle of a batch, a torn record
        index.write_bytes(full[:kept])
        reopened = FilePartition(tmp_path / "p", chunk_size=4096)
        assert reopened.count == 60
        assert index.read_bytes() == full
        assert [_data(reopened, 2 * i) for i in (0, 17, 29)] == [
            bytes([i]) * 500 for i in (0, 17, 29)
        ]
        assert reopened.metadata(34, 2) == ([8, 2], [500, 0], b'{"i":17}{}')
        reopened.close()


def test_a_torn_batch_is_cut_and_never_half_visible(tmp_path: Path) -> None:
    partition = FilePartition(tmp_path / "p")
    _append(partition, [(b"{}", b"a" * 10)])
    partition.close()
    chunk = next((tmp_path / "p").glob("chunk-*.dat"))
    intact = chunk.stat().st_size
    partition = FilePartition(tmp_path / "p")
    _append(partition, [(b"{}", b"b" * 10), (b"{}", b"c" * 10)])
    partition.close()
    index = tmp_path / "p" / "index.bin"
    index.write_bytes(index.read_bytes()[:32])  # the crash came before the index was written
    with open(chunk, "r+b") as file:
        file.truncate(chunk.stat().st_size - 3)  # ... and in the middle of the chunk write
    reopened = FilePartition(tmp_path / "p")
    assert reopened.count == 1
    assert chunk.stat().st_size == intact
    assert _append(reopened, [(b"{}", b"d")]) == 1
    reopened.close()
    again = FilePartition(tmp_path / "p")
    assert [_data(again, i) for i in range(2)] == [b"a" * 10, b"d"]
    again.close()


def test_a_corrupted_batch_header_stops_the_scan(tmp_path: Path) -> None:
    partition = FilePartition(tmp_path / "p")
    _append(partition, [(b"{}", b"x")])
    _append(partition, [(b"[]", b"y")])
    partition.close()
    (tmp_path / "p" / "index.bin").write_bytes(b"")
    chunk = next((tmp_path / "p").glob("chunk-*.dat"))
    raw = bytearray(chunk.read_bytes())
    second = len(raw) // 2
    raw[second + 20] ^= 0xFF  # the second batch's metadata size table: CRC mismatch
    chunk.write_bytes(bytes(raw))
    reopened = FilePartition(tmp_path / "p")
    assert reopened.count == 1
    assert _data(reopened, 0) == b"x"
    reopened.close()


def test_written_batches_are_visible_only_once_committed_with_one_sync_for_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs: list[int] = []
    real_sync = os.fdatasync

    def counting(fd: int) -> None:
        syncs.append(fd)
        real_sync(fd)

    monkeypatch.setattr(os, "fdatasync", counting)
    partition = FilePartition(tmp_path / "p", chunk_size=100)
    tickets = []
    for i in range(3):  # the third batch starts a new chunk (the first one is full)
        first, ticket = partition.write([2], memoryview(b"{}"), [40], memoryview(bytes([i]) * 40))
        assert first == i
        tickets.append(ticket)
    assert partition.count == 0 and syncs == []  # written, not durable: nobody sees them
    partition.commit(tickets[1])  # one sync of the group covers all three batches
    assert partition.count == 3
    assert len(syncs) == 2  # the full chunk and the current one, once each
    partition.commit(tickets[2])  # already durable: no other sync
    assert len(syncs) == 2
    assert [_data(partition, i) for i in range(3)] == [bytes([i]) * 40 for i in range(3)]
    partition.close()
    reopened = FilePartition(tmp_path / "p", chunk_size=100)
    assert reopened.count == 3
    reopened.close()


def test_memory_partition_reads_across_batch_boundaries() -> None:
    partition = MemoryPartition()
    batches = [
        [(b'{"i":%d}' % (10 * b + i), bytes([b]) * (b + i)) for i in range(b + 1)] for b in range(6)
    ]
    firsts = [_append(partition, batch) for batch in batches]
    assert firsts == [0, 1, 3, 6, 10, 15]
    events = [event for batch in batches for event in batch]
    assert partition.count == len(events) == 21
    for start in range(21):
        for count in (1, 2, 5, 30):
            chosen = events[start : start + count]
            assert partition.metadata(start, count) == (
                [len(m) for m, _ in chosen],
                [len(d) for _, d in chosen],
                b"".join(m for m, _ in chosen),
            )
    assert partition.metadata(21, 5) == ([], [], b"")
    assert [_data(partition, i) for i in range(21)] == [d for _, d in events]
    piece = memoryview(bytearray(2))
    partition.read(20, 3, 2, piece)  # batch 5, event 5: 10 bytes of 5s
    assert bytes(piece) == b"\x05\x05"


def _source_bytes(source: memoryview | FileRange) -> bytes:
    if isinstance(source, FileRange):
        return os.pread(source.fd, source.size, source.offset)
    return bytes(source)


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_data_sources_point_at_the_stored_bytes_merging_neighbours(
    kind: str, tmp_path: Path
) -> None:
    # Chunks of 100 bytes: the first two batches (74 and 66 bytes in a chunk) share one, the
    # third starts a new chunk file.
    if kind == "file":
        partition: Partition = FilePartition(tmp_path / "p", chunk_size=100)
    else:
        partition = MemoryPartition()
    _append(partition, [(b"{}", b"aaaa"), (b"{}", b"bbbb"), (b"{}", b"cccc")])
    _append(partition, [(b"{}", b"dd"), (b"{}", b""), (b"{}", b"ee")])
    _append(partition, [(b"{}", b"ffff")])
    ranges = [(0, 1, 3), (1, 0, 4), (2, 0, 2), (4, 0, 0), (5, 0, 2), (6, 1, 2), (0, 0, 1)]

    sources = partition.data_sources(ranges)

    assert [_source_bytes(source) for source in sources] == [
        b"aaabbbbcc",  # a range ending where the next one starts: one source
        b"ee",  # same chunk, not contiguous: event 2's unread bytes and batch 2's header between
        b"ff",  # another batch, another chunk
        b"a",  # going back: a new source
    ]
    if kind == "file":
        assert all(isinstance(source, FileRange) for source in sources)
        assert len({source.fd for source in sources if isinstance(source, FileRange)}) == 2
    partition.close()


def test_catalog_setup_is_retried_while_another_member_locks_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Members starting together race to switch the new database to WAL mode; SQLite may
    # refuse at once with "database is locked" rather than wait: setting up is tried again.
    monkeypatch.setattr(catalog, "time", _FastClock())
    attempts = []

    def setup() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise sqlite3.OperationalError("database is locked")

    catalog._retry_while_locked(setup)
    assert len(attempts) == 3

    def broken() -> None:
        raise sqlite3.OperationalError("no such table: topics")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        catalog._retry_while_locked(broken)

    def always_locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):  # not forever
        catalog._retry_while_locked(always_locked)


class _FastClock:
    """``time`` for the catalog: sleeping advances the clock at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_closing_for_writes_refuses_later_batches_and_commits_the_earlier_ones(
    kind: str, tmp_path: Path
) -> None:
    partition = FilePartition(tmp_path / "p") if kind == "file" else MemoryPartition()
    first, _ = partition.write([2], memoryview(b"{}"), [1], memoryview(b"a"))
    written_before = partition.count
    ticket = partition.close_for_writes()
    with pytest.raises(CompletedError):
        partition.write([2], memoryview(b"{}"), [1], memoryview(b"b"))
    partition.commit(ticket)
    assert (first, partition.count) == (0, 1)
    assert written_before == (0 if kind == "file" else 1)  # file batches wait for the commit
    assert _data(partition, 0) == b"a"


def test_catalog_consumer_names_and_completion(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    db = Catalog(path)
    for consumer, topic in [("b", "t"), ("a", "t"), ("b", "t"), ("c", "other")]:
        db.acknowledge(consumer, topic, 0, 1)
    db.mark_complete("t", 1)
    db.mark_complete("t", 1)
    db.close()
    reopened = Catalog(path)
    assert reopened.consumer_names("t") == ["a", "b"]
    assert reopened.consumer_names("missing") == []
    assert reopened.is_complete("t", 1) and not reopened.is_complete("t", 0)
    assert not reopened.is_complete("other", 1)
    reopened.close()
