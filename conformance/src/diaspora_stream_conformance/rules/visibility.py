"""Rules about when pushed events become visible to consumers.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from diaspora_stream.api import AdaptiveBatchSize, Driver, FutureUint, Producer, TopicHandle

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    consumer_name,
    data_bytes,
    read_all,
    run_in_threads,
    take,
)
from ..levels import MUST

__all__ = ["VisibilityRules"]

#: Batch sizes a producer may be given: one event, a few, more than a test pushes, adaptive.
BATCH_SIZES = {"batch-1": 1, "batch-7": 7, "batch-1000": 1000, "adaptive": AdaptiveBatchSize}
#: Thread pools: none (the caller's thread), one thread, four threads.
POOL_SIZES = {"no-pool": 0, "pool-1": 1, "pool-4": 4}
#: Events pushed by each visibility test (spread over three partitions).
EVENTS = 41


def _payload(i: int) -> bytes:
    """Data of event ``i``: its own bytes, of a size that differs from its neighbours'."""
    return b"%05d:" % i + bytes((i * 7 + k) % 256 for k in range(i % 13))


def _push_without_waiting(producer: Producer, first: int, count: int) -> list[FutureUint]:
    """Push events ``first`` .. ``first + count - 1``; the futures are returned, never waited."""
    return [producer.push({"i": i}, _payload(i)) for i in range(first, first + count)]


def _check_stored(events: list[Any], first: int, count: int) -> None:
    """The events are exactly ``first`` .. ``first + count - 1``, each once, with its bytes."""
    seen = sorted(event.metadata["i"] for event in events)
    expected = list(range(first, first + count))
    missing = sorted(set(expected) - set(seen))
    duplicated = sorted({i for i in seen if seen.count(i) > 1})
    assert seen == expected, (
        f"expected events {first}..{first + count - 1} once each; missing {missing}, "
        f"duplicated {duplicated}"
    )
    for event in events:
        i = event.metadata["i"]
        assert data_bytes(event) == _payload(i), f"event {i} came back with other bytes"


@contextlib.contextmanager
def _producer(topic: TopicHandle, driver: Driver, batch: Any, pool_size: int) -> Iterator[Producer]:
    """A producer with ``batch`` and a pool of ``pool_size`` threads (none for 0), closed and
    its pool shut down afterwards."""
    pool = driver.make_thread_pool(pool_size) if pool_size else None
    producer = topic.producer("visibility", batch_size=batch, thread_pool=pool)
    try:
        yield producer
    finally:
        producer.close()
        if pool is not None:
            pool.shutdown()


class VisibilityRules(ConformanceBase):
    """Rules about when pushed events become visible to consumers."""

    @MUST
    def test_flush_makes_events_visible(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """After flush() completes, every event pushed before it is visible to a new consumer."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer(batch_size=1000)
        for i in range(5):
            producer.push({"i": i}, b"x" * i)
        flushed = producer.flush()
        assert flushed.wait(WAIT_MS) is True
        events = read_all(topic, 5)
        assert [event.metadata["i"] for event in events] == list(range(5))
        assert [data_bytes(event) for event in events] == [b"x" * i for i in range(5)]

    @MUST
    def test_push_returns_future_that_may_be_dropped(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """push returns a future at once; dropping it is fine: a flush still stores the event."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer(batch_size=64)
        kept = None
        for i in range(20):
            future = producer.push({"i": i})
            assert hasattr(future, "wait") and hasattr(future, "completed")
            if i == 7:
                kept = future
        assert producer.flush().wait(WAIT_MS) is True
        assert kept is not None and kept.completed
        assert kept.wait(0) == 7, "a completed push future answers wait(0) with its id"
        events = read_all(topic, 20, data_allocator=None)
        assert [event.metadata["i"] for event in events] == list(range(20))

    @MUST
    @pytest.mark.parametrize("pool_size", list(POOL_SIZES.values()), ids=list(POOL_SIZES))
    @pytest.mark.parametrize("batch", list(BATCH_SIZES.values()), ids=list(BATCH_SIZES))
    def test_flushed_events_visible_whatever_the_producer(
        self, driver: Driver, diaspora_backend: BackendUnderTest, batch: Any, pool_size: int
    ) -> None:
        """After flush().wait(), every event pushed before it is stored and visible at once.

        After flush().wait(), every event pushed before it, on every partition, is stored
        (its push future completed) and visible to a new consumer and to one already
        waiting, whatever the batch size and thread pool, with push futures never waited on.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        waiting = topic.consumer(consumer_name("waiting"))
        pending_pull = waiting.pull()
        assert pending_pull.wait(0) is None, "a consumer of an empty topic got an event"
        with _producer(topic, driver, batch, pool_size) as producer:
            futures = _push_without_waiting(producer, 0, EVENTS)
            assert producer.flush().wait(WAIT_MS) is True, "flush did not complete"
            pending = [n for n, future in enumerate(futures) if not future.completed]
            assert not pending, (
                f"flush completed while the push futures of events {pending} were still pending: "
                "a flush covers every event pushed before it"
            )
            _check_stored(read_all(topic, EVENTS), 0, EVENTS)
            first = pending_pull.wait(WAIT_MS)
            assert first is not None, "a pull pending before the flush got no event after it"
            _check_stored([first, *take(waiting, EVENTS - 1)], 0, EVENTS)
            more = _push_without_waiting(producer, EVENTS, 5)
            assert producer.flush().wait(WAIT_MS) is True, "a second flush did not complete"
            assert all(future.completed for future in more)
            _check_stored(take(waiting, 5), EVENTS, 5)
            _check_stored(read_all(topic, EVENTS + 5), 0, EVENTS + 5)

    @MUST
    @pytest.mark.parametrize("pool_size", list(POOL_SIZES.values()), ids=list(POOL_SIZES))
    def test_adaptive_batches_become_visible_without_flush(
        self, driver: Driver, diaspora_backend: BackendUnderTest, pool_size: int
    ) -> None:
        """With AdaptiveBatchSize, pushed events become visible without any flush.

        With AdaptiveBatchSize, pushed events become visible without any flush (the
        documented promise: a batch is sent as soon as the previous one is stored).
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=2))
        with _producer(topic, driver, AdaptiveBatchSize, pool_size) as producer:
            _push_without_waiting(producer, 0, EVENTS)
            consumer = topic.consumer(consumer_name("no-flush"))
            _check_stored(take(consumer, EVENTS), 0, EVENTS)
            producer.flush().wait(WAIT_MS)

    @MUST
    def test_flush_covers_events_pushed_by_other_threads(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A flush covers the events other threads pushed through the same producer before it.

        A flush after other threads' pushes returned covers their events too (one producer
        shared by threads): they are stored and visible once it completes.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        producer = topic.producer("shared", batch_size=1000)
        futures: list[FutureUint] = []

        def pusher(thread: int) -> Any:
            def run() -> None:
                futures.extend(_push_without_waiting(producer, thread * 10, 10))

            return run

        errors = run_in_threads([pusher(thread) for thread in range(4)])
        assert not errors, errors
        assert producer.flush().wait(WAIT_MS) is True
        assert all(future.completed for future in futures), "flush left other threads' events"
        _check_stored(read_all(topic, 40), 0, 40)
