"""``FilesTopic.read_selected_data``: one-range requests that follow each other in the data file
are read at once; every request fills its destination as ``read_data`` would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from diaspora_stream.backend.log import AppendRecord, StoredRecord, TopicConfig

from diaspora_stream_files import FilesDriver, FilesTopic
from diaspora_stream_files.corruption import CorruptedFileError

SIZES = [5, 0, 4096, 17, 70_000, 1, 300]


def _data(i: int, size: int) -> bytes:
    return bytes((i * 7 + k) % 256 for k in range(size))


def _topic(root: Path, integrity: bool = False) -> FilesTopic:
    driver = FilesDriver({"root_path": str(root), "integrity": integrity})
    driver.create_topic("t", TopicConfig(num_partitions=1))
    topic = driver.open_topic("t")
    assert isinstance(topic, FilesTopic)
    records = [
        AppendRecord(b"{}", (memoryview(_data(i, size)),), size) for i, size in enumerate(SIZES)
    ]
    topic.append(0, records)
    return topic


def _whole(
    records: list[StoredRecord],
) -> list[tuple[StoredRecord, list[tuple[int, int]], list[memoryview]]]:
    return [
        (record, [(0, record.data_size)], [memoryview(bytearray(record.data_size))])
        for record in records
    ]


@pytest.mark.parametrize("integrity", [False, True], ids=["default", "integrity"])
def test_whole_data_of_a_run(tmp_path: Path, integrity: bool) -> None:
    topic = _topic(tmp_path, integrity)
    records = list(topic.read(0, 0, 100))
    requests = _whole(records)
    topic.read_selected_data(0, requests)
    assert [bytes(destination[0]) for _, _, destination in requests] == [
        _data(i, size) for i, size in enumerate(SIZES)
    ]


@pytest.mark.parametrize("integrity", [False, True], ids=["default", "integrity"])
def test_ranges_gaps_and_larger_or_split_destinations(tmp_path: Path, integrity: bool) -> None:
    topic = _topic(tmp_path, integrity)
    records = list(topic.read(0, 0, 100))
    big = records[4]
    cases = [
        (records[0], [(1, 3)], [memoryview(bytearray(10))]),  # larger destination
        (records[2], [(4000, 96)], [memoryview(bytearray(96))]),  # not where the last ended
        (records[3], [(0, 17)], [memoryview(bytearray(17))]),  # follows the previous one
        (big, [(0, 10), (69_990, 10)], [memoryview(bytearray(20))]),  # two ranges
        (records[5], [(0, 1)], [memoryview(bytearray(1))]),
        (records[6], [(0, 300)], [memoryview(bytearray(100)), memoryview(bytearray(200))]),
        (records[1], [], []),  # nothing selected
    ]
    topic.read_selected_data(0, cases)
    assert bytes(cases[0][2][0]) == _data(0, 5)[1:4] + bytes(7)
    assert bytes(cases[1][2][0]) == _data(2, 4096)[4000:]
    assert bytes(cases[2][2][0]) == _data(3, 17)
    assert bytes(cases[3][2][0]) == _data(4, 70_000)[:10] + _data(4, 70_000)[-10:]
    assert bytes(cases[4][2][0]) == _data(5, 1)
    assert b"".join(bytes(view) for view in cases[5][2]) == _data(6, 300)


def test_a_data_file_cut_after_the_index_was_read_names_the_event(tmp_path: Path) -> None:
    topic = _topic(tmp_path)
    records = list(topic.read(0, 0, 100))
    data_file = tmp_path / "t" / "partitions" / "00000000" / "data"
    os.truncate(data_file, sum(SIZES[:4]) + 100)  # inside event 4
    requests = _whole(records)
    with pytest.raises(CorruptedFileError, match=r"event 4\b.*truncated"):
        topic.read_selected_data(0, requests)
    assert [bytes(destination[0]) for _, _, destination in requests[:4]] == [
        _data(i, size) for i, size in enumerate(SIZES[:4])
    ]


def test_a_record_of_another_backend_is_refused(tmp_path: Path) -> None:
    topic = _topic(tmp_path)
    stranger = StoredRecord(0, b"{}", 5, locator="elsewhere")
    with pytest.raises(Exception, match="Invalid record locator"):
        topic.read_selected_data(0, [(stranger, [(0, 5)], [memoryview(bytearray(5))])])
