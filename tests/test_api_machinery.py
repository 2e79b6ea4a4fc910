"""The generic producer/consumer machinery over log-level backends: ids, batching, visibility,
back-pressure, ordering, closing, and draining at interpreter exit."""

from __future__ import annotations

import subprocess
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from api_helpers import PYTHON, Backend, drain, pull_one, subprocess_env

from diaspora_stream.api import (
    AdaptiveBatchSize,
    AppendRecord,
    ClosedError,
    Driver,
    Exception,  # noqa: A004 - the reference's public name
    Ordering,
    TopicHandle,
    register_driver,
)
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic

MakeTopic = Callable[..., TopicHandle]


# ----------------------------------------------------------- a deliberately slow backend


class GatedMemoryTopic(MemoryTopic):
    """A memory topic whose ``append`` waits for a gate and sleeps ``delay`` seconds."""

    def __init__(self, name: str, store: Any, driver: GatedMemoryDriver) -> None:
        super().__init__(name, store)
        self._driver = driver

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        driver = self._driver
        with driver.lock:
            driver.appends_started += 1
            driver.batch_sizes.append(len(records))
            for probe in driver.probes:
                probe()
        if not driver.gate.wait(30):
            raise RuntimeError("gate never opened")
        if driver.delay:
            time.sleep(driver.delay)
        return super().append(partition, records)


