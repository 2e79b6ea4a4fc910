"""Rules about acknowledgements: resuming by name, per partition.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from diaspora_stream.api import (
    Driver,
)

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    assert_no_more_events,
    consumer_name,
    push_and_flush,
    read_all,
    take,
)
from ..levels import MUST, requires

__all__ = ["AcknowledgementRules"]


class AcknowledgementRules(ConformanceBase):
    """Rules about acknowledgements: resuming by name, per partition."""

    @MUST
    @requires("acknowledgements")
    def test_acknowledge_then_resume_by_name(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer created again with the same name resumes after its last acknowledged event."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(10)])
        name = consumer_name("resume")
        first = topic.consumer(name)
        events = take(first, 4)
        events[3].acknowledge()
        first.close()
        again = topic.consumer(name)
        assert [event.event_id for event in take(again, 6)] == list(range(4, 10))
        assert_no_more_events(again)
        other = read_all(topic, 10)
        assert [event.event_id for event in other] == list(range(10)), "names are independent"

    @MUST
    @requires("acknowledgements")
    def test_acknowledgement_is_per_partition(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Acknowledging an event covers its partition only: other partitions restart at 0."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=2))
        producer = topic.producer()
        for i in range(8):
            producer.push({"i": i}, partition=i % 2)
        assert producer.flush().wait(WAIT_MS)
        name = consumer_name("per-partition")
        consumer = topic.consumer(name)
        for event in take(consumer, 8):
            if event.partition_index == 0 and event.event_id == 2:
                event.acknowledge()
        consumer.close()
        resumed = topic.consumer(name)
        keys = sorted((event.partition_index, event.event_id) for event in take(resumed, 5))
        assert keys == [(0, 3), (1, 0), (1, 1), (1, 2), (1, 3)]
        assert_no_more_events(resumed)
