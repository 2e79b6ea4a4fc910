"""End of stream on Kafka: Octopus's marker, and producers of other processes learning of it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, TopicPartition
from diaspora_stream.api import Driver, EventsNotStored, PartitionCompleted

from diaspora_stream_kafka.completion import COMPLETION_GROUP, MARKER
from diaspora_stream_kafka.testing import octopus_value, produce_raw, read_records

WAIT_MS = 10000

#: A separate process marking a topic complete: its producers' process cannot know but from
#: the cluster.
MARK_IN_ANOTHER_PROCESS = """
import sys
from diaspora_stream.api import Driver
driver = Driver(backend="kafka", options={"kafka": {"bootstrap.servers": sys.argv[1]}})
driver.open_topic(sys.argv[2]).mark_complete()
"""


def test_mark_complete_appends_octopus_marker_once(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    producer = topic.producer()
    producer.push({"i": 0}, b"zero", partition=0)
    producer.mark_complete()
    topic.mark_complete()  # already complete: nothing more is written
    first = [record.value() for record in read_records(bootstrap, name, 0)]
    assert first == [octopus_value({"i": 0}, b"zero"), MARKER]
    assert MARKER == b"\xff" * 16  # metadata and data sizes 2**64 - 1, as Octopus reads them
    assert [record.value() for record in read_records(bootstrap, name, 1)] == [MARKER]


def test_records_after_the_marker_are_never_delivered(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    produce_raw(
        bootstrap, name, [octopus_value({"i": 0}, b""), MARKER, octopus_value({"i": 2}, b"")]
    )
    consumer = driver.open_topic(name).consumer("after-marker")
    first = consumer.pull().wait(WAIT_MS)
    assert first is not None and first.event_id == 0
    for _ in range(3):
        sentinel = consumer.pull().wait(WAIT_MS)
        assert sentinel is not None and sentinel.event_id is None


def test_producer_of_another_process_learns_at_its_flush(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    producer = topic.producer()
    assert producer.push({"i": 0}).wait(WAIT_MS) == 0
    assert producer.flush().wait(WAIT_MS)
    subprocess.run(
        [sys.executable, "-c", MARK_IN_ANOTHER_PROCESS, bootstrap, name], check=True, timeout=120
    )
    # This process did not know: the record is stored after the marker...
    assert producer.push({"i": 2}).wait(WAIT_MS) == 2
    # ...and the flush covering it reports it, with the cause.
    with pytest.raises(EventsNotStored) as raised:
        producer.flush().wait(WAIT_MS)
    assert raised.value.failed == 1
    assert isinstance(raised.value.first_cause, PartitionCompleted)
    # From then on, and for new producers, pushes are refused at once.
    with pytest.raises(PartitionCompleted):
        producer.push({"i": 3}).wait(WAIT_MS)
    with pytest.raises(EventsNotStored):
        producer.flush().wait(WAIT_MS)
    late = topic.producer()
    with pytest.raises(PartitionCompleted):
        late.push({"i": 4}).wait(WAIT_MS)
    with pytest.raises(EventsNotStored):
        late.flush().wait(WAIT_MS)
    consumer = topic.consumer("cross-process")
    ids = [event.event_id for event in consumer.events(timeout_ms=-1)]
    assert ids == [0]


def test_completion_group_holds_marker_offsets_and_is_no_consumer_name(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    producer = topic.producer()
    producer.push({"i": 0}, partition=1)
    producer.mark_complete(1)
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": COMPLETION_GROUP})
    try:
        wanted = [TopicPartition(name, 0), TopicPartition(name, 1)]
        committed = {tp.partition: tp.offset for tp in reader.committed(wanted, timeout=30)}
    finally:
        reader.close()
    assert committed[1] == 2  # the marker is record 1 of partition 1
    assert committed[0] < 0  # partition 0 is not complete
    assert COMPLETION_GROUP not in topic.consumer_names()
