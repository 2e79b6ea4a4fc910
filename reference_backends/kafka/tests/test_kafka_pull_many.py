"""``pull_many`` on Kafka: the very events, errors and positions of a loop of ``pull``."""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Callable
from typing import Any

import pytest
from diaspora_stream.api import ClosedError, Consumer, DataDescriptor, Driver, Event
from diaspora_stream.api import Exception as DiasporaException

from diaspora_stream_kafka.testing import octopus_value, produce_raw

WAIT_MS = 10000
#: A wait after which nothing more is expected (what is stored was fetched long before).
SETTLE_MS = 300


def key(event: Event) -> tuple[Any, ...]:
    """What identifies an event and what it carries."""
    return (
        event.partition_index,
        event.event_id,
        event.metadata,
        [bytes(buffer) for buffer in event.data],
    )


def filled_topic(driver: Driver, topic_name: Callable[[], str], partitions: int = 3) -> str:
    """A topic with events spread unevenly over ``partitions`` partitions, some with data."""
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": partitions})
    producer = driver.open_topic(name).producer()
    for i in range(60):
        partition = (i * i) % partitions
        producer.push({"i": i}, f"data {i}".encode() * (i % 3), partition=partition)
    producer.flush().wait(WAIT_MS)
    return name


def pulled(consumer: Consumer, count: int) -> list[Event]:
    """``count`` events of a ``pull`` loop."""
    events = []
    for _ in range(count):
        event = consumer.pull().wait(WAIT_MS)
        assert event is not None
        events.append(event)
    return events


def pulled_many(consumer: Consumer, count: int, chunk: int) -> list[Event]:
    """``count`` events of ``pull_many`` calls of up to ``chunk`` events."""
    events: list[Event] = []
    while len(events) < count:
        batch = consumer.pull_many(min(chunk, count - len(events)), timeout_ms=WAIT_MS)
        assert batch, "pull_many timed out"
        events.extend(batch)
    return events


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_pull_many_gives_the_events_of_pull_in_the_same_order(
    driver: Driver, topic_name: Callable[[], str], chunk: int
) -> None:
    topic = driver.open_topic(filled_topic(driver, topic_name))
    expected = [key(event) for event in pulled(topic.consumer("loop"), 60)]
    assert sorted(k[2]["i"] for k in expected) == list(range(60))
    assert [key(event) for event in pulled_many(topic.consumer("batch"), 60, chunk)] == expected


