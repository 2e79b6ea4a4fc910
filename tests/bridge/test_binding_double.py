"""The double of ``pydiaspora_stream_api`` keeps the binding's conventions (reference-api.md §2):
if it drifted, the bridge tests would prove nothing about the C++ binding."""

from __future__ import annotations

from typing import Any

import pydiaspora_stream_api as binding
import pytest


@pytest.fixture
def topic() -> Any:
    driver = binding.Driver(backend="memory", options={})
    driver.create_topic("t", options={"num_partitions": 1})
    return driver.open_topic("t")


def test_driver_arguments_are_keyword_only_and_errors_are_the_binding_exception() -> None:
    with pytest.raises(TypeError):
        binding.Driver("memory")  # type: ignore[misc]
    with pytest.raises(binding.Exception) as raised:
        binding.Driver(backend="no-such-backend")
    assert type(raised.value).__name__ == "Exception"
    assert isinstance(raised.value, RuntimeError)
    assert type(raised.value).__module__ == "pydiaspora_stream_api"


def test_a_schema_that_is_not_an_object_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        binding.Validator.from_metadata(type="schema", schema="not-an-object")


def test_futures_take_timeout_ms_by_keyword_and_completed_differs_by_kind(topic: Any) -> None:
    producer = topic.producer()
    future = producer.push({"a": 1}, b"xy")
    with pytest.raises(TypeError):
        future.wait(100)
    assert producer.flush().wait(timeout_ms=1000) is True
    assert future.completed is True and future.wait(timeout_ms=0) == 0
    pulled = topic.consumer("c").pull()
    event = pulled.wait(timeout_ms=1000)
    assert pulled.completed() is True  # a method on pull futures
    assert event.event_id == 0 and event.metadata == {"a": 1}
    assert [bytes(view) for view in event.data] == [b"xy"]
    assert not hasattr(event, "partition_index")


def test_push_conventions(topic: Any) -> None:
    producer = topic.producer()
    with pytest.raises(binding.Exception):
        producer.push("not json")
    with pytest.raises(TypeError):
        producer.push({}, (b"a", b"b"))
    producer.push('"a string"', [b"a", b"b"])
    producer.flush().wait(timeout_ms=1000)
    event = topic.consumer("c").pull().wait(timeout_ms=1000)
    assert event.metadata == "a string"
    assert bytes(event.data[0]) == b"ab"


def test_consumer_overloads_and_event_data_without_allocator(topic: Any) -> None:
    producer = topic.producer()
    producer.push({}, b"abc")
    producer.flush().wait(timeout_ms=1000)
    with pytest.raises(TypeError):
        topic.consumer("c", data_selector=binding.FullDataSelector)
    buffers: list[Any] = []

    def allocate(metadata: Any, descriptor: Any) -> list[bytearray]:
        buffers.append([bytearray(descriptor.size)])
        return buffers[-1]

    event = topic.consumer("c", data_selector=binding.FullDataSelector, data_allocator=allocate)
    pulled = event.pull().wait(timeout_ms=1000)
    assert pulled.data is buffers[0] and buffers[0] == [bytearray(b"abc")]
    no_data = topic.consumer("d", data_selector=None, data_allocator=None)
    with pytest.raises(SystemError):
        _ = no_data.pull().wait(timeout_ms=1000).data
