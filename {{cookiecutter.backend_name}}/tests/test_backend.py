"""Unit tests of the ``{{ cookiecutter.backend_name }}`` backend's primitives.

They call the driver and topic directly (the conformance suite goes through the public API).
Keep them passing while you replace the in-memory storage: they pin down the rules of
``diaspora_stream.backend.log`` at the level where your code implements them. Drivers get their
options from ``conftest.py`` (``DRIVER_OPTIONS``, with a fresh ``"{tmp}"`` per test) and topics
unique names, so the tests hold for a backend whose topics persist.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from diaspora_stream.api import AppendRecord, Driver, TopicConfig
from diaspora_stream.api import Exception as DiasporaException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from {{ cookiecutter.__package_name }} import (
    {{ cookiecutter.title }}Driver,
    {{ cookiecutter.title }}Topic,
)


def make_record(metadata: bytes, *segments: bytes | bytearray) -> AppendRecord:
    """An AppendRecord with ``segments`` as its data."""
    views = tuple(memoryview(segment) for segment in segments)
    return AppendRecord(metadata, views, sum(len(segment) for segment in segments))


def make_topic(driver: {{ cookiecutter.title }}Driver, num_partitions: int = 1) -> {{ cookiecutter.title }}Topic:
    """A new topic of ``num_partitions`` partitions, uniquely named, opened on ``driver``."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    driver.create_topic(name, TopicConfig(num_partitions=num_partitions))
    return driver.open_topic(name)


def whole_data(topic: {{ cookiecutter.title }}Topic, partition: int, event_id: int) -> bytes:
    """The full data of one stored event."""
    (record,) = topic.read(partition, event_id, 1)
    buffer = bytearray(record.data_size)
    topic.read_data(partition, record, [(0, record.data_size)], [memoryview(buffer)])
    return bytes(buffer)


def test_append_returns_dense_ids_per_partition(driver: {{ cookiecutter.title }}Driver) -> None:
    topic = make_topic(driver, num_partitions=2)
    assert topic.append(0, [make_record(b"a"), make_record(b"b")]) == 0
    assert topic.append(0, [make_record(b"c")]) == 2
    assert topic.append(1, [make_record(b"d")]) == 0
    assert (topic.event_count(0), topic.event_count(1)) == (3, 1)


def test_read_returns_records_in_order_from_start(driver: {{ cookiecutter.title }}Driver) -> None:
    topic = make_topic(driver)
    topic.append(0, [make_record(b"m%d" % i, b"x" * i) for i in range(5)])
    records = topic.read(0, 1, 3)
    assert [record.event_id for record in records] == [1, 2, 3]
    assert [bytes(record.metadata) for record in records] == [b"m1", b"m2", b"m3"]
    assert [record.data_size for record in records] == [1, 2, 3]
    assert [record.event_id for record in topic.read(0, 3, 100)] == [3, 4]
    assert topic.read(0, 5, 10) == []


def test_read_data_fills_destination_with_selected_ranges(driver: {{ cookiecutter.title }}Driver) -> None:
    topic = make_topic(driver)
    topic.append(0, [make_record(b"m", b"0123", b"", b"456789")])
    (record,) = topic.read(0, 0, 1)
    first, second = bytearray(3), bytearray(4)
    topic.read_data(
        0, record, [(1, 2), (5, 2), (9, 1), (0, 2)], [memoryview(first), memoryview(second)]
    )
    assert bytes(first + second) == b"1256901"


def test_append_copies_the_caller_buffers(driver: {{ cookiecutter.title }}Driver) -> None:
    topic = make_topic(driver)
    buffer = bytearray(b"before")
    topic.append(0, [make_record(b"m", bytes(buffer[:3]), buffer)])
    buffer[:] = b"AFTER!"
    assert whole_data(topic, 0, 0) == b"befbefore"