def test_pull_many_respects_max_events_and_timeout(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    consumer = topic.consumer("bounded")
    assert consumer.pull_many(5, timeout_ms=0) == []
    assert consumer.pull_many(5, timeout_ms=SETTLE_MS) == []
    producer = topic.producer()
    for i in range(10):
        producer.push({"i": i})
    producer.flush().wait(WAIT_MS)
    assert consumer.pull_many(0) == []
    first = consumer.pull_many(3, timeout_ms=WAIT_MS)
    assert [event.event_id for event in first] == [0, 1, 2]
    rest = consumer.pull_many(100, timeout_ms=SETTLE_MS)
    assert [event.event_id for event in rest] == list(range(3, 10))
    assert consumer.pull_many(100, timeout_ms=0) == []


def test_pull_many_without_a_timeout_waits_for_max_events(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    producer = topic.producer()
    for i in range(4):
        producer.push({"i": i})
    producer.flush().wait(WAIT_MS)
    events = topic.consumer("unbounded").pull_many(4)
    assert [event.metadata["i"] for event in events] == [0, 1, 2, 3]


def test_end_of_stream_ends_each_batch_as_pull_gives_it(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    producer = topic.producer()
    for i in range(9):
        producer.push({"i": i}, partition=i % 2)
    producer.flush().wait(WAIT_MS)
    topic.mark_complete()
    # 9 events, a sentinel per partition, then sentinels at once.
    expected = [key(event) for event in pulled(topic.consumer("loop"), 13)]
    batches = []
    consumer = topic.consumer("batch")
    while sum(len(batch) for batch in batches) < 13:
        batch = consumer.pull_many(100, timeout_ms=WAIT_MS)
        assert batch and batch[-1].event_id is None, "a batch ends at its sentinel"
        assert all(event.event_id is not None for event in batch[:-1])
        batches.append(batch)
    assert [key(event) for batch in batches for event in batch] == expected
    assert [len(batch) for batch in batches[-2:]] == [1, 1]


def test_acknowledged_events_of_pull_many_are_not_delivered_again(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    topic = driver.open_topic(filled_topic(driver, topic_name))
    expected = [key(event) for event in pulled(topic.consumer("loop"), 60)]
    first = topic.consumer("resumer")
    taken = first.pull_many(25, timeout_ms=WAIT_MS)
    assert [key(event) for event in taken] == expected[:25]
    for event in taken:
        event.acknowledge()
    first.close()
    resumed = topic.consumer("resumer")
    rest = pulled_many(resumed, 35, 1000)
    # The round robin starts again from the first partition: the same events, in another order.
    assert sorted(key(event) for event in rest) == sorted(expected[25:])
    assert resumed.pull_many(10, timeout_ms=SETTLE_MS) == []


def test_pull_and_pull_many_interleaved_give_the_events_of_pull(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    topic = driver.open_topic(filled_topic(driver, topic_name))
    expected = [key(event) for event in pulled(topic.consumer("loop"), 60)]
    consumer = topic.consumer("mixed")
    events: list[Event] = []
    size = 1
    while len(events) < 60:
        events.extend(pulled(consumer, 1))
        events.extend(pulled_many(consumer, min(size, 60 - len(events)), size))
        size += 1
    assert [key(event) for event in events] == expected


def test_pull_many_after_seek_gives_the_events_from_there(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    topic = driver.open_topic(filled_topic(driver, topic_name, partitions=1))
    consumer = topic.consumer("seeker")
    assert len(pulled_many(consumer, 30, 1000)) == 30
    consumer.seek({0: 10})
    events = consumer.pull_many(5, timeout_ms=WAIT_MS)
    assert [event.event_id for event in events] == [10, 11, 12, 13, 14]


def test_pull_many_selects_data_as_pull_does(driver: Driver, topic_name: Callable[[], str]) -> None:
    topic = driver.open_topic(filled_topic(driver, topic_name))

    def selector(_metadata: object, descriptor: DataDescriptor) -> DataDescriptor:
        if descriptor.size < 2:
            return descriptor
        return descriptor.make_sub_view(offset=1, size=descriptor.size - 2)

    loop = topic.consumer("loop", data_selector=selector)
    expected = [key(event) for event in pulled(loop, 60)]
    batch = topic.consumer("batch", data_selector=selector)
    assert [key(event) for event in pulled_many(batch, 60, 16)] == expected
    without_data = topic.consumer("no-data", data_allocator=None)
    assert all(event.data == [] for event in pulled_many(without_data, 60, 16))


#: Offsets 1 and 3 are not events (too short; metadata that is not JSON), offset 5 is a plain
#: JSON record (an event with ``json_records``).
MIXED = [
    octopus_value({"i": 0}, b"zero"),
    b"plain text",
    octopus_value({"i": 2}, b""),
    struct.pack("<QQ", 11, 0) + struct.pack("<Q", 3) + b"{{{",
    octopus_value({"i": 4}, b"four"),
    json.dumps({"i": 5}).encode(),
]


def test_a_bad_record_stops_the_batch_and_is_raised_in_its_turn(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    produce_raw(bootstrap, name, MIXED)
    topic = driver.open_topic(name)
    consumer = topic.consumer("reader", options={"json_records": True})
    outcomes: list[Any] = []
    while len(outcomes) < len(MIXED):
        try:
            batch = consumer.pull_many(100, timeout_ms=WAIT_MS)
        except DiasporaException as error:
            outcomes.append(error.offset)  # type: ignore[attr-defined]
        else:
            assert batch
            outcomes.extend(event.metadata["i"] for event in batch)
    assert outcomes == [0, 1, 2, 3, 4, 5]
    assert consumer.pull_many(10, timeout_ms=SETTLE_MS) == []


def test_pull_many_skips_bad_records_as_pull_does(
    driver: Driver,
    topic_name: Callable[[], str],
    bootstrap: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = topic_name()
    driver.create_topic(name)
    produce_raw(bootstrap, name, MIXED)
    options = {"skip_bad_records": True, "json_records": True}
    consumer = driver.open_topic(name).consumer("skipper", options=options)
    with caplog.at_level(logging.WARNING, logger="diaspora_stream.kafka"):
        events = pulled_many(consumer, 4, 100)
    assert [event.metadata["i"] for event in events] == [0, 2, 4, 5]
    assert [bytes(b) for b in events[0].data] == [b"zero"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2


def test_pull_many_of_a_closed_consumer_raises(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name)
    consumer = driver.open_topic(name).consumer("closed")
    consumer.close()
    with pytest.raises(ClosedError):
        consumer.pull_many(3, timeout_ms=0)
