"""Rules about end of stream: completed partitions, the sentinel, and refused pushes.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import pytest

from diaspora_stream.api import Driver, Event, PartitionCompleted
from diaspora_stream.api import Exception as DiasporaException

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    QUIET_MS,
    WAIT_MS,
    bounded_call,
    consumer_name,
    pull_within,
    push_and_flush,
    take,
)
from ..levels import MUST, requires

__all__ = ["EndOfStreamRules"]

#: Seconds a loop that must end at end of stream may run (a safety net: it ends at once).
_END_LIMIT_S = 3 * WAIT_MS / 1000


def _pull_until_ended(consumer: object, partitions: int, limit: int = 1000) -> list[Event]:
    """Pull events and sentinels until ``partitions`` distinct sentinels arrived."""
    pulled: list[Event] = []
    ended: set[int] = set()
    while len(ended) < partitions:
        event = pull_within(consumer, WAIT_MS)  # type: ignore[arg-type]
        assert event is not None, (
            f"no end-of-stream sentinel within {WAIT_MS} ms after {len(pulled)} pull(s) "
            f"(sentinels from partitions {sorted(ended)})"
        )
        pulled.append(event)
        if event.event_id is None:
            ended.add(event.partition_index)
        assert len(pulled) <= limit, "more pulls than events stored: sentinels never end"
    return pulled


class EndOfStreamRules(ConformanceBase):
    """Rules about end of stream: completed partitions, the sentinel, and refused pushes."""

    @MUST
    @requires("end_of_stream")
    def test_sentinel_after_last_event(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A completed partition gives every event, then the sentinel (event_id None), then
        sentinels on every later pull."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        push_and_flush(producer, [({"i": i}, b"x") for i in range(5)])
        producer.mark_complete()
        consumer = topic.consumer(consumer_name("eos"))
        pulled = _pull_until_ended(consumer, 1)
        assert [event.event_id for event in pulled] == [0, 1, 2, 3, 4, None]
        assert [event.metadata for event in pulled[:5]] == [{"i": i} for i in range(5)]
        assert pulled[-1].partition_index == 0
        again = pull_within(consumer, WAIT_MS)
        assert again is not None and again.event_id is None, "a sentinel on every later pull"

    @MUST
    @requires("end_of_stream")
    def test_sentinel_per_completed_partition(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Each completed partition gives its sentinel after its own last event; a partition
        not marked complete gives none."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        producer = topic.producer()
        for i in range(9):
            producer.push({"i": i}, partition=i % 3)
        assert producer.flush().wait(WAIT_MS)
        topic.mark_complete(0)
        topic.mark_complete(2)
        consumer = topic.consumer(consumer_name("eos-partitions"))
        pulled: list[Event] = []
        while sum(1 for e in pulled if e.event_id is None) < 2 or len(pulled) < 11:
            event = pull_within(consumer, WAIT_MS)
            assert event is not None, f"only {len(pulled)} of 11 pulls answered: {pulled}"
            pulled.append(event)
        keys = [(event.partition_index, event.event_id) for event in pulled]
        for partition in (0, 2):
            mine = [key for key in keys if key[0] == partition]
            assert mine == [(partition, 0), (partition, 1), (partition, 2), (partition, None)]
        assert [key for key in keys if key[0] == 1] == [(1, 0), (1, 1), (1, 2)]
        extra = pull_within(consumer, QUIET_MS)
        assert extra is None or (extra.event_id is None and extra.partition_index != 1), (
            f"partition 1 is not complete, yet: {extra!r}"
        )

    @MUST
    @requires("end_of_stream")
    def test_iteration_ends_at_end_of_stream(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Iterating a consumer ends once every partition it reads is complete, even with an
        infinite timeout, and yields every event but no sentinel."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=2))
        producer = topic.producer()
        for i in range(6):
            producer.push({"i": i}, partition=i % 2)
        producer.mark_complete()
        consumer = topic.consumer(consumer_name("eos-iter"))
        events, _ = bounded_call(
            lambda: list(consumer.events(timeout_ms=-1)), _END_LIMIT_S, "iteration"
        )
        assert sorted(event.metadata["i"] for event in events) == list(range(6))

    @MUST
    @requires("end_of_stream")
    def test_process_returns_at_end_of_stream(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """process() with an infinite timeout returns at end of stream; the processor gets
        every event and no sentinel."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        push_and_flush(producer, [({"i": i}, b"") for i in range(4)])
        topic.mark_complete()
        consumer = topic.consumer(consumer_name("eos-process"))
        seen: list[int | None] = []
        bounded_call(
            lambda: consumer.process(lambda e: seen.append(e.event_id if e else -1)),
            _END_LIMIT_S,
            "process",
        )
        assert seen == [0, 1, 2, 3]

    @MUST
    @requires("end_of_stream")
    def test_sentinel_reaches_a_waiting_consumer(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer that already read everything gets the sentinel once the partition is
        marked complete."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        push_and_flush(producer, [({"i": 0}, b"")])
        consumer = topic.consumer(consumer_name("eos-late"))
        take(consumer, 1)
        nothing = pull_within(consumer, QUIET_MS)
        assert nothing is None, f"nothing is complete yet, got {nothing!r}"
        topic.mark_complete()
        sentinel = pull_within(consumer, WAIT_MS)
        assert sentinel is not None and sentinel.event_id is None

    @MUST
    @requires("end_of_stream")
    def test_push_to_completed_partition_fails(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A push to a completed partition fails with PartitionCompleted and stores nothing;
        other partitions still take events."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=2))
        producer = topic.producer()
        push_and_flush(producer, [({"i": 0}, b"")])
        topic.mark_complete(0)
        refused = producer.push({"late": True}, partition=0)
        with pytest.raises(PartitionCompleted):
            refused.wait(WAIT_MS)
        with pytest.raises(DiasporaException):
            producer.flush().wait(WAIT_MS)
        accepted = producer.push({"other": True}, partition=1)
        assert accepted.wait(WAIT_MS) == 0
        consumer = topic.consumer(consumer_name("eos-refused"), targets=[0])
        pulled = _pull_until_ended(consumer, 1)
        assert [event.event_id for event in pulled] == [0, None]
