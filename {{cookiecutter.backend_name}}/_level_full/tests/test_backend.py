"""Unit tests of the ``{{ cookiecutter.backend_name }}`` backend: its driver, producers and consumers.

They pin down, at the level where your code implements them, the rules of
``diaspora_stream.backend.full`` that this package owns: topics created once, batches that
give dense ids, flushes that report lost events, round-robin delivery, acknowledgements, and a
close that wakes waiting pulls (the conformance suite checks the rest through the public API).
Keep them passing while you replace the in-memory engine. Drivers get their options from
``conftest.py`` (``DRIVER_OPTIONS``, with a fresh ``"{tmp}"`` per test) and topics unique names,
so the tests hold for a backend whose topics persist.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from diaspora_stream.api import (
    ClosedError,
    DataDescriptor,
    Driver,
    EventsNotStored,
    TopicHandle,
)
from diaspora_stream.api import Exception as DiasporaException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from {{ cookiecutter.__package_name }} import (
    {{ cookiecutter.title }}Driver,
    {{ cookiecutter.title }}Producer,
)

#: Safety net of every wait (milliseconds): the operations complete long before.
WAIT_MS = 10_000


@pytest.fixture
def api(driver_options: dict[str, Any]) -> Iterator[Driver]:
    """The backend through diaspora-stream's public API, as users see it."""
    driver = Driver(backend="{{ cookiecutter.backend_name }}", options=driver_options)
    yield driver
    driver.close()


def new_topic(api: Driver, name: str, num_partitions: int = 1) -> TopicHandle:
    """Topic ``name``, created with ``num_partitions`` partitions and opened."""
    api.create_topic(name, options={"num_partitions": num_partitions})
    return api.open_topic(name)


def test_topics_are_created_once_and_listed(driver: {{ cookiecutter.title }}Driver, topic_name: str) -> None:
    driver.create_topic(topic_name, {"num_partitions": 3}, None, None, None)
    with pytest.raises(DiasporaException, match="already exists"):
        driver.create_topic(topic_name, {"num_partitions": 1}, None, None, None)
    assert driver.topic_exists(topic_name)
    assert not driver.topic_exists(topic_name + "-other")
    assert driver.list_topics()[topic_name] == {"name": topic_name, "num_partitions": 3}
    assert len(driver.open_topic(topic_name).partitions) == 3
    with pytest.raises(DiasporaException, match="Could not find topic"):
        driver.open_topic(topic_name + "-other")


def test_unknown_options_are_refused(driver_options: dict[str, Any]) -> None:
    with pytest.raises(DiasporaException, match="Unknown option"):
        {{ cookiecutter.title }}Driver.create({**driver_options, "no_such_option": 1})


def test_a_batch_is_sent_when_full(api: Driver, topic_name: str) -> None:
    """With a batch size of 3, two pushed events wait in their batch; the third sends all."""
    producer = new_topic(api, topic_name).producer(batch_size=3)
    first = [producer.push({"i": i}) for i in range(2)]
    assert not any(future.completed for future in first)
    third = producer.push({"i": 2})
    assert [future.wait(WAIT_MS) for future in [*first, third]] == [0, 1, 2]
    assert producer.flush().wait(WAIT_MS) is True


def test_waiting_on_a_push_future_sends_its_batch(api: Driver, topic_name: str) -> None:
    producer = new_topic(api, topic_name).producer(batch_size=1000)
    producer.push({"i": 0})
    assert producer.push({"i": 1}).wait(WAIT_MS) == 1


