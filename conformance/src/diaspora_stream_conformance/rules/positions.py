"""Rules about positions: where consumers start, seek, and acknowledged positions.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import pytest

from diaspora_stream.api import Driver, InvalidArgument, Position, TopicHandle
from diaspora_stream.api import Exception as DiasporaException

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    assert_no_more_events,
    consumer_name,
    pull_within,
    push_and_flush,
    take,
)
from ..levels import MUST, requires

__all__ = ["PositionRules"]


def _two_partitions(driver: Driver, backend: BackendUnderTest, per_partition: int) -> TopicHandle:
    """A topic of two partitions holding ``per_partition`` events each ({"p", "i"})."""
    topic = driver.open_topic(backend.create_topic(driver, num_partitions=2))
    producer = topic.producer()
    for i in range(per_partition):
        for partition in (0, 1):
            producer.push({"p": partition, "i": i}, partition=partition)
    assert producer.flush().wait(WAIT_MS)
    return topic


def _keys(events: list) -> list[tuple[int, int]]:
    return sorted((event.partition_index, event.event_id) for event in events)


class PositionRules(ConformanceBase):
    """Rules about positions: where consumers start, seek, and acknowledged positions."""

    @MUST
    @requires("replay", "acknowledgements")
    def test_start_at_beginning_ignores_acknowledgements(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """start=Position.BEGINNING reads from event 0 even when the name acknowledged some."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(6)])
        name = consumer_name("begin")
        first = topic.consumer(name)
        take(first, 4)[3].acknowledge()
        first.close()
        again = topic.consumer(name, start=Position.BEGINNING)
        assert [event.event_id for event in take(again, 6)] == list(range(6))
        assert_no_more_events(again)
        default = topic.consumer(name, start=Position.ACKNOWLEDGED)
        assert [event.event_id for event in take(default, 2)] == [4, 5]

    @MUST
    @requires("replay")
    def test_start_at_end_reads_only_new_events(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """start=Position.END skips the stored events and reads those pushed afterwards."""
        topic = _two_partitions(driver, diaspora_backend, 3)
        consumer = topic.consumer(consumer_name("end"), start=Position.END)
        assert_no_more_events(consumer)
        producer = topic.producer()
        producer.push({"new": 0}, partition=0)
        producer.push({"new": 1}, partition=1)
        assert producer.flush().wait(WAIT_MS)
        assert _keys(take(consumer, 2)) == [(0, 3), (1, 3)]
        assert_no_more_events(consumer)

    @MUST
    @requires("replay")
    def test_start_at_event_ids_per_partition(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """start={partition: id} starts each named partition at that id; others at their
        acknowledged position."""
        topic = _two_partitions(driver, diaspora_backend, 5)
        consumer = topic.consumer(consumer_name("ids"), start={0: 3, 1: 1})
        events = take(consumer, 6)
        assert _keys(events) == [(0, 3), (0, 4), (1, 1), (1, 2), (1, 3), (1, 4)]
        assert all(e.metadata == {"p": e.partition_index, "i": e.event_id} for e in events)
        assert_no_more_events(consumer)
        partial = topic.consumer(consumer_name("ids-partial"), start={1: Position.END})
        assert _keys(take(partial, 5)) == [(0, i) for i in range(5)]
        assert_no_more_events(partial)

    @MUST
    @requires("replay")
    def test_seek_back_and_forward(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """seek moves a live consumer: back to an id re-reads from it, to the end skips the
        rest, to the beginning re-reads everything."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        push_and_flush(producer, [({"i": i}, b"%d" % i) for i in range(8)])
        consumer = topic.consumer(consumer_name("seek"))
        assert [e.event_id for e in take(consumer, 5)] == [0, 1, 2, 3, 4]
        consumer.seek({0: 2})
        events = take(consumer, 6)
        assert [e.event_id for e in events] == [2, 3, 4, 5, 6, 7]
        assert [bytes(e.data[0]) for e in events] == [b"%d" % i for i in range(2, 8)]
        consumer.seek(Position.BEGINNING)
        assert [e.event_id for e in take(consumer, 3)] == [0, 1, 2]
        consumer.seek(Position.END)
        assert_no_more_events(consumer)
        push_and_flush(producer, [({"i": 8}, b"")])
        assert [e.event_id for e in take(consumer, 1)] == [8]
        consumer.seek({0: 8})
        assert [e.event_id for e in take(consumer, 1)] == [8]

    @MUST
    @requires("replay")
    def test_seek_one_partition_leaves_the_others(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Seeking one partition moves only that partition."""
        topic = _two_partitions(driver, diaspora_backend, 3)
        consumer = topic.consumer(consumer_name("seek-one"))
        take(consumer, 6)
        consumer.seek({1: 1})
        assert _keys(take(consumer, 2)) == [(1, 1), (1, 2)]
        assert_no_more_events(consumer)

    @MUST
    @requires("replay", "acknowledgements")
    def test_acknowledgements_after_seek(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """After a seek, acknowledging still only moves the name's position forward: a replay
        does not move it back, an acknowledgement past the old position moves it on."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        push_and_flush(producer, [({"i": i}, b"") for i in range(10)])
        name = consumer_name("seek-ack")
        consumer = topic.consumer(name)
        take(consumer, 6)[5].acknowledge()
        consumer.seek({0: 1})
        take(consumer, 2)[1].acknowledge()  # event 2: behind the acknowledged 5
        consumer.close()
        resumed = topic.consumer(name)
        assert [e.event_id for e in take(resumed, 4)] == [6, 7, 8, 9]
        resumed.seek({0: 8})
        take(resumed, 1)[0].acknowledge()  # event 8
        resumed.close()
        last = topic.consumer(name)
        assert [e.event_id for e in take(last, 1)] == [9]
        assert_no_more_events(last)

    @MUST
    @requires("replay")
    def test_bad_positions_are_refused(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A seek past the end, to a partition the consumer does not read, or to a negative id
        raises and leaves the consumer where it was."""
        topic = _two_partitions(driver, diaspora_backend, 2)
        consumer = topic.consumer(consumer_name("seek-bad"), targets=[0])
        take(consumer, 1)
        with pytest.raises(DiasporaException):
            consumer.seek({0: 3})
        with pytest.raises(InvalidArgument):
            consumer.seek({1: 0})
        with pytest.raises(InvalidArgument):
            consumer.seek({0: -1})
        with pytest.raises(InvalidArgument):
            consumer.seek("middle")
        assert [e.event_id for e in take(consumer, 1)] == [1]
        assert_no_more_events(consumer)

    @MUST
    @requires("replay", "end_of_stream")
    def test_seek_replays_a_completed_partition(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Seeking back in a completed partition re-reads its events, then the sentinel again."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        push_and_flush(producer, [({"i": i}, b"") for i in range(3)])
        producer.mark_complete()
        consumer = topic.consumer(consumer_name("seek-eos"))
        assert [e.event_id for e in consumer.events(WAIT_MS)] == [0, 1, 2]
        consumer.seek({0: 1})
        ids = []
        for _ in range(3):
            event = pull_within(consumer, WAIT_MS)
            assert event is not None
            ids.append(event.event_id)
        assert ids == [1, 2, None]

    @MUST
    @requires("consumer_positions", "acknowledgements")
    def test_acknowledged_positions_without_consumer(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """acknowledged_positions(name) gives each partition's last acknowledged id (absent
        partitions: none), and consumer_names() lists the names that acknowledged."""
        topic = _two_partitions(driver, diaspora_backend, 3)
        name = consumer_name("positions")
        other = consumer_name("positions-other")
        assert topic.acknowledged_positions(name) == {}
        consumer = topic.consumer(name)
        for event in take(consumer, 6):
            if (event.partition_index, event.event_id) in ((0, 1), (1, 0), (1, 2)):
                event.acknowledge()
        consumer.close()
        assert topic.acknowledged_positions(name) == {0: 1, 1: 2}
        second = topic.consumer(other, targets=[1])
        take(second, 1)[0].acknowledge()
        second.close()
        assert topic.acknowledged_positions(other) == {1: 0}
        names = topic.consumer_names()
        assert {name, other} <= set(names), f"{names} lacks {name!r} or {other!r}"
        assert names == sorted(names)
