"""Pushes through a threaded pool (``_machinery.pool_push``): events queued while the pool is
busy are prepared in chunks, and each event of a chunk keeps the outcome ``push`` gives it on
its own: its id, its partition, its place in the partition, its own refusal."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from api_helpers import drain

from diaspora_stream._machinery import producer as producer_module
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.api import Ordering, Producer, ThreadPool, TopicHandle

MakeTopic = Callable[..., TopicHandle]


@contextmanager
def busy(pool: ThreadPool) -> Iterator[None]:
    """Keep every thread of ``pool`` busy for the block: pushes made in it queue up and reach
    the pool as one chunk when the block ends."""
    gate = threading.Event()
    started = threading.Semaphore(0)

    def hold() -> None:
        started.release()
        gate.wait(30)

    for _ in range(pool.thread_count):
        pool.push_work(hold)
    for _ in range(pool.thread_count):
        assert started.acquire(timeout=10), "the pool never started the holding work"
    try:
        yield
    finally:
        gate.set()


def stored(topic: TopicHandle, count: int) -> list[Any]:
    """The events of every partition of ``topic``, read by a new consumer."""
    return drain(topic.consumer("reader"), timeout_ms=2000, limit=count)


@pytest.mark.parametrize("threads", [1, 3])
def test_a_refused_event_in_a_chunk_fails_alone(make_topic: MakeTopic, threads: int) -> None:
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(threads)
    producer = topic.producer(batch_size=4, thread_pool=pool, ordering=Ordering.Strict)
    inline = make_topic(num_partitions=1).producer(batch_size=4)
    with busy(pool):
        futures = [producer.push({"i": i, "x": math.nan if i == 5 else i}) for i in range(12)]
    assert producer.flush().wait(10_000) is True
    with pytest.raises(DiasporaException) as refused:
        futures[5].wait(1000)
    with pytest.raises(type(refused.value)) as refused_inline:
        inline.push({"x": math.nan}).wait(1000)
    assert str(refused.value) == str(refused_inline.value)
    assert [f.wait(1000) for i, f in enumerate(futures) if i != 5] == list(range(11))
    events = stored(topic, 11)
    assert [e.metadata["i"] for e in events] == [i for i in range(12) if i != 5]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_chunk_over_several_partitions_is_placed_as_without_a_pool(
    make_topic: MakeTopic, threads: int
) -> None:
    pooled, plain = make_topic(num_partitions=4), make_topic(num_partitions=4)
    pool = pooled.driver.make_thread_pool(threads)
    producer = pooled.producer(batch_size=3, thread_pool=pool, ordering=Ordering.Strict)
    reference = plain.producer(batch_size=3)
    with busy(pool):
        futures = [producer.push({"i": i}) for i in range(50)]
    for i in range(50):
        reference.push({"i": i})
    assert producer.flush().wait(10_000) is True
    assert reference.flush().wait(10_000) is True

    def placement(topic: TopicHandle) -> dict[int, list[tuple[int, int]]]:
        by_partition: dict[int, list[tuple[int, int]]] = {}
        for event in stored(topic, 50):
            by_partition.setdefault(event.partition_index, []).append(
                (event.event_id, event.metadata["i"])
            )
        return by_partition

    assert placement(pooled) == placement(plain)
    ids = [f.wait(1000) for f in futures]
    assert ids == [i // 4 for i in range(50)]  # round robin: each partition counts from 0


def test_partition_arguments_differing_within_a_chunk(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=3)
    pool = topic.driver.make_thread_pool(1)
    producer = topic.producer(batch_size=2, thread_pool=pool)
    with busy(pool):
        futures = [producer.push({"i": i}, partition=i % 3) for i in range(9)]
    assert producer.flush().wait(10_000) is True
    assert [f.wait(1000) for f in futures] == [i // 3 for i in range(9)]
    events = stored(topic, 9)
    assert {(e.partition_index, e.metadata["i"]) for e in events} == {(i % 3, i) for i in range(9)}


def test_polling_a_queued_future_sends_its_event_once_prepared(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(1)
    producer = topic.producer(batch_size=1000, thread_pool=pool)
    with busy(pool):
        future = producer.push({"i": 0})
        assert future.wait(0) is None
        assert not future.completed
    # No flush and no blocking wait: the poll alone asked for the event to be sent.
    events = stored(topic, 1)
    assert [e.metadata["i"] for e in events] == [0]
    assert future.wait(1000) == 0


def producer_with_a_queue_of_4(
    make_topic: MakeTopic, monkeypatch: pytest.MonkeyPatch
) -> tuple[TopicHandle, ThreadPool, Producer]:
    """A topic and a producer on a 1-thread pool for which at most 4 pushes may wait."""
    monkeypatch.setattr(producer_module, "MIN_QUEUED_PUSHES", 4)
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(1)
    return topic, pool, topic.producer(batch_size=1, max_num_batches=1, thread_pool=pool)


def test_a_full_queue_blocks_push_until_the_pool_takes_from_it(
    make_topic: MakeTopic, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic, pool, producer = producer_with_a_queue_of_4(make_topic, monkeypatch)
    pushed: list[int] = []

    def push_ten() -> None:
        for i in range(10):
            producer.push({"i": i})
            pushed.append(i)

    pusher = threading.Thread(target=push_ten, daemon=True)
    with busy(pool):
        pusher.start()
        pusher.join(0.5)
        assert pusher.is_alive(), "push did not block with the queue full"
        assert len(pushed) == 4
    pusher.join(10)
    assert not pusher.is_alive()
    assert producer.flush().wait(10_000) is True
    assert [e.metadata["i"] for e in stored(topic, 10)] == list(range(10))


def test_a_push_from_the_pools_own_thread_never_waits_for_itself(
    make_topic: MakeTopic, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic, pool, producer = producer_with_a_queue_of_4(make_topic, monkeypatch)
    done = threading.Event()

    def push_from_the_pool() -> None:
        for i in range(20):
            producer.push({"i": i})
        done.set()

    pool.push_work(push_from_the_pool)
    assert done.wait(10), "a push from the pool's thread waited for that thread"
    assert producer.flush().wait(10_000) is True
    assert [e.metadata["i"] for e in stored(topic, 20)] == list(range(20))


def test_pushes_after_the_pool_shut_down_are_still_stored(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(1)
    producer = topic.producer(batch_size=2, thread_pool=pool)
    pool.shutdown()
    futures = [producer.push({"i": i}) for i in range(3)]
    assert producer.flush().wait(10_000) is True
    assert [f.wait(1000) for f in futures] == [0, 1, 2]
    assert [e.metadata["i"] for e in stored(topic, 3)] == [0, 1, 2]


def test_push_many_through_a_busy_pool_keeps_call_order(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(2)
    producer = topic.producer(batch_size=3, thread_pool=pool, ordering=Ordering.Strict)
    with busy(pool):
        first = producer.push({"i": 0})
        batch = producer.push_many([{"i": i} for i in range(1, 8)])
        last = producer.push({"i": 8})
    assert batch.wait(10_000) == list(range(1, 8))
    assert (first.wait(1000), last.wait(1000)) == (0, 8)
    assert [e.metadata["i"] for e in stored(topic, 9)] == list(range(9))
