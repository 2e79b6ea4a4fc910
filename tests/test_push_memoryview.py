"""``push`` with a ``memoryview`` as data: the byte view of its own that the producer takes.

A memoryview is cast to a 1-D byte view of the producer's own (one call); what the cast refuses
(non-contiguous or released views, empty multi-dimensional ones) goes through the generic
conversion of :mod:`diaspora_stream.buffers` as any other buffer. Either way the stored bytes
and the files written are those of the generic conversion.
"""

from __future__ import annotations

import array
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from api_helpers import drain

from diaspora_stream.api import Driver, TopicHandle
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.buffers import as_data_segments, as_view_segments


def _stored(topic: TopicHandle, name: str = "reader") -> list[bytes]:
    consumer = topic.consumer(name)
    events = drain(consumer)
    consumer.close()
    return [b"".join(bytes(memoryview(view)) for view in event.data) for event in events]


def _views() -> list[memoryview]:
    """Memoryviews of every kind push takes: byte and non-byte formats, 0-d, multi-dimensional,
    Fortran-ordered, strided and empty ones."""
    grid = np.arange(24, dtype=np.int32).reshape(4, 6)
    return [
        memoryview(b"plain bytes"),
        memoryview(bytearray(b"a bytearray")),
        memoryview(struct.pack("<3i", 1, 2, 3)).cast("i"),
        memoryview(array.array("H", [1, 2, 65535])),
        memoryview(np.float64(2.5)),  # 0-d
        memoryview(grid),  # 2-D, C order
        memoryview(np.asfortranarray(grid)),
        memoryview(grid[::2, 1::2]),  # neither C nor Fortran contiguous: copied
        memoryview(b"0123456789")[::3],
        memoryview(b""),
    ]


def _generic_bytes(view: memoryview) -> bytes:
    segments, size = as_data_segments([view])
    assert size == sum(segment.nbytes for segment in segments)
    return b"".join(bytes(segment) for segment in segments)


def test_as_view_segments_gives_the_bytes_of_as_data_segments() -> None:
    for view in _views():
        segments, size = as_view_segments(view)
        (segment,) = segments
        assert (segment.format, segment.ndim, segment.c_contiguous) == ("B", 1, True)
        assert segment is not view
        assert (bytes(segment), size) == (_generic_bytes(view), view.nbytes)


@pytest.mark.parametrize("many", [False, True], ids=["push", "push_many"])
def test_every_kind_of_view_stores_the_bytes_of_the_generic_conversion(
    topic: TopicHandle, many: bool
) -> None:
    views = _views()
    producer = topic.producer()
    if many:
        producer.push_many([{"n": number} for number in range(len(views))], views)
    else:
        for number, view in enumerate(views):
            producer.push({"n": number}, view)
    producer.close()
    assert _stored(topic) == [_generic_bytes(view) for view in views]


def test_an_empty_multi_dimensional_view_fails_as_the_generic_conversion(
    topic: TopicHandle,
) -> None:
    """No behaviour change for what the cast refuses: the generic conversion decides."""
    view = memoryview(np.zeros((0, 3)))
    with pytest.raises(Exception) as generic:  # its type is compared below
        as_data_segments(view)
    with pytest.raises(type(generic.value)):
        as_view_segments(view)
    producer = topic.producer()
    with pytest.raises(type(generic.value)):
        producer.push({}, view)
    producer.close()


def test_the_backend_gets_one_byte_view_of_the_producers_own(topic: TopicHandle) -> None:
    producer = topic.producer()
    handed: list[tuple[tuple[memoryview, ...], int]] = []
    real_push = producer._push

    def spy(metadata: Any, data: tuple[memoryview, ...], size: int, partition: Any) -> Any:
        handed.append((data, size))
        return real_push(metadata, data, size, partition)

    producer._push = spy
    words = memoryview(array.array("I", [7, 8, 9]))
    raw = memoryview(b"xyz")
    producer.push({}, words)
    producer.push({}, raw)
    producer.close()
    for (segments, size), view in zip(handed, (words, raw), strict=True):
        (segment,) = segments
        assert segment is not view
        assert (segment.format, segment.ndim, segment.c_contiguous) == ("B", 1, True)
        assert size == segment.nbytes == view.nbytes
    assert _stored(topic) == [words.tobytes(), b"xyz"]


@pytest.mark.parametrize("many", [False, True], ids=["push", "push_many"])
def test_the_caller_may_release_its_views_once_push_returned(
    topic: TopicHandle, many: bool
) -> None:
    payloads = [os.urandom(100 + number) for number in range(5)]
    views = [memoryview(payload) for payload in payloads]
    producer = topic.producer(batch_size=64)  # nothing is written before the flush
    if many:
        producer.push_many([{}] * len(views), views)
    else:
        for view in views:
            producer.push({}, view)
    for view in views:
        view.release()
    producer.flush().wait(-1)
    producer.close()
    assert _stored(topic) == payloads


def test_a_released_view_is_refused_and_nothing_is_pushed(topic: TopicHandle) -> None:
    released = memoryview(bytearray(b"gone"))
    released.release()
    producer = topic.producer()
    with pytest.raises(DiasporaException, match="buffer"):
        producer.push({}, released)
    producer.push({}, memoryview(b"kept"))
    producer.close()
    assert _stored(topic) == [b"kept"]


@pytest.fixture
def files_driver(tmp_path: Path) -> Iterator[Driver]:
    driver = Driver(backend="files", options={"root_path": str(tmp_path)})
    yield driver
    driver.close()


def _files_of(root: Path, topic: str) -> dict[str, bytes]:
    directory = root / topic / "partitions" / "00000000"
    return {name: (directory / name).read_bytes() for name in ("metadata", "index", "data")}


def test_views_bytes_and_push_many_write_the_same_files(
    files_driver: Driver, tmp_path: Path
) -> None:
    """The files a push loop of memoryviews writes are those of a loop of the same data as
    bytes (the generic path) and of one push_many: byte for byte, data file included."""
    views = [view for view in _views() if view.nbytes] * 40  # several batches of 128
    ways = {
        "views": lambda producer: [producer.push({"n": i}, v) for i, v in enumerate(views)],
        "bytes": lambda producer: [
            producer.push({"n": i}, _generic_bytes(v)) for i, v in enumerate(views)
        ],
        "many": lambda producer: producer.push_many([{"n": i} for i in range(len(views))], views),
    }
    for name, push in ways.items():
        files_driver.create_topic(name)
        handle = files_driver.open_topic(name)
        producer = handle.producer(batch_size=128)
        push(producer)
        producer.close()
        handle.close()
    written = {name: _files_of(tmp_path, name) for name in ways}
    assert written["views"] == written["bytes"] == written["many"]
    assert len(written["views"]["index"]) == 32 * len(views)
