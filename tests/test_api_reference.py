"""The reference's own tests (reference-api.md §9.3 Python tests, and the §9.2 C++ tests that make
sense from Python), written to the reference's call conventions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import LETTERS, UPPER, Backend, assert_no_more, drain, pull_one, unique_name

import diaspora_stream.api as api
from diaspora_stream.api import (
    AdaptiveBatchSize,
    ByteArrayAllocator,
    Consumer,
    DataDescriptor,
    Driver,
    Exception,  # noqa: A004 - the reference's public name shadows the builtin on purpose
    FullDataSelector,
    FutureEvent,
    FutureFlushed,
    FutureUint,
    Ordering,
    PartitionSelector,
    Producer,
    Serializer,
    ThreadPool,
    TopicHandle,
    Validator,
)

MakeTopic = Callable[..., TopicHandle]

#: The wait of each push in the threaded tests: the reference waits 1 s, too short on a loaded
#: test machine (parallel workers, brokers) for a push that must succeed.
PUSH_WAIT_MS = 10_000


# ------------------------------------------------------------- public names (§2.1, design §3)


def test_public_names() -> None:
    for name in (
        "ClientException",
        "Exception",
        "AdaptiveBatchSize",
        "Driver",
        "Validator",
        "ThreadPool",
        "Ordering",
        "Serializer",
        "PartitionSelector",
        "TopicHandle",
        "Producer",
        "Consumer",
        "DataDescriptor",
        "Event",
        "FutureUint",
        "FutureEvent",
        "FutureFlushed",
        "FullDataSelector",
        "ByteArrayAllocator",
        "StopEventProcessor",
        "NoMoreEvents",
    ):
        assert hasattr(api, name), name
    assert api.ClientException is api.Exception
    assert issubclass(api.Exception, RuntimeError)
    assert api.Exception.__name__ == "Exception"
    assert AdaptiveBatchSize == 2**64 - 1
    assert api.NoMoreEvents == 2**64 - 1
    assert Ordering.Strict.value == 1 and Ordering.Loose.value == 0
    assert {"Strict", "Loose"} <= set(Ordering.__members__)


# ----------------------------------------------------------------- test_driver_factory.py


def test_create_driver(backend: Backend) -> None:
    driver = Driver(backend=backend.name, options=backend.options)
    assert isinstance(driver, Driver)


@pytest.mark.parametrize(
    "name",
    [
        "unknown:libunknown.so",
        "unknown",
        "unknown:diaspora_stream.backends.memory",  # the module imports, the name is not there
        "unknown:no_such_module_for_diaspora_tests",
    ],
)
def test_create_driver_unknown(name: str) -> None:
    with pytest.raises(Exception):
        Driver(backend=name)


def test_driver_arguments_are_keyword_only(backend: Backend) -> None:
    with pytest.raises(TypeError):
        Driver(backend.name)  # type: ignore[misc]


def test_simple_is_an_alias_of_memory() -> None:
    driver = Driver(backend="simple", options={})
    driver.create_topic("t")
    assert driver.topic_exists("t")


# ------------------------------------------------------------------------ test_driver.py


def test_driver_create_open_topic(driver: Driver, backend: Backend) -> None:
    name = unique_name("my_topic")
    assert driver.topic_exists(name) is False
    with pytest.raises(Exception):
        driver.open_topic(name)
    driver.create_topic(name, options=backend.topic_options())
    assert driver.topic_exists(name) is True
    topic = driver.open_topic(name)
    assert isinstance(topic, TopicHandle)
    # DriverTest.cpp: creating it again throws, another name does not open.
    with pytest.raises(Exception):
        driver.create_topic(name, options=backend.topic_options())
    with pytest.raises(Exception):
        driver.open_topic(name + "2")
    assert len(topic.partitions) == backend.topic_args.get("num_partitions", 1)


def test_driver_default_thread_pool(driver: Driver) -> None:
    pool = driver.default_thread_pool
    assert isinstance(pool, ThreadPool)
    assert pool is driver.default_thread_pool
    assert pool.thread_count == 0


def test_driver_make_thread_pool(driver: Driver) -> None:
    pool = driver.make_thread_pool(1)
    assert isinstance(pool, ThreadPool)
    assert pool.thread_count == 1
    assert driver.make_thread_pool(count=3).thread_count == 3


def test_driver_list_topics(driver: Driver, backend: Backend) -> None:
    topic1, topic2 = unique_name("topic1"), unique_name("topic2")
    driver.create_topic(topic1, options=backend.topic_options())
    driver.create_topic(topic2, options=backend.topic_options())
    topics = driver.list_topics()
    assert isinstance(topics, dict)
    assert len(topics) >= 2
    assert topic1 in topics and topic2 in topics
    for info in topics.values():
        assert isinstance(info, dict)
        for key in ("validator", "serializer", "partition_selector"):
            if key in info:
                assert isinstance(info[key], dict)
    assert topics[topic1]["num_partitions"] == backend.topic_args.get("num_partitions", 1)


# ------------------------------------------------------------------ test_topic_handle.py


def test_topic_handle(driver: Driver) -> None:
    name = unique_name("my_topic")
    driver.create_topic(name)
    topic = driver.open_topic(name)
    assert isinstance(topic, TopicHandle)
    assert topic.name == name
    assert len(topic.partitions) == 1
    assert topic.partitions == [topic.partitions[0]]
    assert isinstance(topic.partitions[0], dict)


# ---------------------------------------------------------------------- test_producer.py


def test_create_producer(driver: Driver, topic: TopicHandle) -> None:
    thread_pool = driver.default_thread_pool
    producer = topic.producer(
        "my_producer",
        batch_size=32,
        max_num_batches=4,
        thread_pool=thread_pool,
        options={},
        ordering=Ordering.Loose,
    )
    assert isinstance(producer, Producer)
    assert producer.name == "my_producer"
    assert producer.topic == topic
    assert producer.topic is topic
    assert producer.thread_pool == thread_pool
    assert producer.batch_size == 32
    assert producer.max_num_batches == 4
    # ProducerTest.cpp
    other = topic.producer("myproducer")
    assert other.name == "myproducer"
    assert other.topic.name == topic.name
    assert other.thread_pool is not None
    assert other.batch_size == AdaptiveBatchSize


def test_produce_events_without_data(topic: TopicHandle) -> None:
    producer = topic.producer()
    ids = []
    for i in range(10):
        future = producer.push({"i": i})
        assert isinstance(future, FutureUint)
        ids.append(future.wait(timeout_ms=100))
    flushed = producer.flush()
    assert isinstance(flushed, FutureFlushed)
    assert flushed.wait(timeout_ms=1000) is True
    if len(topic.partitions) == 1:
        assert ids == list(range(10))


# ---------------------------------------------------------------------- test_consumer.py


def test_create_consumer(topic: TopicHandle) -> None:
    consumer = topic.consumer("my_consumer")
    assert isinstance(consumer, Consumer)
    assert consumer.name == "my_consumer"
    assert consumer.topic == topic
    assert consumer.thread_pool is not None
    assert consumer.batch_size > 0
    assert consumer.max_num_batches > 0


def test_consume_events_iterator(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    for i in range(10):
        producer.push({"index": i, "value": f"event_{i}"}).wait(timeout_ms=100)
    producer.flush().wait(timeout_ms=1000)
    consumer = topic.consumer("my_consumer")
    count = 0
    started = time.monotonic()
    for event in consumer:
        if event.event_id is None:
            break
        assert event.event_id == count
        assert event.metadata is not None
        assert event.metadata == {"index": count, "value": f"event_{count}"}
        event.acknowledge()
        count += 1
        if count == 10:
            break
    assert count == 10
    assert time.monotonic() - started < 5


def test_iteration_stops_when_no_event_arrives(make_topic: MakeTopic, monkeypatch: Any) -> None:
    import diaspora_stream.consumer as consumer_module

    monkeypatch.setattr(consumer_module, "ITERATION_TIMEOUT_MS", 100)
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    for i in range(3):
        producer.push({"index": i})
    producer.flush().wait()
    events = list(topic.consumer("c"))
    assert [event.metadata["index"] for event in events] == [0, 1, 2]


def test_consume_events_pull(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    for i in range(5):
        producer.push({"index": i}).wait(timeout_ms=100)
    producer.flush().wait(timeout_ms=1000)
    consumer = topic.consumer("my_consumer")
    for i in range(5):
        future = consumer.pull()
        assert isinstance(future, FutureEvent)
        event = None
        while event is None:
            event = future.wait(timeout_ms=100)
        assert event.event_id == i
        assert event.metadata["index"] == i
        event.acknowledge()
    event = consumer.pull().wait(timeout_ms=100)
    assert event is None or event.event_id is None


def test_custom_data_broker(topic: TopicHandle) -> None:
    producer = topic.producer()
    producer.push({"id": 1}, b"hello world")
    producer.flush().wait(timeout_ms=1000)
    returned: list[Any] = []

    def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
        buffers = [bytearray(descriptor.size)]
        returned.append(buffers)
        return buffers

    consumer = topic.consumer(
        "my_consumer", data_selector=lambda md, d: d, data_allocator=allocator
    )
    event = next(iter(consumer))
    assert event.event_id is not None
    assert isinstance(event.data, list)
    assert len(event.data) == 1
    assert isinstance(event.data[0], bytearray)
    assert event.data[0] == b"hello world"
    assert event.data is returned[0]


def test_full_data_selector_and_bytearray_allocator(topic: TopicHandle) -> None:
    producer = topic.producer()
    producer.push({"id": 1}, [b"hello ", b"world"])
    producer.flush().wait()
    consumer = topic.consumer(
        "c", data_selector=FullDataSelector, data_allocator=ByteArrayAllocator
    )
    event = pull_one(consumer)
    assert event.data == [bytearray(b"hello world")]
    descriptor = DataDescriptor("x", 7)
    assert FullDataSelector({}, descriptor) is descriptor
    assert ByteArrayAllocator({}, descriptor) == [bytearray(7)]


def test_default_consumer_data_is_one_memoryview(topic: TopicHandle) -> None:
    producer = topic.producer()
    producer.push({"id": 1}, b"hello")
    producer.push({"id": 2})
    producer.flush().wait()
    consumer = topic.consumer("c")
    first, second = pull_one(consumer), pull_one(consumer)
    by_id = {e.metadata["id"]: e for e in (first, second)}
    data = by_id[1].data
    assert isinstance(data, list) and len(data) == 1
    assert isinstance(data[0], memoryview)
    assert data[0].format == "B" and not data[0].readonly
    assert bytes(data[0]) == b"hello"
    assert [bytes(view) for view in by_id[2].data] in ([b""], [])


# ------------------------------------------------- test_concurrent_producer_consumer.py


def _run_concurrently(
    topic: TopicHandle,
    producers: list[Callable[[], int]],
    expected: int,
    consumer_delay_s: float = 0.0,
    timeout_s: float = 30.0,
) -> tuple[list[int], int, list[BaseException]]:
    errors: list[BaseException] = []
    produced: list[int] = []
    consumed = 0
    lock = threading.Lock()

    def consume() -> None:
        nonlocal consumed
        try:
            consumer = topic.consumer("consumer")
            deadline = time.monotonic() + timeout_s
            while consumed < expected:
                if time.monotonic() > deadline:
                    raise AssertionError(f"timeout: consumed {consumed}/{expected}")
                event = consumer.pull().wait(timeout_ms=100)
                if event and event.event_id is not None:
                    event.acknowledge()
                    consumed += 1
                    if consumer_delay_s:
                        time.sleep(consumer_delay_s)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    def produce(function: Callable[[], int]) -> None:
        try:
            count = function()
            with lock:
                produced.append(count)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    consumer_thread = threading.Thread(target=consume)
    consumer_thread.start()
    time.sleep(0.1)
    threads = [threading.Thread(target=produce, args=(f,)) for f in producers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    consumer_thread.join(timeout_s)
    assert not consumer_thread.is_alive()
    return produced, consumed, errors


def _producer_task(
    topic: TopicHandle,
    name: str,
    metadata: Callable[[int], Any],
    count: int,
    data: Callable[[int], bytes] | None = None,
) -> Callable[[], int]:
    def run() -> int:
        producer = topic.producer(name)
        for i in range(count):
            if data is None:
                event_id = producer.push(metadata(i)).wait(timeout_ms=PUSH_WAIT_MS)
            else:
                event_id = producer.push(metadata(i), data(i)).wait(timeout_ms=PUSH_WAIT_MS)
            assert event_id is not None
        assert producer.flush().wait(timeout_ms=5000)
        return count

    return run


def test_simultaneous_produce_consume(topic: TopicHandle) -> None:
    produced, consumed, errors = _run_concurrently(
        topic, [_producer_task(topic, "producer", lambda i: {"index": i}, 50)], 50
    )
    assert not errors, errors
    assert produced == [50]
    assert consumed == 50


def test_producer_faster_than_consumer(topic: TopicHandle) -> None:
    produced, consumed, errors = _run_concurrently(
        topic,
        [
            _producer_task(
                topic,
                "producer",
                lambda i: {"index": i, "data": f"event_{i}"},
                30,
                lambda i: f"Event data {i}".encode(),
            )
        ],
        30,
        consumer_delay_s=0.01,
    )
    assert not errors, errors
    assert produced == [30]
    assert consumed == 30


def test_multiple_producers_single_consumer(topic: TopicHandle) -> None:
    tasks = [
        _producer_task(topic, f"producer_{p}", lambda i, p=p: {"producer": p, "index": i}, 20)
        for p in range(3)
    ]
    produced, consumed, errors = _run_concurrently(topic, tasks, 60)
    assert not errors, errors
    assert sorted(produced) == [20, 20, 20]
    assert consumed == 60


def test_cpp_single_producer_and_consumer_1000(make_topic: MakeTopic) -> None:
    """ConcurrentProducerConsumerTest.cpp section 1; also checks the order and the ids."""
    topic = make_topic(num_partitions=1)
    received: list[Any] = []
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            producer = topic.producer("producer", thread_pool=topic.driver.default_thread_pool)
            for i in range(1000):
                assert producer.push({"index": i}).wait(timeout_ms=PUSH_WAIT_MS) == i
            assert producer.flush().wait(timeout_ms=5000)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    def consume() -> None:
        try:
            consumer = topic.consumer("consumer")
            deadline = time.monotonic() + 60
            while len(received) < 1000 and time.monotonic() < deadline:
                event = consumer.pull().wait(timeout_ms=100)
                if event is not None and event.event_id is not None:
                    event.acknowledge()
                    received.append(event)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=consume), threading.Thread(target=produce)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert [e.event_id for e in received] == list(range(1000))
    assert [e.metadata["index"] for e in received] == list(range(1000))


# ------------------------------------------------------------------ test_data_descriptor.py


def test_data_descriptor_basics() -> None:
    descriptor = DataDescriptor("test_location", 1024)
    assert descriptor.size == 1024 and descriptor.location == "test_location"
    empty = DataDescriptor()
    assert empty.size == 0 and empty.location == ""
    sub = descriptor.make_sub_view(offset=100, size=200)
    assert isinstance(sub, DataDescriptor)
    assert sub.size == 200 and sub.location == "test_location"
    # Like the reference: an offset past the end gives a brand-new empty descriptor.
    assert descriptor.make_sub_view(offset=1200, size=200) == DataDescriptor()
    assert descriptor.make_sub_view(offset=900, size=200).size == 124
    stride = descriptor.make_stride_view(offset=0, num_blocks=4, block_size=64, gap_size=192)
    assert stride.size == 256 and stride.location == "test_location"
    with pytest.raises(Exception):
        descriptor.make_stride_view(offset=0, num_blocks=4, block_size=128, gap_size=192)
    unstructured = descriptor.make_unstructured_view(segments=[(0, 100), (200, 100), (400, 100)])
    assert unstructured.size == 300 and unstructured.location == "test_location"
    with pytest.raises(Exception):
        descriptor.make_unstructured_view(segments=[(0, 100), (200, 100), (1000, 200)])
    with pytest.raises(Exception):
        descriptor.make_unstructured_view(segments=[(0, 200), (100, 200)])
    flat = descriptor.make_sub_view(offset=100, size=200).flatten()
    assert isinstance(flat, list) and len(flat) == 1
    assert flat == [(100, 200)]
    assert isinstance(flat[0], tuple)
    # the documented alias
    assert (
        descriptor.make_strided_view(offset=0, num_blocks=4, block_size=64, gap_size=192).flatten()
        == stride.flatten()
    )
    with pytest.raises(TypeError):
        DataDescriptor(location="x", size=3)  # type: ignore[call-overload]


# ----------------------------------------- test_validator/serializer/partition_selector.py

OBJECT_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "number"}},
}


def test_validator_from_metadata() -> None:
    assert isinstance(Validator.from_metadata(), Validator)
    assert isinstance(Validator.from_metadata(type="default"), Validator)
    assert isinstance(Validator.from_metadata(type="schema", schema=OBJECT_SCHEMA), Validator)
    with pytest.raises(Exception):
        Validator.from_metadata(type="schema")
    with pytest.raises(ValueError):
        Validator.from_metadata(type="schema", schema="not-an-object")
    assert isinstance(
        Validator.from_metadata(
            type="eventbridge", schema={"source": ["my.app"], "detail-type": ["my-event"]}
        ),
        Validator,
    )
    with pytest.raises(Exception):
        Validator.from_metadata(type="eventbridge")
    with pytest.raises(Exception):
        Validator.from_metadata(type="eventbridge", schema="not-an-object")
    with pytest.raises(Exception):
        Validator.from_metadata(type="unknown")
    with pytest.raises(Exception, match="expected string"):
        Validator.from_metadata(type=3)


def test_serializer_from_metadata() -> None:
    assert isinstance(Serializer.from_metadata(), Serializer)
    assert isinstance(Serializer.from_metadata(type="default"), Serializer)
    assert isinstance(Serializer.from_metadata(type="schema", schema=OBJECT_SCHEMA), Serializer)
    with pytest.raises(Exception):
        Serializer.from_metadata(type="schema")
    with pytest.raises(ValueError):
        Serializer.from_metadata(type="schema", schema="not-an-object")
    with pytest.raises(Exception):
        Serializer.from_metadata(type="unknown")


def test_partition_selector_from_metadata() -> None:
    assert isinstance(PartitionSelector.from_metadata(), PartitionSelector)
    assert isinstance(PartitionSelector.from_metadata(type="default"), PartitionSelector)
    with pytest.raises(Exception):
        PartitionSelector.from_metadata(type="unknown")
    with pytest.raises(Exception):
        PartitionSelector.from_metadata(type="unknown:libunknown.so")


def test_component_metadata_round_trip() -> None:
    assert Validator.from_metadata().metadata() == {"type": "default"}
    assert Validator.from_metadata(type="schema", schema=OBJECT_SCHEMA).metadata() == {
        "type": "schema",
        "schema": OBJECT_SCHEMA,
    }
    assert Serializer.from_metadata().metadata() == {"type": "default"}
    assert PartitionSelector.from_metadata().metadata() == {"type": "default"}


def test_schema_validator_on_a_topic(make_topic: MakeTopic) -> None:
    topic = make_topic(
        num_partitions=1, validator=Validator.from_metadata(type="schema", schema=OBJECT_SCHEMA)
    )
    producer = topic.producer()
    assert producer.push({"name": "a", "age": 3}).wait(timeout_ms=1000) == 0
    with pytest.raises(api.InvalidMetadata, match="Metadata does not comply to required schema"):
        producer.push({"name": 3}).wait(timeout_ms=1000)
    assert producer.push({"name": "b"}).wait(timeout_ms=1000) == 1
    producer.flush().wait()
    assert [e.metadata for e in drain(topic.consumer("c"))] == [
        {"name": "a", "age": 3},
        {"name": "b"},
    ]


def test_eventbridge_validation_on_a_topic(make_topic: MakeTopic) -> None:
    """EventbridgeTest.cpp, on a small pattern."""
    validator = Validator.from_metadata(
        type="eventbridge",
        schema={"source": ["my.app"], "n": [{"numeric": ["<", 42, ">=", 10]}]},
    )
    topic = make_topic(num_partitions=1, validator=validator)
    producer = topic.producer()
    assert producer.push({"source": "my.app", "n": 33}).wait(timeout_ms=1000) == 0
    with pytest.raises(Exception, match="eventbridge pattern"):
        producer.push({"source": "my.app", "n": 50}).wait(timeout_ms=1000)


# --------------------------------------------------------------- EventProducerTest.cpp


@pytest.mark.parametrize("threads", [0, 1, 2])
@pytest.mark.parametrize("batch_size", [AdaptiveBatchSize, 10], ids=["adaptive", "batch10"])
@pytest.mark.parametrize("ordering", [Ordering.Strict, Ordering.Loose], ids=["strict", "loose"])
@pytest.mark.parametrize("with_data", [False, True], ids=["nodata", "data"])
def test_event_producer(
    make_topic: MakeTopic, threads: int, batch_size: int, ordering: Ordering, with_data: bool
) -> None:
    topic = make_topic(num_partitions=1)
    driver = topic.driver
    pool = driver.make_thread_pool(threads) if threads else driver.default_thread_pool
    producer = topic.producer(
        "myproducer", batch_size=batch_size, thread_pool=pool, ordering=ordering
    )
    futures = []
    for i in range(100):
        if with_data:
            future = producer.push({"event_num": i}, f"This is some data for event {i}".encode())
        else:
            future = producer.push({"event_num": i})
        futures.append(future)
        if i % 5 == 4:
            if batch_size != AdaptiveBatchSize:
                assert producer.flush().wait(timeout_ms=1000) is True
            assert future.wait(timeout_ms=1000) is not None
    assert producer.flush().wait(timeout_ms=1000) is True
    ids = [future.wait(timeout_ms=1000) for future in futures]
    consumer = topic.consumer("check")
    events = drain(consumer, timeout_ms=2000, limit=100)
    assert_no_more(consumer, 10)
    assert len(events) == 100
    assert sorted(ids) == list(range(100))
    by_num = {e.metadata["event_num"]: e for e in events}
    assert sorted(by_num) == list(range(100))
    for i, future_id in enumerate(ids):
        event = by_num[i]
        assert event.event_id == future_id
        expected = f"This is some data for event {i}".encode() if with_data else b""
        assert b"".join(bytes(view) for view in event.data) == expected
    if ordering == Ordering.Strict:
        assert ids == list(range(100))
        assert [e.metadata["event_num"] for e in events] == list(range(100))


# -------------------------------------------------------------- EventConsumerTest.cpp


def _produce_event_consumer_events(topic: TopicHandle) -> None:
    producer = topic.producer("producer", thread_pool=topic.driver.default_thread_pool)
    for i in range(100):
        producer.push({"event_num": i}, f"This is data for event {i}".encode())
    assert producer.flush().wait(timeout_ms=1000)


def test_event_consumer_without_data(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    _produce_event_consumer_events(topic)
    consumer = topic.consumer("myconsumer", thread_pool=topic.driver.default_thread_pool)
    for i in range(100):
        event = pull_one(consumer)
        assert event.event_id == i
        assert event.metadata["event_num"] == i
        assert [bytes(v) for v in event.data] == [f"This is data for event {i}".encode()]
        if i % 5 == 0:
            event.acknowledge()
    for _ in range(3):
        assert_no_more(consumer, 30)


def test_event_consumer_with_data(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    _produce_event_consumer_events(topic)
    allocator_calls = []

    def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
        return descriptor if metadata["event_num"] % 2 == 0 else DataDescriptor()

    def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
        allocator_calls.append(metadata["event_num"])
        if metadata["event_num"] % 2 == 0:
            return [bytearray(descriptor.size)]
        assert descriptor.size == 0
        return []

    consumer = topic.consumer("myconsumer", data_selector=selector, data_allocator=allocator)
    for i in range(100):
        event = pull_one(consumer)
        assert event.event_id == i
        assert event.metadata["event_num"] == i
        if i % 5 == 0:
            event.acknowledge()
        if i % 2 == 0:
            assert len(event.data) == 1
            assert event.data[0] == f"This is data for event {i}".encode()
        else:
            assert len(event.data) == 0
    assert allocator_calls == list(range(100))
    assert_no_more(consumer, 100)


# ---------------------------------------------------------------- DataSelectionTest.cpp

SELECTIONS: dict[str, tuple[Callable[[DataDescriptor], DataDescriptor], bytes]] = {
    "no_data": (lambda d: DataDescriptor(), b""),
    "whole": (lambda d: d, LETTERS + UPPER),
    "sub_view": (lambda d: d.make_sub_view(offset=13, size=26), b"nopqrstuvwxyzABCDEFGHIJKLM"),
    "strided_view": (
        lambda d: d.make_stride_view(offset=13, num_blocks=3, block_size=4, gap_size=2),
        b"nopqtuvwzABC",
    ),
    "unstructured_view": (
        lambda d: d.make_unstructured_view(segments=[(3, 6), (15, 4), (27, 8)]),
        b"defghipqrsBCDEFGHI",
    ),
}


@pytest.mark.parametrize("selection", list(SELECTIONS))
def test_data_selection(make_topic: MakeTopic, selection: str) -> None:
    make_view, expected = SELECTIONS[selection]
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    producer.push({}, [LETTERS, UPPER])
    assert producer.flush().wait(timeout_ms=1000)

    def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
        return [bytearray(descriptor.size)] if descriptor.size else []

    consumer = topic.consumer(
        "consumer", data_selector=lambda md, d: make_view(d), data_allocator=allocator
    )
    event = pull_one(consumer)
    if expected:
        assert len(event.data) == 1
        assert bytes(event.data[0]) == expected
    else:
        assert event.data == []
    assert_no_more(consumer)
