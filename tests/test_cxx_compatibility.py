"""Byte compatibility with the C++ reference's files driver, through the public API.

``tests/fixtures/cxx-files-v0.5.2`` was written by the C++ reference running its ``pushed.py``;
``expected_events.json`` is what its consumer read back. We read the C++ topic and get the same
events, and we run the same pushes and get the same bytes on disk.
"""

from __future__ import annotations

import base64
import filecmp
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from diaspora_stream.api import (
    ByteArrayAllocator,
    Driver,
    FullDataSelector,
    PartitionSelector,
    Serializer,
    Validator,
)

FIXTURE = (
    Path(os.environ["DIASPORA_FIXTURES"])
    if "DIASPORA_FIXTURES" in os.environ
    else Path(__file__).resolve().parent / "fixtures"
) / "cxx-files-v0.5.2"


def _read_all(driver: Driver, topic_name: str) -> list[dict[str, Any]]:
    consumer = driver.open_topic(topic_name).consumer(
        "reader", data_selector=FullDataSelector, data_allocator=ByteArrayAllocator
    )
    events = []
    while (event := consumer.pull().wait(timeout_ms=0)) is not None:
        events.append(
            {
                "event_id": event.event_id,
                "metadata": event.metadata,
                "data_base64": base64.b64encode(bytes(event.data[0])).decode(),
            }
        )
    return events


def test_reads_the_topic_the_cxx_driver_wrote(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(FIXTURE / "root", root)
    expected = json.loads((FIXTURE / "expected_events.json").read_text(encoding="utf-8"))
    driver = Driver(backend="files", options={"root_path": str(root)})
    for topic_name, events in expected.items():
        wanted = [{k: v for k, v in e.items() if k != "pull_order"} for e in events]
        assert _read_all(driver, topic_name) == wanted, topic_name


def _push_like_the_fixture_script(root: Path) -> None:
    """The pushes of the fixture's pushed.py, through our API."""
    driver = Driver(backend="files", options={"root_path": str(root)})
    driver.create_topic("plain", options={"num_partitions": 3})
    schema = {
        "type": "object",
        "properties": {"energy": {"type": "integer", "maximum": 99}},
        "required": ["energy"],
    }
    driver.create_topic(
        "schema_topic",
        options={"num_partitions": 1},
        validator=Validator.from_metadata(type="schema", schema=schema),
        serializer=Serializer.from_metadata(type="default"),
        partition_selector=PartitionSelector.from_metadata(),
    )
    producer = driver.open_topic("plain").producer("golden", batch_size=4)
    for i in range(12):
        metadata = {
            "i": i,
            "name": "événement-" + str(i),
            "f": i / 3,
            "big": 2**53 + i,
            "neg": -i,
            "nested": {"z": [1, None, True, "x"], "a": {}},
        }
        data: Any
        if i % 4 == 0:
            data = b""
        elif i % 4 == 1:
            data = bytes(range(256)) * i
        elif i % 4 == 2:
            data = [b"head-", b"", b"middle-", bytes([i]) * 7]
        else:
            data = ("\u00e9" * i).encode()
        producer.push(metadata, data)
    producer.flush().wait(timeout_ms=-1)
    producer.push('{"raw": "string metadata", "list": [3, 2, 1]}', b"tail")
    producer.push("[1, 2, 3]", b"")
    producer.push('"just a string"', b"x")
    producer.flush().wait(timeout_ms=-1)
    producer.close()
    schema_producer = driver.open_topic("schema_topic").producer("golden")
    for energy in (5, 42, 99):
        schema_producer.push({"energy": energy}, bytes([energy]) * energy).wait(timeout_ms=-1)
    schema_producer.flush().wait(timeout_ms=-1)
    schema_producer.close()


def _files_under(root: Path) -> list[str]:
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and "consumers" not in path.parts
    )


def test_writes_the_same_bytes_as_the_cxx_driver(tmp_path: Path) -> None:
    root = tmp_path / "ours"
    _push_like_the_fixture_script(root)
    ours, theirs = _files_under(root), _files_under(FIXTURE / "root")
    assert ours == theirs
    for relative in theirs:
        assert filecmp.cmp(root / relative, FIXTURE / "root" / relative, shallow=False), relative


@pytest.mark.parametrize("topic_name", ["plain", "schema_topic"])
def test_our_topic_reads_back_like_the_cxx_one(tmp_path: Path, topic_name: str) -> None:
    root = tmp_path / "ours"
    _push_like_the_fixture_script(root)
    expected = json.loads((FIXTURE / "expected_events.json").read_text(encoding="utf-8"))
    driver = Driver(backend="files", options={"root_path": str(root)})
    wanted = [{k: v for k, v in e.items() if k != "pull_order"} for e in expected[topic_name]]
    assert _read_all(driver, topic_name) == wanted