def test_concurrent_appends_get_unique_dense_ids(driver: {{ cookiecutter.title }}Driver) -> None:
    topic = make_topic(driver)
    firsts: list[int] = []
    lock = threading.Lock()

    def append_batches() -> None:
        for _ in range(50):
            first = topic.append(0, [make_record(b"m"), make_record(b"n")])
            with lock:
                firsts.append(first)

    threads = [threading.Thread(target=append_batches) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(firsts) == list(range(0, 400, 2))
    assert topic.event_count(0) == 400


def test_acknowledgements_never_move_backwards(driver: {{ cookiecutter.title }}Driver) -> None:
    if not {{ cookiecutter.title }}Driver.capabilities.acknowledgements:
        pytest.skip("the backend declares acknowledgements absent")
    topic = make_topic(driver, num_partitions=2)
    topic.store_acknowledgement("c", 0, 5)
    topic.store_acknowledgement("c", 0, 3)
    topic.store_acknowledgement("c", 1, 0)
    assert topic.load_acknowledgements("c") == {0: 5, 1: 0}
    assert topic.load_acknowledgements("other") == {}


def test_topics_are_created_once_and_listed(driver: {{ cookiecutter.title }}Driver, topic_name: str) -> None:
    driver.create_topic(topic_name, TopicConfig(num_partitions=3))
    with pytest.raises(DiasporaException, match="already exists"):
        driver.create_topic(topic_name, TopicConfig(num_partitions=1))
    assert driver.topic_exists(topic_name)
    assert not driver.topic_exists(topic_name + "-other")
    assert driver.list_topics()[topic_name] == {"name": topic_name, "num_partitions": 3}
    with pytest.raises(DiasporaException, match="Could not find topic"):
        driver.open_topic(topic_name + "-other")


def test_unknown_options_are_refused(driver_options: dict[str, Any]) -> None:
    with pytest.raises(DiasporaException, match="Unknown option"):
        {{ cookiecutter.title }}Driver.create({**driver_options, "no_such_option": 1})


def test_topics_outlive_the_driver_as_declared(
    driver_options: dict[str, Any], topic_name: str
) -> None:
    """A new driver with the same options sees the topics of an earlier one exactly when the
    backend declares ``persistent_topics``; so do the events and, with
    ``persistent_acknowledgements``, the consumer positions."""
    capabilities = {{ cookiecutter.title }}Driver.capabilities
    first = {{ cookiecutter.title }}Driver.create(driver_options)
    first.create_topic(topic_name, TopicConfig(num_partitions=1))
    topic = first.open_topic(topic_name)
    topic.append(0, [make_record(b"m", b"data")])
    if capabilities.acknowledgements:
        topic.store_acknowledgement("c", 0, 0)
    topic.sync(0)
    topic.close()
    first.close()
    second = {{ cookiecutter.title }}Driver.create(driver_options)
    try:
        assert second.topic_exists(topic_name) == capabilities.persistent_topics
        if capabilities.persistent_topics:
            reopened = second.open_topic(topic_name)
            assert reopened.event_count(0) == 1
            assert whole_data(reopened, 0, 0) == b"data"
            if capabilities.persistent_acknowledgements:
                assert reopened.load_acknowledgements("c") == {0: 0}
            reopened.close()
    finally:
        second.close()


# No per-example deadline: an example's time on a busy machine says nothing about the engine.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(batches=st.lists(st.lists(st.binary(max_size=64), max_size=5), max_size=8))
def test_appended_bytes_read_back(driver: {{ cookiecutter.title }}Driver, batches: list[list[bytes]]) -> None:
    topic = make_topic(driver)
    expected = [data for batch in batches for data in batch]
    for batch in batches:
        topic.append(0, [make_record(b"{}", data[:3], data[3:]) for data in batch])
    assert [whole_data(topic, 0, event_id) for event_id in range(len(expected))] == expected


def test_found_by_name_through_the_api(driver_options: dict[str, Any], topic_name: str) -> None:
    """The entry point in pyproject.toml makes ``Driver(backend=...)`` find the backend."""
    driver = Driver(backend="{{ cookiecutter.backend_name }}", options=driver_options)
    driver.create_topic(topic_name, options={"num_partitions": 2})
    topic = driver.open_topic(topic_name)
    producer = topic.producer()
    producer.push({"x": 1}, b"payload", partition=1)
    assert producer.flush().wait(5000)
    event = topic.consumer("reader").pull().wait(5000)
    assert event is not None
    assert (event.partition_index, event.event_id, event.metadata) == (1, 0, {"x": 1})
    assert bytes(event.data[0]) == b"payload"
    driver.close()
