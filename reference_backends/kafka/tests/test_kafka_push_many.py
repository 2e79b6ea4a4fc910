"""``push_many`` on Kafka: the records and ids of a loop of ``push``, and nothing of a refused
call stored."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from diaspora_stream.api import Driver, EventsNotStored, PartitionCompleted, Validator
from diaspora_stream.api import Exception as DiasporaException

from diaspora_stream_kafka.json_records import json_value
from diaspora_stream_kafka.testing import octopus_value, read_records

WAIT_MS = 10000


def test_push_many_stores_the_records_and_ids_of_push(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    producer = driver.open_topic(name).producer()
    metadata = [{"i": i} for i in range(10)]
    data = [f"data {i}".encode() * (i % 2) for i in range(10)]
    future = producer.push_many(metadata, data, partition=1)
    assert len(future) == 10
    assert future.wait(WAIT_MS) == list(range(10))
    assert producer.push_many(metadata[:3]).wait(WAIT_MS) is not None
    producer.flush().wait(WAIT_MS)
    stored = [record.value() for record in read_records(bootstrap, name, 1)][:10]
    assert stored == [octopus_value(m, d) for m, d in zip(metadata, data, strict=True)]


def test_a_refused_event_leaves_nothing_of_the_call_stored(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    schema = {"type": "object", "required": ["energy"]}
    driver.create_topic(name, validator=Validator.from_metadata(type="schema", schema=schema))
    producer = driver.open_topic(name).producer()
    future = producer.push_many([{"energy": 1}, {"energy": 2}, {"nothing": 3}])
    with pytest.raises(DiasporaException, match="event 2 of the batch") as raised:
        future.wait(WAIT_MS)
    assert raised.value.batch_index == 2  # type: ignore[attr-defined]
    assert producer.push_many([{"energy": 4}]).wait(WAIT_MS) == [0]
    producer.flush().wait(WAIT_MS)
    assert len(read_records(bootstrap, name, 0)) == 1


def test_push_many_to_a_completed_partition_fails_as_push_does(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    producer = topic.producer()
    assert producer.push_many([{"i": 0}]).wait(WAIT_MS) == [0]
    producer.mark_complete()
    with pytest.raises(PartitionCompleted):
        producer.push_many([{"i": 1}, {"i": 2}]).wait(WAIT_MS)
    with pytest.raises(EventsNotStored) as raised:  # and the next flush reports them
        producer.flush().wait(WAIT_MS)
    assert raised.value.failed == 2


def test_push_many_writes_plain_json_records_with_record_format_json(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    producer = driver.open_topic(name).producer(options={"record_format": "json"})
    assert producer.push_many([{"i": 0}, {"i": 1}]).wait(WAIT_MS) == [0, 1]
    values = [record.value() for record in read_records(bootstrap, name, 0)]
    assert values == [json_value({"i": 0}), json_value({"i": 1})]
