"""The two ways an append gathers data segments, and writes of buffers of known sizes.

Records of one memoryview each (what ``push`` makes) are checked and gathered without code
per record; any other shape (several or no segments, ``bytes`` segments) is measured segment
by segment. Both write the same bytes; ``pwrite_all`` with known sizes hands the buffers to
``os.pwritev`` as they are, at most ``MAX_IOVECS`` per call, and finishes short writes.
"""

from __future__ import annotations

import array
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from diaspora_stream.backend.log import AppendRecord, RecordColumns, TopicConfig
from diaspora_stream.exceptions import Exception as DiasporaException
from files_helpers import snapshot

from diaspora_stream_files import FilesDriver, FilesTopic, fileio

MakeDriver = Callable[..., FilesDriver]


def _one_view(metadata: bytes, data: bytes) -> AppendRecord:
    return AppendRecord(metadata, (memoryview(data),), len(data))


def _split(metadata: bytes, data: bytes) -> AppendRecord:
    """The same record with its data in two segments (the measured path)."""
    half = len(data) // 2
    return AppendRecord(metadata, (memoryview(data[:half]), memoryview(data[half:])), len(data))


def _payloads(count: int) -> list[tuple[bytes, bytes]]:
    return [(b"m%d" % i, bytes([i % 251]) * (i % 9)) for i in range(count)]


def _files(topic: FilesTopic, partition: int) -> dict[str, bytes]:
    directory = Path(topic.path) / "partitions" / f"{partition:08d}"
    return {name: (directory / name).read_bytes() for name in ("metadata", "index", "data")}


def _read_all(topic: FilesTopic, partition: int) -> list[tuple[bytes, bytes]]:
    result = []
    for stored in topic.read(partition, 0, 1 << 30):
        buffer = bytearray(stored.data_size)
        topic.read_data(partition, stored, [(0, stored.data_size)], [memoryview(buffer)])
        result.append((bytes(stored.metadata), bytes(buffer)))
    return result


@pytest.fixture
def topic(make_driver: MakeDriver) -> FilesTopic:
    driver = make_driver()
    driver.create_topic("t", TopicConfig(num_partitions=4))
    return driver.open_topic("t")


@pytest.fixture
def iovec_counts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of buffers of every ``os.pwritev`` call (checked against IOV_MAX)."""
    counts: list[int] = []
    real_pwritev = os.pwritev

    def counting(fd: int, buffers: Any, offset: int) -> int:
        assert len(buffers) <= fileio.MAX_IOVECS
        counts.append(len(buffers))
        return real_pwritev(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", counting)
    return counts


def test_one_view_records_write_the_files_of_split_records_and_of_columns(
    topic: FilesTopic,
) -> None:
    payloads = _payloads(300)  # empty data included (i % 9 == 0)
    topic.append(0, [_one_view(m, d) for m, d in payloads])
    topic.append(1, [_split(m, d) for m, d in payloads])
    metadata = b"".join(m for m, _ in payloads)
    columns = RecordColumns(
        metadata,
        [len(m) for m, _ in payloads],
        [(memoryview(d),) for _, d in payloads],
        [len(d) for _, d in payloads],
    )
    topic.append_columns(2, columns)
    assert _read_all(topic, 0) == payloads
    assert _files(topic, 0) == _files(topic, 1) == _files(topic, 2)


def test_more_one_view_records_than_iov_max(topic: FilesTopic, iovec_counts: list[int]) -> None:
    payloads = _payloads(2500)
    topic.append(0, [_one_view(m, d) for m, d in payloads])
    assert _read_all(topic, 0) == payloads
    # Metadata and data: 1024 + 1024 + 452 buffers each.
    assert sorted(iovec_counts) == [452, 452, 1024, 1024, 1024, 1024]


def test_short_writes_of_buffers_of_known_sizes(
    topic: FilesTopic, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_pwritev = os.pwritev
    real_pwrite = os.pwrite

    def short_pwritev(fd: int, buffers: Any, offset: int) -> int:
        assert len(buffers) <= fileio.MAX_IOVECS
        first = memoryview(buffers[0]).cast("B")
        if len(first) > 1:  # write part of the first buffer only
            return real_pwrite(fd, first[: len(first) // 2], offset)
        return real_pwritev(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", short_pwritev)
    small, large = _payloads(10), _payloads(1500)
    topic.append(0, [_one_view(m, d) for m, d in small])
    topic.append(1, [_one_view(m, d) for m, d in large])
    monkeypatch.undo()
    assert _read_all(topic, 0) == small
    assert _read_all(topic, 1) == large


def test_a_write_that_makes_no_progress_raises(
    topic: FilesTopic, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    topic.append(0, [_one_view(b"a", b"b")])
    before = snapshot(tmp_path)
    monkeypatch.setattr(os, "pwritev", lambda fd, buffers, offset: 0)
    with pytest.raises(DiasporaException, match="no progress"):
        topic.append(0, [_one_view(b"m%d" % i, b"data") for i in range(3)])
    monkeypatch.undo()
    assert snapshot(tmp_path) == before


def test_a_one_view_record_declaring_another_size_changes_nothing(
    topic: FilesTopic, tmp_path: Path
) -> None:
    topic.append(0, [_one_view(b"a", b"b")])
    before = snapshot(tmp_path)
    bad = AppendRecord(b"m", (memoryview(b"abc"),), 2)
    records = [_one_view(b"ok", b"x"), bad, _one_view(b"ok", b"y")]
    with pytest.raises(DiasporaException, match=r"Record 1 .* declares data_size 2 but its "):
        topic.append(0, records)
    assert snapshot(tmp_path) == before


def test_segments_of_other_types_are_measured_in_bytes(topic: FilesTopic) -> None:
    words = memoryview(array.array("H", [1, 2, 3]))  # 3 items, 6 bytes
    records: list[Any] = [
        AppendRecord(b"b", (b"raw bytes",), 9),  # type: ignore[arg-type]
        AppendRecord(b"w", (words,), 6),
        AppendRecord(b"e", (), 0),
    ]
    topic.append(0, records)
    assert _read_all(topic, 0) == [(b"b", b"raw bytes"), (b"w", words.tobytes()), (b"e", b"")]
    with pytest.raises(DiasporaException, match="declares data_size 3 but its segments hold 6"):
        topic.append(0, [AppendRecord(b"w", (words,), 3)])


def test_pwrite_all_with_known_sizes_writes_what_it_writes_without(tmp_path: Path) -> None:
    buffers: list[Any] = [b"abc", memoryview(b""), memoryview(array.array("I", [5, 6])), b"z"]
    lengths = [3, 0, 8, 1]
    paths = [tmp_path / "known", tmp_path / "measured"]
    fds = [os.open(path, os.O_RDWR | os.O_CREAT) for path in paths]
    try:
        assert fileio.pwrite_all(fds[0], buffers, 4, lengths) == 12
        assert fileio.pwrite_all(fds[1], buffers, 4) == 12
        assert fileio.pwrite_all(fds[0], [], 16, []) == 0
    finally:
        for fd in fds:
            os.close(fd)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].stat().st_size == 16
