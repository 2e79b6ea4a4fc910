"""Rules about consuming: order, iteration, process(), targets.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from typing import Any

from diaspora_stream.api import (
    Driver,
    Event,
    StopEventProcessor,
)

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    assert_no_more_events,
    consumer_name,
    data_bytes,
    push_and_flush,
    read_all,
    take,
)
from ..levels import MUST

__all__ = ["ConsumingRules"]


class ConsumingRules(ConformanceBase):
    """Rules about consuming: order, iteration, process(), targets."""

    @MUST
    def test_consume_events_in_push_order(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer gets a partition's events in push order with ids 0..n-1, then nothing."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(
            topic.producer(),
            [({"event_num": i}, b"This is data for event %d" % i) for i in range(100)],
        )
        acknowledgements = self.backend_capabilities(diaspora_backend).acknowledgements
        consumer = topic.consumer("myconsumer")
        for i, event in enumerate(take(consumer, 100)):
            assert event.event_id == i
            assert event.metadata["event_num"] == i
            assert isinstance(event.partition, dict)
            if acknowledgements and i % 5 == 0:
                event.acknowledge()
        for _ in range(3):
            assert_no_more_events(consumer, 30)

    @MUST
    def test_consumer_default_fetches_whole_data(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Without selector or allocator, event.data is a one-element list holding all the data."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": 0}, [b"hello ", b"world"]), ({"i": 1}, b"")])
        full, empty = read_all(topic, 2)
        assert isinstance(full.data, list) and len(full.data) == 1
        assert bytes(memoryview(full.data[0])) == b"hello world"
        assert isinstance(empty.data, list) and data_bytes(empty) == b""

    @MUST
    def test_consumer_iteration(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Iterating over a consumer yields the events in order."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(
            topic.producer(), [({"index": i, "value": f"event_{i}"}, b"") for i in range(10)]
        )
        count = 0
        for event in topic.consumer(consumer_name()):
            assert event.event_id == count
            assert event.metadata == {"index": count, "value": f"event_{count}"}
            count += 1
            if count == 10:
                break
        assert count == 10

    @MUST
    def test_targets_restrict_partitions(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer given targets=[...] reads only those partitions (D6)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        producer = topic.producer()
        for i in range(9):
            producer.push({"i": i}, partition=i % 3)
        assert producer.flush().wait(WAIT_MS)
        only_one = read_all(topic, 3, targets=[1])
        assert sorted(event.metadata["i"] for event in only_one) == [1, 4, 7]
        assert {event.partition_index for event in only_one} == {1}
        two = read_all(topic, 6, targets=[2, 0])
        assert sorted(event.metadata["i"] for event in two) == [0, 2, 3, 5, 6, 8]

    @MUST
    def test_process_until_stop_event_processor(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Consumer.process feeds each event (None on timeout) until StopEventProcessor (D7)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"%d" % i) for i in range(4)])
        seen: list[Any] = []

        def processor(event: Event | None) -> None:
            seen.append(None if event is None else (event.event_id, data_bytes(event)))
            if event is None:
                raise StopEventProcessor()

        consumer = topic.consumer(consumer_name())
        consumer.process(processor, timeout_ms=50)
        assert seen == [(i, b"%d" % i) for i in range(4)] + [None]
        limited: list[int] = []
        topic.consumer(consumer_name()).process(
            lambda event: limited.append(
                event.event_id if event and event.event_id is not None else -1
            ),
            timeout_ms=WAIT_MS,
            max_events=2,
        )
        assert limited == [0, 1]
