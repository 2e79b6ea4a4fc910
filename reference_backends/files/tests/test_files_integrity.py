"""Integrity mode on topics written without it (the C++ driver's), and on partial reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from diaspora_stream.backend.log import AppendRecord, TopicConfig
from diaspora_stream.exceptions import Exception as DiasporaException

from diaspora_stream_files import FilesDriver, FilesTopic
from diaspora_stream_files.corruption import CorruptedFileError

PARTITION_FILES = ("data", "metadata", "index")


def _events(topic: FilesTopic, partition: int) -> list[tuple[bytes, bytes]]:
    records = topic.read(partition, 0, 1000)
    views = topic.read_full_data(partition, records)
    return [
        (bytes(record.metadata), bytes(view)) for record, view in zip(records, views, strict=True)
    ]


def test_a_cxx_topic_gets_its_checksums_from_the_first_append_in_integrity_mode(
    cxx_root: Path,
) -> None:
    plain = FilesDriver({"root_path": str(cxx_root)}).open_topic("plain")
    before = _events(plain, 0)
    partition = cxx_root / "plain" / "partitions" / "00000000"
    written = {name: (partition / name).read_bytes() for name in PARTITION_FILES}
    checked = FilesDriver({"root_path": str(cxx_root), "integrity": True}).open_topic("plain")
    with pytest.raises(CorruptedFileError, match=r"Missing checksum of event 0.*checksums"):
        checked.read(0, 0, 10)
    checked.append(0, [AppendRecord(b"\0" * 8, [memoryview(b"tail")], 4)])
    assert _events(checked, 0) == [*before, (b"\0" * 8, b"tail")]
    for name, content in written.items():
        assert (partition / name).read_bytes().startswith(content), f"{name} was rewritten"


def test_a_flipped_byte_is_found_by_a_partial_read(
    make_driver: Callable[..., FilesDriver], tmp_path: Path
) -> None:
    driver = make_driver(integrity=True)
    driver.create_topic("t", TopicConfig(num_partitions=1))
    topic = driver.open_topic("t")
    topic.append(0, [AppendRecord(b"meta", [memoryview(bytes(range(100)))], 100)])
    data = tmp_path / "root" / "t" / "partitions" / "00000000" / "data"
    content = bytearray(data.read_bytes())
    content[90] ^= 4
    data.write_bytes(bytes(content))
    record = make_driver(integrity=True).open_topic("t").read(0, 0, 1)[0]
    reader = make_driver(integrity=True).open_topic("t")
    buffer = memoryview(bytearray(10))
    with pytest.raises(DiasporaException, match=r"Checksum mismatch for the data of event 0.*data"):
        reader.read_data(0, record, [(0, 10)], [buffer])
