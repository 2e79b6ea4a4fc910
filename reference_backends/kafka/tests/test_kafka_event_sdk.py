"""Records of the Diaspora Event SDK, produced and consumed with raw confluent-kafka exactly as
the SDK does: ``json.dumps(value).encode()`` values, an optional raw key, ``json.loads``."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from confluent_kafka import Producer
from diaspora_stream.api import Driver, InvalidArgument
from diaspora_stream.api import Exception as DiasporaException

from diaspora_stream_kafka.json_records import JsonRecordEvent
from diaspora_stream_kafka.testing import octopus_value, read_records

WAIT_MS = 10000


def sdk_produce(bootstrap: str, topic: str, records: list[tuple[object, bytes | None]]) -> None:
    """What the SDK's KafkaProducer writes for ``send(topic, value, key=key)``."""
    producer = Producer({"bootstrap.servers": bootstrap})
    for value, key in records:
        producer.produce(topic, json.dumps(value).encode(), key=key, partition=0)
    assert producer.flush(30) == 0


def test_sdk_records_are_delivered_as_events_with_their_key(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    sdk_produce(bootstrap, name, [({"message": "Hello"}, b"key-1"), ([1, "two", None], None)])
    driver.open_topic(name).producer().push({"octopus": True}, b"data").wait(WAIT_MS)
    sdk_produce(bootstrap, name, [("plain string", b"")])
    consumer = driver.open_topic(name).consumer("sdk-reader")
    events = [consumer.pull().wait(WAIT_MS) for _ in range(4)]
    assert [event.event_id for event in events] == [0, 1, 2, 3]
    assert [event.metadata for event in events] == [
        {"message": "Hello"},
        [1, "two", None],
        {"octopus": True},
        "plain string",
    ]
    assert isinstance(events[0], JsonRecordEvent) and events[0].key == b"key-1"
    assert isinstance(events[1], JsonRecordEvent) and events[1].key is None
    assert not isinstance(events[2], JsonRecordEvent)
    assert bytes(events[2].data[0]) == b"data"
    assert [bytes(b) for b in events[0].data] in ([], [b""])
    events[3].acknowledge()
    assert driver.open_topic(name).acknowledged_positions("sdk-reader") == {0: 3}


def test_sdk_records_can_be_refused(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    sdk_produce(bootstrap, name, [({"message": "Hello"}, None)])
    consumer = driver.open_topic(name).consumer("strict", options={"json_records": False})
    with pytest.raises(DiasporaException, match="not a Diaspora event"):
        consumer.pull().wait(WAIT_MS)


def test_json_producer_writes_what_sdk_consumers_read(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    producer = topic.producer(options={"record_format": "json"})
    documents = [{"message": "Hello", "n": 1}, [1, 2.5, "x"], 42, True]
    for document in documents:
        producer.push(document)
    assert producer.flush().wait(WAIT_MS)
    records = read_records(bootstrap, name)
    assert [record.value() for record in records] == [json.dumps(d).encode() for d in documents]
    assert [json.loads(record.value()) for record in records] == documents  # the SDK's read
    reread = [event.metadata for event in topic.consumer("reread").events(timeout_ms=2000)]
    assert reread == documents


def test_json_producer_refuses_data_and_bad_formats(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    producer = topic.producer(options={"record_format": "json"})
    with pytest.raises(InvalidArgument, match="carry no data"):
        producer.push({"x": 1}, b"payload").wait(WAIT_MS)
    assert producer.push({"x": 2}).wait(WAIT_MS) == 0
    with pytest.raises(DiasporaException, match="record_format"):
        topic.producer(options={"record_format": "avro"})
    assert read_records(bootstrap, name)[0].value() == b'{"x": 2}'
    assert octopus_value({"x": 2}, b"") != b'{"x": 2}'
