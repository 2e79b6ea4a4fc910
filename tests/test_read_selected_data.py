"""``LogTopic.read_selected_data``: a backend that overrides it gets a batch of selections at once.

The generic consumer uses it for consumers with a data selector and the library's allocators
(the default one, ``ByteArrayAllocator``); a user's own allocator is still called at pull time,
event by event, and backends that do not override the method are read event by event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from diaspora_stream.api import ByteArrayAllocator, DataDescriptor, Driver
from diaspora_stream.backend.log import LogTopic, StoredRecord
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic
from diaspora_stream.registry import register_driver

CALLS: list[int] = []


class _BatchedTopic(MemoryTopic):
    def read_selected_data(
        self,
        partition: int,
        requests: Sequence[tuple[StoredRecord, Sequence[tuple[int, int]], Sequence[memoryview]]],
    ) -> None:
        CALLS.append(len(requests))
        LogTopic.read_selected_data(self, partition, requests)


class _BatchedDriver(MemoryDriver):
    topic_class: ClassVar[type[MemoryTopic]] = _BatchedTopic

    def open_topic(self, name: str) -> LogTopic:
        topic = super().open_topic(name)
        assert isinstance(topic, MemoryTopic)
        return self.topic_class(name, topic._store)


register_driver("batched-selection-test", _BatchedDriver)


def _quarter(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
    return descriptor.make_sub_view(offset=0, size=descriptor.size // 4)


def _fill(driver: Driver, count: int = 50) -> Any:
    driver.create_topic("t")
    topic = driver.open_topic("t")
    producer = topic.producer(batch_size=count)
    for i in range(count):
        producer.push({"i": i}, bytes([i]) * 40)
    producer.flush().wait()
    return topic


@pytest.mark.parametrize("allocator", [None, ByteArrayAllocator])
def test_selections_of_a_batch_are_fetched_at_once(allocator: Any) -> None:
    CALLS.clear()
    topic = _fill(Driver(backend="batched-selection-test"))
    options: dict[str, Any] = {"data_selector": _quarter}
    if allocator is not None:
        options["data_allocator"] = allocator
    consumer = topic.consumer("c", **options)
    events = [consumer.pull().wait(5000) for _ in range(50)]
    assert [bytes(event.data[0]) for event in events] == [bytes([i]) * 10 for i in range(50)]
    assert sum(CALLS) == 50
    assert len(CALLS) < 50


def test_a_user_allocator_is_called_at_pull_time() -> None:
    CALLS.clear()
    topic = _fill(Driver(backend="batched-selection-test"), 10)
    allocated: list[int] = []

    def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
        allocated.append(metadata["i"])
        return [bytearray(descriptor.size)]

    consumer = topic.consumer("c", data_selector=_quarter, data_allocator=allocator)
    for i in range(10):
        event = consumer.pull().wait(5000)
        assert bytes(event.data[0]) == bytes([i]) * 10
        assert allocated == list(range(i + 1))
    assert CALLS == []


def test_a_failing_selector_fails_its_own_pull_only() -> None:
    topic = _fill(Driver(backend="batched-selection-test"), 6)

    def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
        if metadata["i"] == 3:
            raise ValueError("no selection for event 3")
        return descriptor

    consumer = topic.consumer("c", data_selector=selector)
    assert [consumer.pull().wait(5000).event_id for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="event 3"):
        consumer.pull().wait(5000)


def test_a_selector_failing_ahead_is_called_once_per_attempt() -> None:
    """An event whose selection failed while its batch was planned raises on its own turn,
    without the selector being called again then; the next pull tries it again."""
    topic = _fill(Driver(backend="batched-selection-test"), 6)
    calls: list[int] = []

    def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
        calls.append(metadata["i"])
        if metadata["i"] == 3 and calls.count(3) == 1:
            raise ValueError("no selection for event 3 this time")
        return descriptor

    consumer = topic.consumer("c", data_selector=selector)
    assert [consumer.pull().wait(5000).event_id for _ in range(3)] == [0, 1, 2]
    assert calls == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="event 3 this time"):
        consumer.pull().wait(5000)
    assert calls == [0, 1, 2, 3]
    assert [consumer.pull().wait(5000).event_id for _ in range(3)] == [3, 4, 5]
    assert calls == [0, 1, 2, 3, 3, 4, 5]


class _RetainingTopic(_BatchedTopic):
    """Keeps every record it returned, as a backend holding pushed batches does."""

    returned: ClassVar[list[StoredRecord]] = []

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        records = super().read(partition, start, max_count)
        _RetainingTopic.returned += records
        return records


class _RetainingDriver(_BatchedDriver):
    topic_class = _RetainingTopic


register_driver("retaining-records-test", _RetainingDriver)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"data_selector": _quarter},
        {"data_selector": _quarter, "data_allocator": ByteArrayAllocator},
    ],
    ids=["whole data", "selection", "selection, ByteArrayAllocator"],
)
def test_a_pulled_event_data_is_not_kept_by_its_record(options: dict[str, Any]) -> None:
    # Data read ahead is cached on the records; once an event is handed out, a record the
    # backend still holds must not keep that event's data alive (memory would grow with every
    # event consumed until the backend dropped the batch).
    _RetainingTopic.returned = []
    topic = _fill(Driver(backend="retaining-records-test"), 20)
    consumer = topic.consumer("c", **options)
    events = [consumer.pull().wait(5000) for _ in range(12)]
    assert [bytes(event.data[0])[:1] for event in events] == [bytes([i]) for i in range(12)]
    handed_out = [r for r in _RetainingTopic.returned if r.event_id < 12]
    assert len(handed_out) == 12
    assert [(r.event_id, r.data, r.selection) for r in handed_out] == [
        (i, None, None) for i in range(12)
    ]