class GatedMemoryDriver(MemoryDriver):
    """``memory`` with a slow ``append`` (options: ``delay_ms``)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()
        self.appends_started = 0
        self.batch_sizes: list[int] = []
        self.probes: list[Callable[[], None]] = []

    @classmethod
    def create(cls, options: dict[str, Any]) -> GatedMemoryDriver:
        return cls(float(options.get("delay_ms", 0)) / 1000.0)

    def open_topic(self, name: str) -> MemoryTopic:
        super().open_topic(name)  # raises if missing
        return GatedMemoryTopic(name, self._topics[name], self)


register_driver("test_gated_memory", GatedMemoryDriver)


def _gated(delay_ms: float = 0, num_partitions: int = 1) -> tuple[GatedMemoryDriver, TopicHandle]:
    driver = Driver(backend="test_gated_memory", options={"delay_ms": delay_ms})
    driver.create_topic("gated", options={"num_partitions": num_partitions})
    log_driver = driver.interface.log_driver  # type: ignore[attr-defined]
    assert isinstance(log_driver, GatedMemoryDriver)
    return log_driver, driver.open_topic("gated")


def _stored(topic: TopicHandle, partition: int = 0) -> int:
    return topic._impl.log_topic.event_count(partition)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- ids


def test_push_ids_are_dense_and_exact_per_partition(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=3)
    producer = topic.producer()
    futures = [(i, i % 3, producer.push({"i": i}, partition=i % 3)) for i in range(30)]
    producer.flush().wait()
    per_partition: dict[int, list[int]] = defaultdict(list)
    id_of = {}
    for i, partition, future in futures:
        event_id = future.wait(1000)
        per_partition[partition].append(event_id)
        id_of[i] = (partition, event_id)
    assert per_partition == {p: list(range(10)) for p in range(3)}
    for event in drain(topic.consumer("c")):
        assert id_of[event.metadata["i"]] == (event.partition_index, event.event_id)


def test_round_robin_default_selector(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=3)
    producer = topic.producer()
    futures = [producer.push({"i": i}) for i in range(12)]
    producer.flush().wait()
    assert [f.wait(1000) for f in futures] == [i // 3 for i in range(12)]
    events = drain(topic.consumer("c"))
    assert sorted((e.partition_index, e.event_id, e.metadata["i"]) for e in events) == sorted(
        (i % 3, i // 3, i) for i in range(12)
    )


@pytest.mark.parametrize("threads", [0, 2])
def test_concurrent_producers_get_distinct_dense_ids(make_topic: MakeTopic, threads: int) -> None:
    topic = make_topic(num_partitions=1)
    results: dict[int, list[tuple[int, int]]] = {}
    errors: list[BaseException] = []

    def produce(p: int) -> None:
        try:
            pool = topic.driver.make_thread_pool(threads) if threads else None
            producer = topic.producer(f"p{p}", thread_pool=pool)
            futures = [(i, producer.push({"p": p, "i": i})) for i in range(50)]
            producer.flush().wait()
            results[p] = [(i, f.wait(1000)) for i, f in futures]
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    workers = [threading.Thread(target=produce, args=(p,)) for p in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert not errors, errors
    ids = sorted(event_id for pairs in results.values() for _, event_id in pairs)
    assert ids == list(range(200))
    expected = {(p, i): event_id for p, pairs in results.items() for i, event_id in pairs}
    for pairs in results.values():  # each producer's ids grow in push order
        assert [event_id for _, event_id in pairs] == sorted(event_id for _, event_id in pairs)
    for event in drain(topic.consumer("c")):
        assert expected[(event.metadata["p"], event.metadata["i"])] == event.event_id


# ----------------------------------------------------------------------- batching


def test_fixed_batch_is_invisible_until_full_or_flushed(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer(batch_size=10)
    consumer = topic.consumer("c")
    for i in range(5):
        producer.push({"i": i})
    assert consumer.pull().wait(100) is None
    for i in range(5, 10):
        producer.push({"i": i})
    assert [e.metadata["i"] for e in drain(consumer, timeout_ms=2000, limit=10)] == list(range(10))
    for i in range(10, 13):
        producer.push({"i": i})
    assert consumer.pull().wait(100) is None
    assert producer.flush().wait(5000) is True
    assert [e.metadata["i"] for e in drain(consumer, timeout_ms=2000, limit=3)] == [10, 11, 12]


def test_fixed_batch_threaded_pool_becomes_visible_when_full(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer(batch_size=10, thread_pool=topic.driver.make_thread_pool(2))
    consumer = topic.consumer("c")
    for i in range(10):
        producer.push({"i": i})
    assert sorted(e.metadata["i"] for e in drain(consumer, 3000, limit=10)) == list(range(10))


@pytest.mark.parametrize("threads", [0, 1, 2])
@pytest.mark.parametrize("ordering", [Ordering.Strict, Ordering.Loose], ids=["strict", "loose"])
def test_waiting_on_a_push_future_sends_its_batch(
    make_topic: MakeTopic, threads: int, ordering: Ordering
) -> None:
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(threads) if threads else None
    producer = topic.producer(batch_size=1000, thread_pool=pool, ordering=ordering)
    futures = [producer.push({"i": i}) for i in range(3)]
    consumer = topic.consumer("c")
    # Each wait sends the batch holding that event (with a threaded pool, an event prepared
    # after the batch was sent goes to the next batch, which its own wait sends).
    for number in (2, 0, 1):
        event_id = futures[number].wait(5000)
        assert event_id is not None
        assert futures[number].wait() == event_id  # complete: an unbounded wait returns
    events = drain(consumer, timeout_ms=2000, limit=3)
    assert sorted(e.metadata["i"] for e in events) == [0, 1, 2]
    assert {e.event_id for e in events} == {f.wait(0) for f in futures}
    if ordering == Ordering.Strict:
        assert [f.wait(1000) for f in futures] == [0, 1, 2]


def test_waiting_on_a_push_future_sends_only_its_batch(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=2)
    producer = topic.producer(batch_size=1000)
    first = producer.push({"i": 0}, partition=0)
    producer.push({"i": 1}, partition=1)
    assert first.wait(5000) == 0
    events = drain(topic.consumer("c"), timeout_ms=100)
    assert [(e.partition_index, e.metadata["i"]) for e in events] == [(0, 0)]


@pytest.mark.parametrize("threads", [0, 2])
def test_adaptive_batches_become_visible_without_flush(make_topic: MakeTopic, threads: int) -> None:
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(threads) if threads else None
    producer = topic.producer(batch_size=AdaptiveBatchSize, thread_pool=pool)
    consumer = topic.consumer("c")
    for i in range(20):
        producer.push({"i": i})
    events = drain(consumer, timeout_ms=5000, limit=20)
    assert [e.metadata["i"] for e in events] == list(range(20))
    producer.push({"i": 20})
    assert pull_one(consumer).metadata["i"] == 20


def test_adaptive_batches_grow_while_the_backend_is_busy() -> None:
    log_driver, topic = _gated(delay_ms=30)
    producer = topic.producer()
    for i in range(50):
        producer.push({"i": i})
    assert producer.flush().wait(10000)
    assert sum(log_driver.batch_sizes) == 50
    assert len(log_driver.batch_sizes) < 50  # pushes made while busy were grouped
    assert [e.metadata["i"] for e in drain(topic.consumer("c"))] == list(range(50))


# ------------------------------------------------------------------- back-pressure


def test_push_blocks_while_max_num_batches_are_pending() -> None:
    log_driver, topic = _gated()
    log_driver.gate.clear()
    producer = topic.producer(batch_size=1, max_num_batches=2)
    returned: list[int] = []

    def push_all() -> None:
        for i in range(10):
            producer.push({"i": i})
            returned.append(i)

    pusher = threading.Thread(target=push_all)
    pusher.start()
    time.sleep(0.3)
    assert pusher.is_alive(), "push did not block although the backend stores nothing"
    assert len(returned) <= 2
    assert _stored(topic) == 0
    log_driver.gate.set()
    pusher.join(10)
    assert not pusher.is_alive()
    assert returned == list(range(10))
    assert producer.flush().wait(5000)
    assert [(e.event_id, e.metadata["i"]) for e in drain(topic.consumer("c"))] == [
        (i, i) for i in range(10)
    ]


@pytest.mark.parametrize("threads", [0, 1, 4])
def test_back_pressure_bounds_pending_batches_and_loses_nothing(threads: int) -> None:
    log_driver, topic = _gated(delay_ms=5)
    pool = topic.driver.make_thread_pool(threads) if threads else None
    producer = topic.producer(batch_size=2, max_num_batches=2, thread_pool=pool)
    impl = producer._impl
    observed: list[int] = []
    log_driver.probes.append(lambda: observed.append(impl._unfinished_batches))
    lag: list[int] = []
    for i in range(40):
        producer.push({"i": i})
        if not threads:
            # pushed - stored <= open batch + max_num_batches sealed batches
            lag.append(i + 1 - _stored(topic))
    assert producer.flush().wait(10000)
    assert max(observed) <= 2
    assert max(lag, default=0) <= (2 + 1) * 2
    events = drain(topic.consumer("c"))
    assert sorted(e.metadata["i"] for e in events) == list(range(40))
    assert [e.event_id for e in events] == list(range(40))


# ------------------------------------------------------------------------ ordering


@pytest.mark.parametrize("explicit_partition", [True, False], ids=["explicit", "round_robin"])
def test_strict_ordering_with_eight_threads(
    make_topic: MakeTopic, explicit_partition: bool
) -> None:
    topic = make_topic(num_partitions=3)
    producer = topic.producer(
        ordering=Ordering.Strict, thread_pool=topic.driver.make_thread_pool(8), batch_size=16
    )
    count = 3000
    for i in range(count):
        producer.push({"i": i}, partition=i % 3 if explicit_partition else None)
    assert producer.flush().wait(30000)
    events = drain(topic.consumer("c"))
    assert len(events) == count
    per_partition: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for event in events:
        per_partition[event.partition_index].append((event.event_id, event.metadata["i"]))
    for partition, pairs in per_partition.items():
        pairs.sort()
        assert [event_id for event_id, _ in pairs] == list(range(len(pairs)))
        numbers = [i for _, i in pairs]
        assert numbers == sorted(numbers), f"partition {partition} is out of push order"
        if explicit_partition:
            assert all(i % 3 == partition for i in numbers)


def test_loose_ordering_delivers_everything(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=2)
    producer = topic.producer(ordering=Ordering.Loose, thread_pool=topic.driver.make_thread_pool(8))
    futures = [producer.push({"i": i}, bytes([i % 256]) * (i % 7)) for i in range(1000)]
    assert producer.flush().wait(30000)
    assert all(f.completed for f in futures)
    events = drain(topic.consumer("c"))
    assert sorted(e.metadata["i"] for e in events) == list(range(1000))
    for event in events:
        i = event.metadata["i"]
        assert bytes(event.data[0]) == bytes([i % 256]) * (i % 7)
    for partition in (0, 1):
        ids = sorted(e.event_id for e in events if e.partition_index == partition)
        assert ids == list(range(len(ids)))


# ------------------------------------------------------------------ closing


def test_producer_close_stores_everything(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer(batch_size=100)
    for i in range(5):
        producer.push({"i": i})
    producer.close()
    assert [e.metadata["i"] for e in drain(topic.consumer("c"))] == list(range(5))
    with pytest.raises(ClosedError):
        producer.push({"i": 5})
    with pytest.raises(ClosedError):
        producer.flush()
    producer.close()  # closing again is harmless
    assert issubclass(ClosedError, Exception)


@pytest.mark.parametrize("threads", [0, 2])
def test_producer_with_block(make_topic: MakeTopic, threads: int) -> None:
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(threads) if threads else None
    with topic.producer(batch_size=100, thread_pool=pool) as producer:
        futures = [producer.push({"i": i}) for i in range(7)]
    assert all(f.completed for f in futures)
    assert sorted(f.wait(0) for f in futures) == list(range(7))
    assert sorted(e.metadata["i"] for e in drain(topic.consumer("c"))) == list(range(7))
    with pytest.raises(ClosedError):
        producer.push({})


def test_producer_with_block_on_error_still_stores(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    with pytest.raises(KeyError), topic.producer(batch_size=100) as producer:
        producer.push({"i": 0})
        raise KeyError("user error")
    assert [e.metadata["i"] for e in drain(topic.consumer("c"))] == [0]


def test_consumer_close(topic: TopicHandle) -> None:
    producer = topic.producer()
    producer.push({"i": 0})
    producer.push({"i": 1})
    producer.flush().wait()
    with topic.consumer("c") as consumer:
        event = pull_one(consumer)
    with pytest.raises(ClosedError):
        consumer.pull()
    with pytest.raises(ClosedError):
        event.acknowledge()


# ---------------------------------------------------------------- draining at exit

_EXIT_SCRIPT = """
import sys
from diaspora_stream.api import AdaptiveBatchSize, Driver