def test_ids_are_dense_per_partition_with_concurrent_pushers(api: Driver, topic_name: str) -> None:
    producer = new_topic(api, topic_name, num_partitions=2).producer(batch_size=7)
    ids: list[tuple[int, int | None]] = []
    lock = threading.Lock()

    def push_some(thread: int) -> None:
        futures = [(i % 2, producer.push({"t": thread}, partition=i % 2)) for i in range(100)]
        assert producer.flush().wait(WAIT_MS) is True
        with lock:
            ids.extend((partition, future.wait(0)) for partition, future in futures)

    threads = [threading.Thread(target=push_some, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for partition in (0, 1):
        assert sorted(i for p, i in ids if p == partition and i is not None) == list(range(200))


def test_a_flush_reports_the_events_that_were_not_stored(
    api: Driver, topic_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    producer = new_topic(api, topic_name).producer(batch_size=2)

    def unreachable(*args: Any) -> int:
        raise ConnectionError("the engine is unreachable")

    with monkeypatch.context() as patch:
        patch.setattr({{ cookiecutter.title }}Producer, "_store", unreachable)
        futures = [producer.push({"i": i}) for i in range(3)]
        with pytest.raises(EventsNotStored) as lost:
            producer.flush().wait(WAIT_MS)
    assert lost.value.failed == 3
    with pytest.raises(DiasporaException, match="unreachable"):
        futures[0].wait(0)
    # Reported once: a flush of events stored after the failure says True.
    producer.push({"i": 3})
    assert producer.flush().wait(WAIT_MS) is True


def test_delivery_is_round_robin_over_partitions(api: Driver, topic_name: str) -> None:
    topic = new_topic(api, topic_name, num_partitions=3)
    producer = topic.producer()
    for partition, count in ((0, 3), (1, 1), (2, 2)):
        for i in range(count):
            producer.push({"p": partition, "i": i}, partition=partition)
    assert producer.flush().wait(WAIT_MS) is True
    consumer = topic.consumer("reader")
    pulled = [consumer.pull().wait(WAIT_MS) for _ in range(6)]
    order = [(event.partition_index, event.event_id) for event in pulled if event is not None]
    assert order == [(0, 0), (1, 0), (2, 0), (0, 1), (2, 1), (0, 2)]
    assert consumer.pull().wait(0) is None


def test_a_consumer_resumes_after_its_acknowledged_event(api: Driver, topic_name: str) -> None:
    if not {{ cookiecutter.title }}Driver.capabilities.acknowledgements:
        pytest.skip("the backend declares acknowledgements absent")
    topic = new_topic(api, topic_name)
    producer = topic.producer()
    for i in range(5):
        producer.push({"i": i})
    assert producer.flush().wait(WAIT_MS) is True
    with topic.consumer("worker") as first:
        events = [first.pull().wait(WAIT_MS) for _ in range(3)]
        assert events[1] is not None
        events[1].acknowledge()
    with topic.consumer("worker") as second:
        event = second.pull().wait(WAIT_MS)
        assert event is not None and event.event_id == 2
    with topic.consumer("someone-else") as other:
        event = other.pull().wait(WAIT_MS)
        assert event is not None and event.event_id == 0


def test_only_the_selected_bytes_reach_the_event(api: Driver, topic_name: str) -> None:
    topic = new_topic(api, topic_name)
    producer = topic.producer()
    producer.push({"i": 0}, [b"0123", b"456789"])
    assert producer.flush().wait(WAIT_MS) is True

    def select(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
        return descriptor.make_sub_view(offset=3, size=4)

    consumer = topic.consumer("reader", data_selector=select)
    event = consumer.pull().wait(WAIT_MS)
    assert event is not None and bytes(event.data[0]) == b"3456"


def test_close_wakes_a_waiting_pull(api: Driver, topic_name: str) -> None:
    consumer = new_topic(api, topic_name).consumer("reader")
    future = consumer.pull()
    errors: list[BaseException] = []

    def wait_forever() -> None:
        try:
            future.wait(-1)
        except ClosedError as error:
            errors.append(error)

    waiter = threading.Thread(target=wait_forever, daemon=True)  # no hang if close fails
    waiter.start()
    consumer.close()
    waiter.join(WAIT_MS / 1000)
    assert not waiter.is_alive() and len(errors) == 1


def test_topics_outlive_the_driver_as_declared(
    driver_options: dict[str, Any], topic_name: str
) -> None:
    """A new driver with the same options sees the topics of an earlier one exactly when the
    backend declares ``persistent_topics``; so do the events and, with
    ``persistent_acknowledgements``, the consumer positions."""
    capabilities = {{ cookiecutter.title }}Driver.capabilities
    first = Driver(backend="{{ cookiecutter.backend_name }}", options=driver_options)
    topic = new_topic(first, topic_name)
    with topic.producer() as producer:
        producer.push({"i": 0}, b"data")
        producer.push({"i": 1}, b"more")
    if capabilities.acknowledgements:
        with topic.consumer("c") as consumer:
            event = consumer.pull().wait(WAIT_MS)
            assert event is not None
            event.acknowledge()
    first.close()
    second = Driver(backend="{{ cookiecutter.backend_name }}", options=driver_options)
    try:
        assert second.topic_exists(topic_name) == capabilities.persistent_topics
        if capabilities.persistent_topics:
            with second.open_topic(topic_name).consumer("c") as consumer:
                event = consumer.pull().wait(WAIT_MS)
                assert event is not None
                expected = 1 if capabilities.persistent_acknowledgements else 0
                assert event.event_id == expected
    finally:
        second.close()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(batches=st.lists(st.lists(st.binary(max_size=64), max_size=5), max_size=6))
def test_pushed_bytes_read_back(api: Driver, batches: list[list[bytes]]) -> None:
    topic = new_topic(api, f"t-{uuid.uuid4().hex[:12]}")
    producer = topic.producer(batch_size=3)
    expected = [data for batch in batches for data in batch]
    for batch in batches:
        for data in batch:
            producer.push({"n": len(data)}, [data[:3], data[3:]])
        assert producer.flush().wait(WAIT_MS) is True
    consumer = topic.consumer("reader")
    for data in expected:
        event = consumer.pull().wait(WAIT_MS)
        assert event is not None and bytes(event.data[0]) == data
