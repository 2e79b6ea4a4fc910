"""A log-level backend with ``appends_in_flight > 1`` gets several batches in flight.

The generic producer starts the next batch (``LogTopic.start_append``) without waiting for the
previous one's answer, completes the futures in order with the ids the backend gave, and a
flush completes only after every append started before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from diaspora_stream import api
from diaspora_stream.api import Driver
from diaspora_stream.backend.log import AppendRecord, LogTopic
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic
from diaspora_stream.registry import register_driver

GATE = threading.Event()
STARTED: list[int] = []
FAIL_BATCH: list[int] = []  # index of a started batch whose append fails
_CONDITION = threading.Condition()


class _PipelinedTopic(MemoryTopic):
    appends_in_flight = 3

    def start_append(self, partition: int, records: Sequence[AppendRecord]) -> Callable[[], int]:
        with _CONDITION:
            index = len(STARTED)
            STARTED.append(len(records))
            _CONDITION.notify_all()
        if FAIL_BATCH and FAIL_BATCH[0] == index:
            error = RuntimeError("append refused")

            def refused() -> int:
                GATE.wait()
                raise error

            return refused
        first = self.append(partition, records)

        def answer() -> int:
            GATE.wait()
            return first

        return answer


class _PipelinedDriver(MemoryDriver):
    def open_topic(self, name: str) -> LogTopic:
        topic = super().open_topic(name)
        assert isinstance(topic, MemoryTopic)
        return _PipelinedTopic(name, topic._store)


register_driver("pipelined-appends-test", _PipelinedDriver)


@pytest.fixture(autouse=True)
def _reset() -> None:
    GATE.clear()
    STARTED.clear()
    FAIL_BATCH.clear()


def _started_at_least(count: int) -> list[int]:
    with _CONDITION:
        _CONDITION.wait_for(lambda: len(STARTED) >= count, 10)
        return list(STARTED)


@pytest.mark.parametrize("threads", [0, 2])
def test_several_batches_are_in_flight_and_complete_in_order(threads: int) -> None:
    driver = Driver(backend="pipelined-appends-test")
    driver.create_topic("t")
    topic = driver.open_topic("t")
    pool = driver.make_thread_pool(threads) if threads else None
    producer = topic.producer(batch_size=2, max_num_batches=8, thread_pool=pool)
    futures = [producer.push({"i": i}) for i in range(6)]
    # Three batches started while none was answered: the window of the backend.
    assert _started_at_least(3) == [2, 2, 2]
    flushed = producer.flush()
    assert not futures[0].completed and not flushed.completed
    GATE.set()
    assert flushed.wait(10_000)
    assert [future.wait(10_000) for future in futures] == list(range(6))
    producer.close()
    consumer = topic.consumer("c", data_allocator=None)
    assert [consumer.pull().wait(10_000).metadata["i"] for _ in range(6)] == list(range(6))


def test_a_failed_append_fails_only_its_batch() -> None:
    FAIL_BATCH.append(1)
    driver = Driver(backend="pipelined-appends-test")
    driver.create_topic("t")
    producer = driver.open_topic("t").producer(batch_size=2)
    futures = [producer.push({"i": i}) for i in range(6)]
    GATE.set()
    with pytest.raises(api.EventsNotStored, match="append refused") as raised:
        producer.flush().wait(10_000)
    assert raised.value.failed == 2
    assert [futures[i].wait(10_000) for i in (0, 1, 4, 5)] == [0, 1, 2, 3]
    for future in futures[2:4]:
        with pytest.raises(Exception, match="append refused"):
            future.wait(10_000)
    producer.close()


def test_adaptive_batches_are_pipelined_and_keep_push_order() -> None:
    GATE.set()
    driver = Driver(backend="pipelined-appends-test")
    driver.create_topic("t")
    producer = driver.open_topic("t").producer()  # adaptive batch size
    futures = [producer.push({"i": i}) for i in range(300)]
    assert producer.flush().wait(10_000)
    assert [future.wait(10_000) for future in futures] == list(range(300))
    assert sum(STARTED) == 300
    producer.close()


def test_push_many_batches_are_pipelined_as_records() -> None:
    # The batches push_many fills column by column start as AppendRecords on such a backend.
    GATE.set()
    driver = Driver(backend="pipelined-appends-test")
    driver.create_topic("t")
    topic = driver.open_topic("t")
    producer = topic.producer(batch_size=4)
    producer.push({"i": 0})
    batch = producer.push_many([{"i": i} for i in range(1, 10)])
    assert producer.flush().wait(10_000)
    assert batch.wait(10_000) == list(range(1, 10))
    assert STARTED == [4, 4, 2]
    producer.close()
    consumer = topic.consumer("c", data_allocator=None)
    assert [event.metadata["i"] for event in consumer.pull_many(10, timeout_ms=0)] == list(
        range(10)
    )
