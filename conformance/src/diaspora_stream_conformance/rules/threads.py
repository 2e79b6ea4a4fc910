"""Rules about threads: producers, consumers and handles used from several threads.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from diaspora_stream.api import (
    Driver,
    Event,
    Ordering,
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
    run_in_threads,
    take,
)
from ..levels import MUST, SHOULD

__all__ = ["ThreadRules"]


class ThreadRules(ConformanceBase):
    """Rules about threads: producers, consumers and handles used from several threads."""

    @MUST
    def test_concurrent_producer_and_consumer(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer thread reading while a producer thread pushes gets every event once."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        count = 300
        received: list[Event] = []
        consumer = topic.consumer(consumer_name())

        def produce() -> None:
            producer = topic.producer("concurrent")
            for i in range(count):
                producer.push({"index": i})
                if i % 50 == 49:
                    assert producer.flush().wait(WAIT_MS)
            assert producer.flush().wait(WAIT_MS)

        def consume() -> None:
            received.extend(take(consumer, count))

        errors = run_in_threads([consume, produce])
        assert not errors, errors
        assert [event.event_id for event in received] == list(range(count))
        assert [event.metadata["index"] for event in received] == list(range(count))
        assert_no_more_events(consumer)

    @MUST
    def test_producer_faster_than_consumer(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A slow consumer still gets every event of a faster producer, in order."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        received: list[int] = []
        consumer = topic.consumer(consumer_name())

        def produce() -> None:
            push_and_flush(
                topic.producer(), [({"index": i}, b"Event data %d" % i) for i in range(30)]
            )

        def consume() -> None:
            for event in take(consumer, 30):
                time.sleep(0.003)
                assert data_bytes(event) == b"Event data %d" % event.metadata["index"]
                received.append(event.metadata["index"])

        errors = run_in_threads([consume, produce])
        assert not errors, errors
        assert received == list(range(30))

    @MUST
    def test_multiple_producers_single_consumer(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Three producer threads' events all reach one consumer, each producer's in order."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name())
        received: list[Event] = []

        def produce(p: int) -> Callable[[], None]:
            def run() -> None:
                push_and_flush(
                    topic.producer(f"producer_{p}"),
                    [({"producer": p, "index": i}, b"") for i in range(20)],
                )

            return run

        def consume() -> None:
            received.extend(take(consumer, 60))

        errors = run_in_threads([consume, produce(0), produce(1), produce(2)])
        assert not errors, errors
        assert sorted(event.event_id or 0 for event in received) == list(range(60))
        for p in range(3):
            indices = [
                event.metadata["index"] for event in received if event.metadata["producer"] == p
            ]
            assert indices == list(range(20)), f"producer {p}'s events out of order: {indices}"

    @SHOULD
    def test_ids_exact_with_concurrent_producers(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Push futures give exact ids with producers in several threads and handles."""
        name = diaspora_backend.create_topic(driver)
        handles = [driver.open_topic(name), driver.open_topic(name)]
        pushed: dict[int, tuple[int, int]] = {}
        lock = threading.Lock()

        def produce(thread: int) -> Callable[[], None]:
            def run() -> None:
                producer = handles[thread % 2].producer(f"thread-{thread}", batch_size=7)
                futures = [producer.push({"t": thread, "i": i}, b"%d" % i) for i in range(150)]
                assert producer.flush().wait(WAIT_MS)
                with lock:
                    for i, future in enumerate(futures):
                        event_id = future.wait(WAIT_MS)
                        assert isinstance(event_id, int)
                        assert event_id not in pushed, f"id {event_id} given twice"
                        pushed[event_id] = (thread, i)

            return run

        errors = run_in_threads([produce(thread) for thread in range(4)])
        assert not errors, errors
        assert sorted(pushed) == list(range(600))
        for event in read_all(handles[0], 600, data_allocator=None):
            assert event.event_id is not None
            expected = pushed[event.event_id]
            assert (event.metadata["t"], event.metadata["i"]) == expected

    @MUST
    def test_strict_ordering_with_thread_pool(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """With Ordering.Strict, events prepared on a multi-thread pool are stored in push order."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        pool = driver.make_thread_pool(2)
        try:
            producer = topic.producer(ordering=Ordering.Strict, thread_pool=pool)
            ids = push_and_flush(producer, [({"i": i}, b"") for i in range(200)])
        finally:
            pool.shutdown()
        assert ids == list(range(200))
        events = read_all(topic, 200, data_allocator=None)
        assert [event.metadata["i"] for event in events] == list(range(200))
