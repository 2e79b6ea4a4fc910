"""Records and topic names are Octopus's: each side reads what the other wrote."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from diaspora_stream.api import Driver, Validator
from diaspora_stream.api import Exception as DiasporaException

from diaspora_stream_kafka.testing import (
    create_raw_topic,
    octopus_value,
    produce_raw,
    read_records,
)


def test_events_are_octopus_records(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    producer = driver.open_topic(name).producer()
    events = [({"energy": i, "run": "a"}, bytes(range(i))) for i in range(5)]
    for metadata, data in events:
        producer.push(metadata, data)
    producer.flush().wait()
    records = read_records(bootstrap, name)
    assert [record.offset() for record in records] == list(range(5))
    for record, (metadata, data) in zip(records, events, strict=True):
        assert record.key() is None
        assert not record.headers()
        assert record.value() == octopus_value(metadata, data)


def test_info_topic_holds_validator_selector_serializer_in_order(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    schema = {"type": "object", "required": ["energy"]}
    driver.create_topic(name, validator=Validator.from_metadata(type="schema", schema=schema))
    values = [json.loads(record.value()) for record in read_records(bootstrap, f"__info_{name}")]
    assert values == [
        {"type": "schema", "schema": schema},
        {"type": "default"},
        {"type": "default"},
    ]


def test_namespace_prefixes_both_topics(
    options: dict[str, Any], topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    namespaced = Driver(backend="kafka", options={**options, "namespace": "ns-test"})
    namespaced.create_topic(name, options={"num_partitions": 3})
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    assert len(metadata[f"ns-test.{name}"].partitions) == 3
    assert len(metadata[f"ns-test.__info_{name}"].partitions) == 1
    assert name not in metadata
    assert name in namespaced.list_topics()
    assert name not in Driver(backend="kafka", options=options).list_topics()


def test_topic_written_by_octopus_is_read(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    create_raw_topic(bootstrap, (name, 1), (f"__info_{name}", 1))
    produce_raw(
        bootstrap,
        f"__info_{name}",
        [b'{"type":"default"}', b'{"type":"default"}', b'{"type":"default"}'],
    )
    events = [({"i": i, "tag": "octopus"}, b"%03d" % i * (i + 1)) for i in range(20)]
    produce_raw(bootstrap, name, [octopus_value(m, d) for m, d in events])
    assert driver.topic_exists(name)
    assert driver.list_topics()[name]["validator"] == {"type": "default"}
    consumer = driver.open_topic(name).consumer("reader")
    for offset, (metadata, data) in enumerate(events):
        event = consumer.pull().wait(10000)
        assert event is not None
        assert (event.event_id, event.metadata, bytes(event.data[0])) == (offset, metadata, data)
    assert consumer.pull().wait(200) is None


def test_topic_of_another_kafka_tool_opens_with_default_components(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    create_raw_topic(bootstrap, (name, 2))
    produce_raw(bootstrap, name, [octopus_value({"x": 1}, b"")], partition=1)
    topic = driver.open_topic(name)
    assert topic.partitions == [{"partition_id": 0}, {"partition_id": 1}]
    assert driver.list_topics()[name]["num_partitions"] == 2
    event = topic.consumer("reader").pull().wait(10000)
    assert (event.partition_index, event.event_id, event.metadata) == (1, 0, {"x": 1})


def test_a_record_that_is_not_an_event_raises_a_clear_error(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    produce_raw(bootstrap, name, [b"plain text, not an event"])
    future = driver.open_topic(name).consumer("reader").pull()
    with pytest.raises(DiasporaException, match="not a Diaspora event"):
        future.wait(10000)


def test_octopus_end_of_stream_marker_is_a_no_more_events_event(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    produce_raw(bootstrap, name, [struct.pack("<QQ", 2**64 - 1, 2**64 - 1)])
    event = driver.open_topic(name).consumer("reader").pull().wait(10000)
    assert event is not None
    assert event.event_id is None