driver = Driver(backend={backend!r}, options={options!r})
topic = driver.open_topic({topic!r})
scope, kind = sys.argv[1].split("_")

def make_producer():
    if kind == "fixed":
        return topic.producer("p", batch_size=1000)
    if kind == "adaptive":
        return topic.producer("p", batch_size=AdaptiveBatchSize)
    return topic.producer("p", batch_size=1000, thread_pool=driver.make_thread_pool(2))

def push_all(producer):
    for i in range(40):
        producer.push({{"i": i}}, b"x" * i)

def push_from_a_function():
    push_all(make_producer())  # the producer is dropped when this returns

if scope == "global":
    producer = make_producer()
    push_all(producer)
else:
    push_from_a_function()
print("exiting without flush")
"""


@pytest.mark.parametrize("scope", ["global", "dropped"])
@pytest.mark.parametrize("kind", ["fixed", "adaptive", "threaded"])
def test_events_pushed_without_flush_are_stored_at_exit(
    backend: Backend, scope: str, kind: str
) -> None:
    mode = f"{scope}_{kind}"
    if not backend.persistent:
        pytest.skip("needs a backend whose topics outlive the process")
    driver = backend.driver()
    name = f"exit_{mode}"
    driver.create_topic(name, options={"num_partitions": 1})
    script = _EXIT_SCRIPT.format(backend=backend.name, options=backend.options, topic=name)
    result = subprocess.run(
        [PYTHON, "-c", textwrap.dedent(script), mode],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "exiting without flush" in result.stdout
    events = drain(backend.reopen_driver().open_topic(name).consumer("c"))
    assert sorted(e.metadata["i"] for e in events) == list(range(40))
    for event in events:
        assert bytes(event.data[0]) == b"x" * event.metadata["i"]
