"""Rules about threads: producers, consumers and handles used from several threads.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from diaspora_stream.api import Driver, Event, FutureUint, Ordering, Validator

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
from ..levels import MUST
from ..python_components import SlowValidator

__all__ = ["ThreadRules"]

#: Threads sharing one producer or one consumer.
THREADS = 8


def _check_pushed_ids(
    pushed: dict[tuple[int, int], FutureUint], events: list[Event], partitions: int
) -> None:
    """Each event's push future named it: ids dense per partition, every event stored once,
    and each ``(thread, i)`` pushed stored under the id its future gave."""
    by_key = {(event.partition_index, int(event.event_id or 0)): event for event in events}
    assert len(by_key) == len(events), "the same (partition, id) was read twice"
    for partition in range(partitions):
        ids = sorted(i for p, i in by_key if p == partition)
        assert ids == list(range(len(ids))), f"ids of partition {partition} are not dense: {ids}"
    origins = {(e.metadata["t"], e.metadata["i"]): (e.partition_index, e.event_id) for e in events}
    assert len(origins) == len(events), "an event pushed once was stored twice"
    missing = sorted(set(pushed) - set(origins))
    assert not missing, f"{len(missing)} pushed events are not stored, first {missing[:5]}"
    for origin, future in pushed.items():
        partition, event_id = origins[origin]
        given = future.wait(0)
        assert given == event_id, (
            f"the push future of thread {origin[0]}'s event {origin[1]} gave id {given}, but the "
            f"event is stored as id {event_id} of partition {partition}"
        )


def _check_push_order(events: list[Event], key: str) -> None:
    """In each partition, the events of each ``metadata[key]`` come in increasing ``i``."""
    last: dict[tuple[int, Any], tuple[int, int]] = {}
    for event in sorted(events, key=lambda e: (e.partition_index, e.event_id)):
        group = (event.partition_index, event.metadata[key])
        previous = last.get(group)
        assert previous is None or previous[0] < event.metadata["i"], (
            f"Ordering.Strict broken: in partition {event.partition_index}, event "
            f"{event.metadata['i']} of {key} {event.metadata[key]} (id {event.event_id}) is "
            f"stored after event {previous[0] if previous else None} (id "
            f"{previous[1] if previous else None})"
        )
        last[group] = (event.metadata["i"], event.event_id or 0)


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

    @MUST
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

    @MUST
    def test_one_producer_shared_by_eight_threads(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A producer shared by 8 threads stores every event once, with exact, dense ids.

        A producer shared by 8 pushing (and flushing) threads stores every event once, with
        dense ids that its push futures give, each thread's events in push order.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=2))
        producer = topic.producer("shared", batch_size=16)
        per_thread = 150
        pushed: dict[tuple[int, int], FutureUint] = {}
        lock = threading.Lock()

        def pusher(thread: int) -> Callable[[], None]:
            def run() -> None:
                for i in range(per_thread):
                    future = producer.push({"t": thread, "i": i}, b"%d/%d" % (thread, i))
                    with lock:
                        pushed[(thread, i)] = future
                    if i % 50 == 49:
                        assert producer.flush().wait(WAIT_MS), "a thread's flush did not complete"

            return run

        errors = run_in_threads([pusher(thread) for thread in range(THREADS)])
        assert not errors, errors
        assert producer.flush().wait(WAIT_MS) is True
        events = read_all(topic, THREADS * per_thread)
        for event in events:
            assert data_bytes(event) == b"%d/%d" % (event.metadata["t"], event.metadata["i"])
        _check_pushed_ids(pushed, events, 2)
        _check_push_order(events, "t")

    @MUST
    def test_strict_ordering_when_preparation_times_differ(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Ordering.Strict stores events in push order even when later ones are prepared first.

        With Ordering.Strict and a 4-thread pool, events are stored in push order in every
        partition even when later events are prepared faster than earlier ones.
        """
        name = diaspora_backend.create_topic(
            driver,
            num_partitions=3,
            validator=Validator.from_metadata(type=SlowValidator.type_name),
        )
        topic = driver.open_topic(name)
        pool = driver.make_thread_pool(4)
        try:
            producer = topic.producer("strict", ordering=Ordering.Strict, thread_pool=pool)
            for i in range(240):
                # Every fourth event takes 4 ms to validate, the others none: on four threads,
                # a producer storing events as they are prepared puts them out of order.
                producer.push({"i": i, "sleep_ms": 4 if i % 4 == 0 else 0, "src": 0})
            assert producer.flush().wait(WAIT_MS) is True
        finally:
            pool.shutdown()
        events = read_all(topic, 240, data_allocator=None)
        _check_push_order(events, "src")

    @MUST
    def test_one_consumer_pulled_from_several_threads(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer pulled from 8 threads at once hands out every event exactly once."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=2))
        count = 400
        push_and_flush(topic.producer(), [({"i": i}, b"%d" % i) for i in range(count)])
        consumer = topic.consumer(consumer_name("shared"))
        received: list[Event] = []
        lock = threading.Lock()

        def puller() -> None:
            while True:
                event = consumer.pull().wait(2000)
                if event is None or event.event_id is None:
                    return
                with lock:
                    received.append(event)

        errors = run_in_threads([puller] * THREADS)
        assert not errors, errors
        keys = sorted((event.partition_index, event.event_id) for event in received)
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        assert not duplicated, f"events handed out twice: {duplicated[:10]}"
        assert len(keys) == count, f"{count - len(keys)} events were never handed out"
        assert sorted(event.metadata["i"] for event in received) == list(range(count))
        for event in received:
            assert data_bytes(event) == b"%d" % event.metadata["i"]
