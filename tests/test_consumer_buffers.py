"""The buffers of a consumer's events: each event owns its data, whatever the consumer reuses.

:class:`~diaspora_stream._machinery.buffer_pool.BufferPool` gives a buffer out again only once
nothing references it; consumers of whole data (and of ``ByteArrayAllocator``) on a backend
that reads into their buffers (the files backend) read runs of events at once into buffers of
their own. These tests check the bytes every event gives, however long it is held.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from diaspora_stream._machinery.buffer_pool import MIN_POOLED_SIZE, BufferPool
from diaspora_stream.api import ByteArrayAllocator, DataDescriptor, Driver, FullDataSelector

SIZE = MIN_POOLED_SIZE
refcounted = pytest.mark.skipif(
    not hasattr(sys, "getrefcount"), reason="reuse needs reference counts"
)


# ------------------------------------------------------------------ the pool


@refcounted
def test_a_dropped_buffer_is_given_out_again() -> None:
    pool = BufferPool(4 * SIZE)
    first = pool.take(SIZE)
    first_id = id(first)
    del first
    again = pool.take(SIZE)
    assert id(again) == first_id
    assert len(again) == SIZE


@pytest.mark.parametrize("holder", ["name", "memoryview", "slice", "list"])
def test_a_referenced_buffer_is_never_given_out_again(holder: str) -> None:
    pool = BufferPool(4 * SIZE)
    buffer = pool.take(SIZE)
    kept: Any = {
        "name": buffer,
        "memoryview": memoryview(buffer),
        "slice": memoryview(buffer)[10:20],
        "list": [buffer],
    }[holder]
    buffer[:] = b"\1" * SIZE
    del buffer
    others = [pool.take(SIZE) for _ in range(8)]
    for other in others:
        other[:] = b"\2" * SIZE
    assert bytes(kept if holder != "list" else kept[0])[:10] == b"\1" * 10
    assert len({id(other) for other in others}) == len(others)


def test_small_buffers_are_fresh_and_sizes_are_exact() -> None:
    pool = BufferPool(4 * SIZE)
    small = pool.take(10)
    assert small == bytearray(10)
    assert pool.take(10) is not small
    assert len(pool.take(SIZE)) == SIZE
    assert len(pool.take(SIZE + 1)) == SIZE + 1
    assert pool.take(0) == bytearray()


@refcounted
def test_a_resized_buffer_is_not_given_out_with_its_new_size() -> None:
    pool = BufferPool(4 * SIZE)
    buffer = pool.take(SIZE)
    buffer.extend(b"more")
    del buffer
    assert len(pool.take(SIZE)) == SIZE
    assert len(pool.take(SIZE + 4)) == SIZE + 4


def test_the_pool_keeps_at_most_its_bytes() -> None:
    pool = BufferPool(4 * SIZE)
    held = [pool.take(SIZE) for _ in range(20)]
    assert len(held) == 20
    assert sum(len(buffer) for buffer, _ in pool._ring) <= 4 * SIZE
    pool.clear()
    assert not pool._ring


# ------------------------------------------------------------- the consumer


def _payload(i: int, size: int) -> bytes:
    return bytes((i + k) % 251 for k in range(min(size, 251))) * (size // 251 + 1)


SIZES = [0, 10, 70 * 1024, 0, 1536 * 1024, 3, 300 * 1024, 300 * 1024, 300 * 1024, 64 * 1024]


@pytest.fixture
def topic(tmp_path: Path) -> Iterator[Any]:
    """A files-backend topic of events of ``SIZES`` (several read-ahead runs, some empty)."""
    driver = Driver(backend="files", options={"root_path": str(tmp_path)})
    driver.create_topic("t")
    handle = driver.open_topic("t")
    with handle.producer("p", batch_size=4) as producer:
        for i, size in enumerate(SIZES * 3):
            producer.push({"i": i}, _payload(i, size)[:size])
    yield handle
    handle.close()
    driver.close()


def _expected(i: int) -> bytes:
    size = (SIZES * 3)[i]
    return _payload(i, size)[:size]


def _range_selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
    """Two ranges of the data: bytes 1-4 and the last 5 (or less)."""
    if descriptor.size < 10:
        return descriptor.make_sub_view(offset=0, size=descriptor.size)
    return descriptor.make_stride_view(offset=1, num_blocks=2, block_size=3, gap_size=2)


def _selected(data: bytes, selector: Any) -> bytes:
    if selector is None or selector is FullDataSelector:
        return data
    if len(data) < 10:
        return data
    return data[1:4] + data[6:9]


OPTIONS = {
    "default": {},
    "bytearray": {"data_selector": FullDataSelector, "data_allocator": ByteArrayAllocator},
    "ranges": {"data_selector": _range_selector},
    "ranges-bytearray": {"data_selector": _range_selector, "data_allocator": ByteArrayAllocator},
}


@pytest.mark.parametrize("options", list(OPTIONS), ids=list(OPTIONS))
@pytest.mark.parametrize("hold", [True, False], ids=["held", "dropped"])
def test_every_event_gives_its_own_bytes_held_or_dropped(
    topic: Any, options: str, hold: bool
) -> None:
    kwargs = OPTIONS[options]
    consumer = topic.consumer(f"c-{options}-{hold}", **kwargs)
    selector = kwargs.get("data_selector")
    held = []
    for i in range(len(SIZES) * 3):
        event = consumer.pull().wait(5000)
        assert event.event_id == i
        data = b"".join(bytes(buffer) for buffer in event.data)
        assert data == _selected(_expected(i), selector), f"event {i}"
        if hold:
            held.append(event)
    for event in held:  # nothing the consumer read later wrote into them
        data = b"".join(bytes(buffer) for buffer in event.data)
        assert data == _selected(_expected(event.event_id), selector)
    consumer.close()


def test_a_slice_of_a_dropped_event_keeps_its_bytes(topic: Any) -> None:
    consumer = topic.consumer("slices")
    slices = {}
    for i in range(len(SIZES) * 3):
        event = consumer.pull().wait(5000)
        if len(event.data[0]) > 100:
            slices[i] = event.data[0][50:100]
        del event
        gc.collect()
    assert slices
    for i, view in slices.items():
        assert bytes(view) == _expected(i)[50:100]


def test_pull_many_gives_the_same_bytes(topic: Any) -> None:
    consumer = topic.consumer("many")
    events = consumer.pull_many(len(SIZES) * 3, timeout_ms=5000)
    assert [event.event_id for event in events] == list(range(len(SIZES) * 3))
    for event in events:
        assert bytes(event.data[0]) == _expected(event.event_id)


def test_event_data_is_writable_and_private(topic: Any) -> None:
    consumer = topic.consumer("writable")
    first = consumer.pull().wait(5000)
    events = [consumer.pull().wait(5000) for _ in range(len(SIZES) * 3 - 1)]
    big = [event for event in [first, *events] if len(event.data[0]) >= MIN_POOLED_SIZE]
    for event in big:
        event.data[0][:4] = b"mine"
    for event in big:
        assert bytes(event.data[0][:4]) == b"mine"
        assert bytes(event.data[0][4:]) == _expected(event.event_id)[4:]


def test_read_ahead_stops_at_its_bytes(topic: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of whole-data reads hold at most the topic's ``read_ahead_bytes`` (or one larger
    event)."""
    runs: list[int] = []
    log = topic._impl.log_topic
    original = log.read_selected_data

    def counting(partition: int, requests: Any) -> None:
        runs.append(sum(record.data_size for record, _, _ in requests))
        original(partition, requests)

    monkeypatch.setattr(log, "read_selected_data", counting)
    consumer = topic.consumer("runs")
    for _ in range(len(SIZES) * 3):
        consumer.pull().wait(5000)
    limit = log.read_ahead_bytes
    assert runs and all(total <= max(limit, max(SIZES)) for total in runs)
    assert sum(runs) == sum(SIZES) * 3
    assert len(runs) < len(SIZES) * 3


