"""Bad input: each raises the documented exception type with a clear message and leaves the
topic intact (design.md §5, reference-api.md §2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from api_helpers import Backend, drain, pull_one

from diaspora_stream.api import (
    DataDescriptor,
    Driver,
    Exception,  # noqa: A004 - the reference's public name
    InvalidMetadata,
    PartitionSelector,
    PartitionSelectorInterface,
    SerializerInterface,
    TopicHandle,
    ValidatorInterface,
    register_partition_selector,
)
from diaspora_stream.components.partition_selectors import DefaultPartitionSelector
from diaspora_stream.components.serializers import DefaultSerializer

MakeTopic = Callable[..., TopicHandle]


def _stored_metadata(topic: TopicHandle) -> list[Any]:
    return [event.metadata for event in drain(topic.consumer("checker"), timeout_ms=100)]


# ------------------------------------------------------------------------- metadata


@pytest.mark.parametrize("threads", [0, 2])
def test_non_json_text_raises_synchronously(make_topic: MakeTopic, threads: int) -> None:
    topic = make_topic(num_partitions=1)
    pool = topic.driver.make_thread_pool(threads) if threads else None
    producer = topic.producer(thread_pool=pool)
    for text in ("hello", '{"x": 1', b"\xff\xfe", "", "{'single': 'quotes'}"):
        with pytest.raises(Exception, match="Could not parse JSON"):
            producer.push(text)
    assert producer.push('"hello"').wait(1000) == 0
    assert producer.push(b'{"a": [1, 2]}').wait(1000) == 1
    assert producer.push("3.5").wait(1000) == 2
    producer.flush().wait()
    assert _stored_metadata(topic) == ["hello", {"a": [1, 2]}, 3.5]


@pytest.mark.parametrize(
    "metadata",
    [{"x": object()}, object(), {"s": {1, 2}}, {"big": 2**70}, [1, lambda: 0]],
    ids=["object-in-dict", "object", "set", "too-big-int", "function"],
)
def test_unconvertible_metadata(make_topic: MakeTopic, metadata: Any) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    with pytest.raises((Exception, TypeError)):
        producer.push(metadata).wait(1000)
    assert producer.push({"ok": 1}).wait(1000) == 0
    producer.flush().wait()
    assert _stored_metadata(topic) == [{"ok": 1}]


def test_json_conversions(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    producer.push({"t": (1, 2), "b": b"hi", 3: None, "f": 1.5})
    producer.push(None)
    producer.push([True, False])
    producer.flush().wait()
    assert _stored_metadata(topic) == [
        {"t": [1, 2], "b": "aGk=", "3": None, "f": 1.5},
        None,
        [True, False],
    ]


# ----------------------------------------------------------------------------- data


@pytest.mark.parametrize("data", [12, "text", {"a": 1}, [b"a", 3], (b"a", "b"), 1.5], ids=repr)
def test_non_buffer_data_raises_type_error(topic: TopicHandle, data: Any) -> None:
    producer = topic.producer()
    with pytest.raises(TypeError):
        producer.push({}, data)
    assert producer.push({"ok": 1}, b"fine").wait(1000) is not None


def test_none_and_empty_data(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    producer.push({"i": 0}, None)
    producer.push({"i": 1}, [])
    producer.push({"i": 2}, b"")
    producer.push({"i": 3}, [b"", bytearray()])
    producer.flush().wait()
    for event in drain(topic.consumer("c")):
        assert b"".join(bytes(v) for v in event.data) == b""


# ------------------------------------------------------------------------ partition


@pytest.mark.parametrize("partition", [-1, "1", 1.0, True], ids=repr)
def test_bad_requested_partition(topic: TopicHandle, partition: Any) -> None:
    producer = topic.producer()
    with pytest.raises((Exception, TypeError)):
        producer.push({}, partition=partition).wait(1000)
    producer.flush().wait()
    assert _stored_metadata(topic) == []


class _FixedSelector(PartitionSelectorInterface):
    type_name: ClassVar[str] = "bad_input_fixed"
    answer: ClassVar[Any] = 5

    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        self.count = len(partitions)

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        if metadata.get("raise"):
            raise RuntimeError("selector exploded")
        if metadata.get("good"):
            return 1
        return type(self).answer


register_partition_selector("bad_input_fixed", _FixedSelector)


@pytest.mark.parametrize("answer", [5, -1, 2, "0", None, 1.0], ids=repr)
@pytest.mark.parametrize("threads", [0, 2])
def test_selector_returning_an_invalid_index(
    make_topic: MakeTopic, answer: Any, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_FixedSelector, "answer", answer)
    topic = make_topic(
        num_partitions=2, partition_selector=PartitionSelector.from_metadata(type="bad_input_fixed")
    )
    pool = topic.driver.make_thread_pool(threads) if threads else None
    producer = topic.producer(thread_pool=pool)
    future = producer.push({"bad": True})
    with pytest.raises(Exception, match="Invalid partition index"):
        future.wait(5000)
    assert future.completed
    assert producer.push({"good": True}).wait(5000) == 0
    producer.flush().wait()
    events = drain(topic.consumer("c"))
    assert [(e.partition_index, e.metadata) for e in events] == [(1, {"good": True})]


def test_selector_raising(make_topic: MakeTopic) -> None:
    topic = make_topic(
        num_partitions=2, partition_selector=PartitionSelector.from_metadata(type="bad_input_fixed")
    )
    producer = topic.producer()
    with pytest.raises(Exception, match="selector exploded"):
        producer.push({"raise": True}).wait(1000)
    assert producer.push({"good": True}).wait(1000) == 0
    producer.flush().wait()
    assert [e.metadata for e in drain(topic.consumer("c"))] == [{"good": True}]


# ------------------------------------------------------------------ validator/serializer


class _RejectOdd(ValidatorInterface):
    type_name: ClassVar[str] = "bad_input_reject_odd"

    def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
        if metadata["i"] % 2:
            raise InvalidMetadata(f"event {metadata['i']} is odd")


class _FailingSerializer(SerializerInterface):
    type_name: ClassVar[str] = "bad_input_failing"

    def serialize(self, metadata: Any) -> bytes:
        if metadata.get("fail"):
            raise ValueError("cannot serialize this")
        return repr(metadata).encode()

    def deserialize(self, blob: bytes | memoryview) -> Any:
        import ast

        return ast.literal_eval(bytes(blob).decode())


@pytest.mark.parametrize("threads", [0, 2])
def test_validator_rejection(make_topic: MakeTopic, threads: int) -> None:
    from diaspora_stream.api import register_validator

    register_validator("bad_input_reject_odd", _RejectOdd)
    topic = make_topic(num_partitions=1, validator=_RejectOdd())
    pool = topic.driver.make_thread_pool(threads) if threads else None
    producer = topic.producer(thread_pool=pool)
    futures = [producer.push({"i": i}) for i in range(6)]
    producer.flush().wait()
    ids = []
    for i, future in enumerate(futures):
        if i % 2:
            with pytest.raises(InvalidMetadata, match=f"event {i} is odd"):
                future.wait(1000)
            with pytest.raises(InvalidMetadata):  # waiting again raises again
                future.wait(0)
        else:
            ids.append(future.wait(1000))
    assert ids == [0, 1, 2]
    assert [m["i"] for m in _stored_metadata(topic)] == [0, 2, 4]


def test_serializer_failure(make_topic: MakeTopic) -> None:
    from diaspora_stream.api import register_serializer

    register_serializer("bad_input_failing", _FailingSerializer)
    topic = make_topic(num_partitions=1, serializer=_FailingSerializer())
    producer = topic.producer()
    with pytest.raises(Exception, match="cannot serialize this"):
        producer.push({"fail": True}).wait(1000)
    assert producer.push({"i": 1}).wait(1000) == 0
    producer.flush().wait()
    assert _stored_metadata(topic) == [{"i": 1}]


# ------------------------------------------------------------------ consumer callbacks


def _one_event_topic(make_topic: MakeTopic, data: bytes = b"0123456789") -> TopicHandle:
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    producer.push({"i": 0}, data)
    producer.push({"i": 1}, b"second")
    producer.flush().wait()
    return topic


class _FlakyAllocator:
    """Returns ``bad(size)`` on its first call, a correct bytearray afterwards."""

    def __init__(self, bad: Callable[[int], Any]) -> None:
        self.bad = bad
        self.calls = 0

    def __call__(self, metadata: Any, descriptor: DataDescriptor) -> Any:
        self.calls += 1
        if self.calls == 1:
            return self.bad(descriptor.size)
        return [bytearray(descriptor.size)]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda n: [bytes(n)], "read-only"),
        (lambda n: [bytearray(n - 1)], "insufficient capacity"),
        (lambda n: [], "insufficient capacity"),
        (lambda n: [memoryview(bytearray(2 * n))[::2]], "contiguous"),
    ],
    ids=["bytes", "too-small", "nothing", "non-contiguous"],
)
def test_bad_allocator_then_retry(make_topic: MakeTopic, bad: Any, message: str) -> None:
    topic = _one_event_topic(make_topic)
    allocator = _FlakyAllocator(bad)
    consumer = topic.consumer("c", data_selector=lambda md, d: d, data_allocator=allocator)
    with pytest.raises(Exception, match=message):
        consumer.pull().wait(1000)
    event = pull_one(consumer)
    assert (event.event_id, event.metadata) == (0, {"i": 0})
    assert event.data == [bytearray(b"0123456789")]
    assert pull_one(consumer).metadata == {"i": 1}


def test_bad_allocator_on_a_pending_pull(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    allocator = _FlakyAllocator(lambda n: [bytes(n)])
    consumer = topic.consumer("c", data_selector=lambda md, d: d, data_allocator=allocator)
    future = consumer.pull()
    assert future.wait(0) is None
    producer = topic.producer()
    producer.push({"i": 0}, b"abc")
    producer.flush().wait()
    with pytest.raises(Exception, match="read-only"):
        future.wait(5000)
    event = pull_one(consumer)
    assert event.metadata == {"i": 0} and event.data == [bytearray(b"abc")]


def test_allocator_returning_a_non_buffer(make_topic: MakeTopic) -> None:
    topic = _one_event_topic(make_topic)
    allocator = _FlakyAllocator(lambda n: [42])
    consumer = topic.consumer("c", data_selector=lambda md, d: d, data_allocator=allocator)
    with pytest.raises((Exception, TypeError)):
        consumer.pull().wait(1000)
    assert pull_one(consumer).event_id == 0


def test_allocator_raising(make_topic: MakeTopic) -> None:
    topic = _one_event_topic(make_topic)
    calls = []

    def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("no memory today")
        return [bytearray(descriptor.size)]

    consumer = topic.consumer("c", data_selector=lambda md, d: d, data_allocator=allocator)
    with pytest.raises(MemoryError):
        consumer.pull().wait(1000)
    assert pull_one(consumer).data == [bytearray(b"0123456789")]


def test_data_selector_raising_loses_nothing(make_topic: MakeTopic) -> None:
    topic = _one_event_topic(make_topic)
    calls = []

    def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
        calls.append(metadata["i"])
        if len(calls) == 1:
            raise ValueError("selector failed")
        return descriptor.make_sub_view(offset=2, size=3)

    consumer = topic.consumer("c", data_selector=selector)
    with pytest.raises(ValueError, match="selector failed"):
        consumer.pull().wait(1000)  # (the reference raises from pull itself)
    event = pull_one(consumer)
    assert (event.event_id, bytes(event.data[0])) == (0, b"234")
    assert calls == [0, 0]


@pytest.mark.parametrize(
    ("returned", "error"),
    [
        ("not a descriptor", Exception),
        (DataDescriptor("", 1000), Exception),  # larger than the event's 10 bytes
    ],
    ids=["not-a-descriptor", "too-large"],
)
def test_data_selector_returning_nonsense(
    make_topic: MakeTopic, returned: Any, error: type[BaseException]
) -> None:
    topic = _one_event_topic(make_topic)
    consumer = topic.consumer("c", data_selector=lambda md, d: returned)
    with pytest.raises(error):
        consumer.pull().wait(1000)


# -------------------------------------------------------------------------- options


@pytest.mark.parametrize("options", [{"no_such_option": 1}, "not-a-dict", [1, 2]], ids=repr)
def test_bad_memory_driver_options(options: Any) -> None:
    with pytest.raises((Exception, TypeError)):
        Driver(backend="memory", options=options)


@pytest.mark.parametrize(
    "options",
    [
        {"flush_behavior": "sometimes"},
        {"root_path": 42},
        {"use_file_locking": "yes"},
        {"root_path": ""},
        {"unknown_option": True},
    ],
    ids=repr,
)
def test_bad_files_driver_options(backend: Backend, tmp_path: Path, options: Any) -> None:
    if not backend.is_files:
        pytest.skip("files driver options")
    with pytest.raises(Exception):
        Driver(backend=backend.name, options={"root_path": str(tmp_path), **options})


def test_backend_must_be_a_string() -> None:
    with pytest.raises((Exception, TypeError)):
        Driver(backend=None)  # type: ignore[arg-type]
    with pytest.raises(Exception):
        Driver(backend="")


@pytest.mark.parametrize(
    "options",
    [
        {"num_partitions": 0},
        {"num_partitions": -1},
        {"num_partitions": "2"},
        {"num_partitions": 1.5},
        {"num_partitions": True},
    ],
    ids=repr,
)
def test_bad_topic_options(driver: Driver, options: Any) -> None:
    with pytest.raises(Exception):
        driver.create_topic("bad_options_topic", options=options)
    assert not driver.topic_exists("bad_options_topic")


def test_topic_options_must_be_an_object(driver: Driver) -> None:
    with pytest.raises((Exception, TypeError)):
        driver.create_topic("bad_options_topic", options=[1])  # type: ignore[arg-type]
    assert not driver.topic_exists("bad_options_topic")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": -1},
        {"batch_size": "10"},
        {"batch_size": 2**64},
        {"max_num_batches": -2},
        {"ordering": "strict"},
        {"thread_pool": 3},
        {"options": "x"},
    ],
    ids=repr,
)
def test_bad_producer_arguments(topic: TopicHandle, kwargs: dict[str, Any]) -> None:
    with pytest.raises((Exception, TypeError)):
        topic.producer("p", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": -1},
        {"max_num_batches": "2"},
        {"thread_pool": "pool"},
        {"data_selector": 3, "data_allocator": None},
        {"data_selector": None, "data_allocator": "alloc"},
    ],
    ids=repr,
)
def test_bad_consumer_arguments(topic: TopicHandle, kwargs: dict[str, Any]) -> None:
    with pytest.raises((Exception, TypeError)):
        topic.consumer("c", **kwargs)


def test_consumer_name_is_required(topic: TopicHandle) -> None:
    with pytest.raises(TypeError):
        topic.consumer()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        topic.consumer(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- topic names


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "nul\0byte", "x" * 300], ids=repr)
def test_bad_topic_names(driver: Driver, name: str) -> None:
    with pytest.raises(Exception, match=r"[Tt]opic name"):
        driver.create_topic(name)
    with pytest.raises(Exception):
        driver.open_topic(name)
    # The driver still works.
    driver.create_topic("good_after_bad_name")
    assert driver.topic_exists("good_after_bad_name")


@pytest.mark.parametrize("name", [3, None, b"bytes"], ids=repr)
def test_topic_name_must_be_a_string(driver: Driver, name: Any) -> None:
    with pytest.raises(TypeError):
        driver.create_topic(name)
    with pytest.raises(TypeError):
        driver.open_topic(name)


def test_bad_component_arguments(driver: Driver) -> None:
    for kwargs in ({"validator": "schema"}, {"serializer": 3}, {"partition_selector": []}):
        with pytest.raises((Exception, TypeError)):
            driver.create_topic("bad_component_topic", **kwargs)
    assert not driver.topic_exists("bad_component_topic")


class _ShoutingSerializer(DefaultSerializer):
    """A subclass of the built-in serializer that overrides ``serialize``."""

    type_name: ClassVar[str] = "bad_input_shouting"

    def serialize(self, metadata: Any) -> bytes:
        return super().serialize({key.upper(): value for key, value in metadata.items()})


class _OutOfRangeSelector(DefaultPartitionSelector):
    """A subclass of the built-in selector that returns an invalid index."""

    type_name: ClassVar[str] = "bad_input_out_of_range"

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        return 7


def test_subclasses_of_the_builtin_components_are_run_and_checked(make_topic: MakeTopic) -> None:
    """The producers' shortcut for the built-in selector and serializer must not bypass an
    override in a subclass, nor the check of what it returns."""
    from diaspora_stream.api import register_serializer

    register_serializer("bad_input_shouting", _ShoutingSerializer)
    topic = make_topic(num_partitions=1, serializer=_ShoutingSerializer())
    producer = topic.producer()
    assert producer.push({"quiet": 1}).wait(1000) == 0
    producer.flush().wait()
    assert _stored_metadata(topic) == [{"QUIET": 1}]

    register_partition_selector("bad_input_out_of_range", _OutOfRangeSelector)
    wrong = make_topic(num_partitions=2, partition_selector=_OutOfRangeSelector())
    with pytest.raises(Exception, match="Invalid partition index 7 returned by the partition"):
        wrong.producer().push({"i": 1}).wait(1000)


@pytest.mark.parametrize("name", ["\ud800", "a\udfffb"])
def test_names_that_are_not_valid_unicode_are_typed_errors(topic: TopicHandle, name: str) -> None:
    """A lone surrogate cannot be written to a file name, JSON or a socket: it is refused as
    every name (not an untyped UnicodeEncodeError from deep inside a backend)."""
    with pytest.raises(Exception, match="not valid Unicode"):
        topic.consumer(name)
    with pytest.raises(Exception, match="not valid Unicode"):
        topic.producer(name)
    with pytest.raises(Exception, match="not valid Unicode"):
        Driver(backend="memory").create_topic(name)
