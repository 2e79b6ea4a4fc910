"""A flush covers every event pushed before it: lost events make it raise ``EventsNotStored``.

The generic log-level producer is run on a memory backend whose ``append`` fails while a switch
is on, with every batching path: stored by the pushing thread (0-thread pool), by the sender
thread (thread pool), and pipelined (``appends_in_flight > 1``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from diaspora_stream import api
from diaspora_stream.backend.log import AppendRecord, LogTopic
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic
from diaspora_stream.registry import register_driver

#: While set, every append raises (a full disk, a server gone).
FAILING = threading.Event()


class _FailingTopic(MemoryTopic):
    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        if FAILING.is_set():
            raise OSError(28, "No space left on device")
        return super().append(partition, records)


class _PipelinedFailingTopic(_FailingTopic):
    appends_in_flight = 3

    def start_append(self, partition: int, records: Sequence[AppendRecord]) -> Callable[[], int]:
        try:
            first = self.append(partition, records)
        except OSError as error:
            failure = error

            def refused() -> int:
                raise failure

            return refused
        return lambda: first


def _driver_of(topic_class: type[MemoryTopic]) -> type[MemoryDriver]:
    class _Driver(MemoryDriver):
        def open_topic(self, name: str) -> LogTopic:
            plain = super().open_topic(name)
            assert isinstance(plain, MemoryTopic)
            return topic_class(name, plain._store)

    return _Driver


register_driver("flush-failures-test", _driver_of(_FailingTopic))
register_driver("flush-failures-pipelined-test", _driver_of(_PipelinedFailingTopic))

BACKENDS = ["flush-failures-test", "flush-failures-pipelined-test"]


@pytest.fixture(autouse=True)
def _storage_works() -> None:
    FAILING.clear()


def _producer(backend: str, threads: int) -> api.Producer:
    driver = api.Driver(backend=backend)
    driver.create_topic("t", options={"num_partitions": 2})
    pool = driver.make_thread_pool(threads) if threads else None
    return driver.open_topic("t").producer(batch_size=4, thread_pool=pool)


@pytest.mark.parametrize("threads", [0, 2])
@pytest.mark.parametrize("backend", BACKENDS)
def test_flush_raises_the_count_and_first_cause_of_lost_events(backend: str, threads: int) -> None:
    producer = _producer(backend, threads)
    stored = [producer.push({"n": n}, partition=0) for n in range(6)]
    assert producer.flush().wait() is True
    FAILING.set()
    lost = [producer.push({"n": n}, partition=n % 2) for n in range(10)]
    with pytest.raises(api.EventsNotStored) as raised:
        producer.flush().wait()
    assert isinstance(raised.value, api.Exception)
    assert raised.value.failed == 10
    assert "No space left on device" in str(raised.value.first_cause)
    assert "10 event(s)" in str(raised.value)
    for future in lost:  # each push future keeps its own error
        with pytest.raises(api.Exception, match="No space left"):
            future.wait()
    assert [future.wait() for future in stored] == list(range(6))


@pytest.mark.parametrize("threads", [0, 2])
@pytest.mark.parametrize("backend", BACKENDS)
def test_flush_after_the_reported_loss_returns_true_once_storage_recovered(
    backend: str, threads: int
) -> None:
    producer = _producer(backend, threads)
    FAILING.set()
    producer.push({"lost": True})
    with pytest.raises(api.EventsNotStored):
        producer.flush().wait()
    FAILING.clear()
    future = producer.push({"lost": False})
    assert producer.flush().wait() is True
    assert future.wait() == 0


def test_every_flush_pending_when_events_are_lost_reports_them() -> None:
    producer = _producer("flush-failures-test", 2)
    FAILING.set()
    producer.push({"n": 1})
    first, second = producer.flush(), producer.flush()
    for flush in (first, second):
        with pytest.raises(api.EventsNotStored) as raised:
            flush.wait()
        assert raised.value.failed == 1