def _fill_equal(root: Path, count: int, size: int) -> Any:
    driver = Driver(backend="files", options={"root_path": str(root)})
    driver.create_topic("equal")
    handle = driver.open_topic("equal")
    with handle.producer("p", batch_size=16) as producer:
        for i in range(count):
            producer.push({"i": i}, _payload(i, size)[:size])
    return handle


def test_pull_many_reads_each_record_once_in_runs_past_the_read_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch longer than one read-ahead run reads the data of its records in runs, each
    record once, in order."""
    size = 64 * 1024
    topic = _fill_equal(tmp_path, 48, size)
    log = topic._impl.log_topic
    read: list[int] = []
    original = log.read_selected_data

    def counting(partition: int, requests: Any) -> None:
        read.extend(record.event_id for record, _, _ in requests)
        original(partition, requests)

    monkeypatch.setattr(log, "read_selected_data", counting)
    events = topic.consumer("many").pull_many(48, timeout_ms=5000)
    assert [event.event_id for event in events] == list(range(48))
    for event in events:
        assert bytes(event.data[0]) == _payload(event.event_id, size)[:size]
    assert read == list(range(48))
    assert log.read_ahead_bytes < 48 * size  # several runs were needed


def test_pull_many_gives_every_event_its_data_without_assertions(tmp_path: Path) -> None:
    """Under ``python -O`` too, a long batch gives every event its data."""
    script = f"""
import sys
from diaspora_stream.api import Driver
driver = Driver(backend="files", options={{"root_path": {str(tmp_path)!r}}})
driver.create_topic("t")
topic = driver.open_topic("t")
size = 64 * 1024
with topic.producer("p", batch_size=16) as producer:
    for i in range(40):
        producer.push({{"i": i}}, bytes([i]) * size)
events = topic.consumer("c").pull_many(40, timeout_ms=5000)
assert len(events) == 40
def wrong(event):
    return event.data[0] is None or bytes(event.data[0]) != bytes([event.event_id]) * size
bad = [event.event_id for event in events if wrong(event)]
print("bad", bad)
sys.exit(1 if bad else 0)
"""
    result = subprocess.run(
        [sys.executable, "-O", "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@refcounted
def test_pull_many_gives_the_buffers_of_dropped_batches_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the application dropped a batch (holding the last one while asking for the next),
    the buffers of its events are filled again: no new buffer after the first batches."""
    size = 64 * 1024
    batch = 16
    topic = _fill_equal(tmp_path, batch * 8, size)
    consumer = topic.consumer("reuse")
    created: list[int] = []
    original = BufferPool._add

    def counting(self: BufferPool, buffer: bytearray) -> bytearray:
        created.append(len(buffer))
        return original(self, buffer)

    monkeypatch.setattr(BufferPool, "_add", counting)
    after_warm_up = 0
    events: list[Any] = []
    for number in range(8):
        events = consumer.pull_many(batch, timeout_ms=5000)
        assert [bytes(e.data[0]) == _payload(e.event_id, size)[:size] for e in events] == [
            True
        ] * batch
        if number == 2:
            after_warm_up = len(created)
    assert len(created) == after_warm_up
    assert after_warm_up <= 4 * batch
