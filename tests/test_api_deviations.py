"""The deliberate deviations from the C++ reference (design.md §3, D1 to D7)."""

from __future__ import annotations

import struct
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import api_test_components
import numpy as np
import pytest
from api_helpers import PYTHON, Backend, drain, pull_one, subprocess_env

from diaspora_stream.api import (
    DataDescriptor,
    Event,
    Exception,  # noqa: A004 - the reference's public name
    InvalidMetadata,
    PartitionSelector,
    PartitionSelectorInterface,
    Serializer,
    SerializerInterface,
    StopEventProcessor,
    TopicHandle,
    Validator,
    ValidatorInterface,
    register_partition_selector,
    register_serializer,
    register_validator,
)

MakeTopic = Callable[..., TopicHandle]


def _data(event: Event) -> bytes:
    return b"".join(bytes(memoryview(view)) for view in event.data)


# =========================================================================== D1: futures


def test_d1_wait_positional_keyword_and_default(topic: TopicHandle) -> None:
    producer = topic.producer()
    futures = [producer.push({"i": i}) for i in range(3)]
    flushed = producer.flush()
    assert flushed.wait(1000) is True
    assert flushed.wait(timeout_ms=1000) is True
    assert flushed.wait() is True
    ids = [futures[0].wait(1000), futures[1].wait(timeout_ms=1000), futures[2].wait()]
    if len(topic.partitions) == 1:
        assert ids == [0, 1, 2]
    consumer = topic.consumer("c")
    first = consumer.pull().wait(1000)
    second = consumer.pull().wait(timeout_ms=1000)
    third = consumer.pull().wait()
    assert sorted(e.metadata["i"] for e in (first, second, third)) == [0, 1, 2]


def test_d1_zero_polls_a_pending_pull(topic: TopicHandle) -> None:
    consumer = topic.consumer("c")
    future = consumer.pull()
    started = time.monotonic()
    assert future.wait(0) is None
    assert future.wait(timeout_ms=0) is None
    assert time.monotonic() - started < 0.5
    assert not future.completed
    # The timed-out future can be waited on again and gets the event pushed later.
    producer = topic.producer()
    producer.push({"late": True})
    producer.flush().wait()
    event = future.wait(5000)
    assert event is not None and event.metadata == {"late": True}
    assert future.completed


def test_d1_positive_timeout_is_bounded(topic: TopicHandle) -> None:
    consumer = topic.consumer("c")
    started = time.monotonic()
    assert consumer.pull().wait(150) is None
    elapsed = time.monotonic() - started
    assert 0.1 <= elapsed < 2.0


def test_d1_negative_blocks_until_completion(topic: TopicHandle) -> None:
    consumer = topic.consumer("c")
    future = consumer.pull()

    def push_later() -> None:
        time.sleep(0.3)
        producer = topic.producer()
        producer.push({"x": 1})
        producer.flush().wait()

    thread = threading.Thread(target=push_later)
    started = time.monotonic()
    thread.start()
    event = future.wait(-1)
    elapsed = time.monotonic() - started
    thread.join()
    assert event is not None and event.metadata == {"x": 1}
    assert elapsed >= 0.25


def test_d1_completed_is_a_property_that_can_be_called(topic: TopicHandle) -> None:
    producer = topic.producer()
    push_future = producer.push({"i": 0})
    flush_future = producer.flush()
    assert flush_future.wait(5000)
    for future in (push_future, flush_future):
        assert future.completed
        assert future.completed == True  # noqa: E712 - the property compares like a bool
        assert future.completed() is True
    consumer = topic.consumer("c")
    pull_future = consumer.pull()
    pull_future.wait(5000)
    assert pull_future.completed and pull_future.completed() is True
    pending = consumer.pull()
    assert not pending.completed
    assert pending.completed() is False
    assert pending.completed == False  # noqa: E712


def test_d1_pending_push_future_is_not_completed(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer(batch_size=100)
    future = producer.push({"i": 0})
    assert not future.completed
    assert not future.completed()
    producer.flush().wait()
    assert future.completed


def test_d1_wait_rejects_a_non_number(topic: TopicHandle) -> None:
    with pytest.raises(TypeError):
        topic.consumer("c").pull().wait("soon")  # type: ignore[arg-type]


# ============================================================================ D2: buffers


def _push_and_read(topic: TopicHandle, data: Any) -> tuple[int, bytes]:
    producer = topic.producer()
    producer.push({"k": 1}, data)
    producer.flush().wait()
    event = pull_one(topic.consumer("reader"))
    return sum(len(memoryview(v).cast("B")) for v in event.data), _data(event)


def test_d2_numpy_length_is_nbytes(topic: TopicHandle) -> None:
    array = np.arange(10, dtype=np.float64)
    size, data = _push_and_read(topic, array)
    assert size == array.nbytes == 80
    assert data == array.tobytes()
    assert np.array_equal(np.frombuffer(data, dtype=np.float64), array)


def test_d2_non_contiguous_buffer_is_copied(topic: TopicHandle) -> None:
    base = np.arange(24, dtype=np.int32).reshape(4, 6)
    view = base[::2, 1::2]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    size, data = _push_and_read(topic, view)
    assert size == view.nbytes
    assert data == view.tobytes()


def test_d2_fortran_and_2d_arrays(topic: TopicHandle) -> None:
    array = np.asfortranarray(np.arange(12, dtype=np.uint16).reshape(3, 4))
    size, data = _push_and_read(topic, [array, np.arange(3, dtype=np.uint8)])
    assert size == array.nbytes + 3
    assert data == array.tobytes(order="A") + bytes([0, 1, 2])


def test_d2_tuple_of_buffers(topic: TopicHandle) -> None:
    parts = (b"ab", bytearray(b"cd"), memoryview(b"ef"), np.frombuffer(b"gh", dtype=np.uint8))
    size, data = _push_and_read(topic, parts)
    assert (size, data) == (8, b"abcdefgh")


def test_d2_memoryview_of_non_bytes_format(topic: TopicHandle) -> None:
    view = memoryview(struct.pack("<3i", 1, 2, 3)).cast("i")
    assert len(view) == 3
    size, data = _push_and_read(topic, view)
    assert (size, data) == (12, struct.pack("<3i", 1, 2, 3))


# ===================================================================== D3: composed views


def test_d3_rectangle_example_end_to_end(topic: TopicHandle) -> None:
    """The documentation's image example: a w x h rectangle at (x, y) of a W x H image."""
    W, H = 16, 10
    x, y, w, h = 3, 2, 5, 4
    image = bytes((row * W + col) % 251 for row in range(H) for col in range(W))
    producer = topic.producer()
    producer.push({"W": W, "H": H}, image)
    producer.flush().wait()

    def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
        width = metadata["W"]
        return descriptor.make_sub_view(offset=y * width + x, size=width * h).make_strided_view(
            offset=0, num_blocks=h, block_size=w, gap_size=width - w
        )

    consumer = topic.consumer(
        "c", data_selector=selector, data_allocator=lambda md, d: [bytearray(d.size)]
    )
    event = pull_one(consumer)
    expected = b"".join(image[(y + r) * W + x : (y + r) * W + x + w] for r in range(h))
    assert len(expected) == w * h
    assert bytes(event.data[0]) == expected


def test_d3_stacked_sub_views_are_relative(topic: TopicHandle) -> None:
    data = bytes(range(100))
    producer = topic.producer()
    producer.push({}, data)
    producer.flush().wait()
    consumer = topic.consumer(
        "c",
        data_selector=lambda md, d: (
            d.make_sub_view(offset=10, size=50)
            .make_sub_view(offset=5, size=10)
            .make_unstructured_view(segments=[(1, 2), (6, 3)])
        ),
    )
    event = pull_one(consumer)
    assert _data(event) == data[16:18] + data[21:24]


def test_d3_out_of_range_views_are_the_references() -> None:
    # An offset past the end gives the empty descriptor, like the reference; views whose
    # blocks or segments end past it raise, like the reference.
    assert DataDescriptor("", 10).make_sub_view(offset=11, size=1) == DataDescriptor()
    assert (
        DataDescriptor("x", 10).make_stride_view(offset=11, num_blocks=1, block_size=1, gap_size=0)
        == DataDescriptor()
    )
    with pytest.raises(Exception):
        DataDescriptor("", 10).make_stride_view(offset=0, num_blocks=3, block_size=3, gap_size=1)
    with pytest.raises(Exception):
        DataDescriptor("", 10).make_unstructured_view(segments=[(8, 5)])


# =========================================================================== D4: no data


def test_d4_event_data_is_empty_list_without_allocator(topic: TopicHandle) -> None:
    producer = topic.producer()
    producer.push({"i": 0}, b"some data")
    producer.push({"i": 1}, b"more data")
    producer.flush().wait()
    consumer = topic.consumer("c", data_selector=None, data_allocator=None)
    events = [pull_one(consumer), pull_one(consumer)]
    for event in events:
        assert event.data == []
        assert event.metadata["i"] in (0, 1)
    consumer2 = topic.consumer("c2", data_selector=lambda md, d: d, data_allocator=None)
    assert pull_one(consumer2).data == []


# ===================================================================== D5: Python components


def test_d5_components_registered_in_python(make_topic: MakeTopic) -> None:
    class EvenOnly(ValidatorInterface):
        type_name: ClassVar[str] = "d5_even_only"

        def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
            if metadata["n"] % 2:
                raise InvalidMetadata(f"n={metadata['n']} is odd")

    class UpperSerializer(SerializerInterface):
        type_name: ClassVar[str] = "d5_upper"

        def serialize(self, metadata: Any) -> bytes:
            return f"N={metadata['n']}".encode()

        def deserialize(self, blob: bytes | memoryview) -> Any:
            return {"n": int(bytes(blob).decode()[2:]), "via": "d5_upper"}

    class LastPartition(PartitionSelectorInterface):
        type_name: ClassVar[str] = "d5_last"

        def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
            self.count = len(partitions)

        def select_partition_for(self, metadata: Any, requested: int | None) -> int:
            return self.count - 1

    register_validator("d5_even_only", EvenOnly)
    register_serializer("d5_upper", UpperSerializer)
    register_partition_selector("d5_last", LastPartition)
    topic = make_topic(
        num_partitions=3,
        validator=Validator.from_metadata(type="d5_even_only"),
        serializer=Serializer.from_metadata(type="d5_upper"),
        partition_selector=PartitionSelector.from_metadata(type="d5_last"),
    )
    producer = topic.producer()
    assert producer.push({"n": 2}).wait(1000) == 0
    with pytest.raises(InvalidMetadata, match="n=3 is odd"):
        producer.push({"n": 3}).wait(1000)
    assert producer.push({"n": 4}).wait(1000) == 1
    producer.flush().wait()
    events = drain(topic.consumer("c"))
    assert [(e.partition_index, e.event_id, e.metadata) for e in events] == [
        (2, 0, {"n": 2, "via": "d5_upper"}),
        (2, 1, {"n": 4, "via": "d5_upper"}),
    ]
    assert topic.validator.metadata() == {"type": "d5_even_only"}


def test_d5_implementation_instances_accepted(make_topic: MakeTopic) -> None:
    validator = api_test_components.MaxValueValidator(max_value=3, max_bytes=4)
    topic = make_topic(num_partitions=1, validator=validator)
    producer = topic.producer()
    assert producer.push({"value": 3}, b"abcd").wait(1000) == 0
    with pytest.raises(InvalidMetadata, match="exceeds max_value"):
        producer.push({"value": 4}).wait(1000)
    with pytest.raises(InvalidMetadata, match="exceeds max_bytes"):
        producer.push({"value": 1}, [b"abc", b"de"]).wait(1000)


NAME_MODULE = {
    "validator": ("test_max_value:api_test_components", {"max_value": 5}),
    "serializer": ("test_tagged:api_test_components", {}),
    "partition_selector": ("test_modulo:api_test_components", {"key": "value"}),
}


def _name_module_components() -> dict[str, Any]:
    return {
        "validator": Validator.from_metadata(
            type=NAME_MODULE["validator"][0], **NAME_MODULE["validator"][1]
        ),
        "serializer": Serializer.from_metadata(type=NAME_MODULE["serializer"][0]),
        "partition_selector": PartitionSelector.from_metadata(
            type=NAME_MODULE["partition_selector"][0], **NAME_MODULE["partition_selector"][1]
        ),
    }


def _check_component_behaviour(topic: TopicHandle, first_value: int) -> None:
    producer = topic.producer()
    with pytest.raises(InvalidMetadata):
        producer.push({"value": 6}).wait(1000)
    for value in (first_value, first_value + 1, first_value + 3):
        assert producer.push({"value": value}).wait(1000) is not None
    producer.flush().wait()


def test_d5_name_module_components_and_reopen(backend: Backend, make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=3, **_name_module_components())
    name = topic.name
    # Metadata always carries "type" (the validator's own metadata() omits it).
    assert topic.validator.metadata() == {
        "type": "test_max_value:api_test_components",
        "max_value": 5,
        "max_bytes": 1 << 20,
    }
    info = backend.driver().list_topics()[name]
    for key, (type_name, _) in NAME_MODULE.items():
        if key in info:
            assert info[key]["type"] == type_name
    _check_component_behaviour(topic, 0)  # values 0, 1, 3 -> partitions 0, 1, 0
    topic.close()

    created = dict(api_test_components.CREATED)
    driver = backend.reopen_driver()
    reopened = driver.open_topic(name)
    for type_name in ("test_max_value", "test_tagged", "test_modulo"):
        assert api_test_components.CREATED[type_name] == created.get(type_name, 0) + 1
    assert isinstance(reopened.validator.implementation, api_test_components.MaxValueValidator)
    assert isinstance(reopened.serializer.implementation, api_test_components.TaggedSerializer)
    _check_component_behaviour(reopened, 1)  # values 1, 2, 4 -> partitions 1, 2, 1
    events = drain(reopened.consumer("c"))
    placed = sorted((e.partition_index, e.event_id, e.metadata["value"]) for e in events)
    assert placed == [(0, 0, 0), (0, 1, 3), (1, 0, 1), (1, 1, 1), (1, 2, 4), (2, 0, 2)]
    if backend.is_files:
        # The serializer's own encoding is what is stored.
        root = Path(backend.options["root_path"])
        stored = (root / name / "partitions" / "00000000" / "metadata").read_bytes()
        assert stored == b"V" + struct.pack("<q", 0) + b"V" + struct.pack("<q", 3)


def test_d5_reopen_in_a_new_process(backend: Backend, make_topic: MakeTopic) -> None:
    """A topic created with "name:module" components re-creates them in a fresh interpreter,
    where the module was never imported."""
    if not backend.persistent:
        pytest.skip("topics of this backend do not outlive the process")
    topic = make_topic(num_partitions=3, **_name_module_components())
    _check_component_behaviour(topic, 0)
    script = textwrap.dedent(
        f"""
        import sys
        from diaspora_stream.api import Driver, InvalidMetadata
        assert "api_test_components" not in sys.modules
        driver = Driver(backend={backend.name!r}, options={backend.options!r})
        topic = driver.open_topic({topic.name!r})
        print(type(topic.validator.implementation).__name__)
        producer = topic.producer()
        try:
            producer.push({{"value": 7}}).wait(1000)
        except InvalidMetadata as error:
            print("rejected:", error)
        producer.push({{"value": 2}}).wait(1000)
        producer.flush().wait()
        consumer = topic.consumer("child")
        events = []
        while True:
            event = consumer.pull().wait(200)
            if event is None:
                break
            events.append((event.partition_index, event.metadata["value"]))
        print(sorted(events))
        """
    )
    result = subprocess.run(
        [PYTHON, "-c", script], capture_output=True, text=True, env=subprocess_env(), timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "MaxValueValidator"
    assert lines[1].startswith("rejected:") and "exceeds max_value" in lines[1]
    assert lines[2] == "[(0, 0), (0, 3), (1, 1), (2, 2)]"


def test_d5_component_without_type_name_gets_registered_name(make_topic: MakeTopic) -> None:
    class Anonymous(ValidatorInterface):
        def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
            return None

        def metadata(self) -> dict[str, Any]:
            return {"setting": 1}

    register_validator("d5_anonymous", Anonymous)
    topic = make_topic(validator=Anonymous())
    assert topic.validator.metadata() == {"type": "d5_anonymous", "setting": 1}


def test_d5_unregistered_component_is_rejected(driver: Any) -> None:
    class Unknown(ValidatorInterface):
        def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
            return None

    with pytest.raises(Exception, match="type name"):
        driver.create_topic("d5_unknown_component", validator=Unknown())
    assert not driver.topic_exists("d5_unknown_component")


def test_d5_name_module_errors() -> None:
    with pytest.raises(Exception, match="Could not import"):
        Validator.from_metadata(type="x:no_such_module_for_diaspora_tests")
    with pytest.raises(Exception, match="Factory method not found"):
        Validator.from_metadata(type="not_there:api_test_components")


# ====================================================================== D6: acknowledgements


def test_d6_resume_after_acknowledged_event_per_partition(
    backend: Backend, make_topic: MakeTopic
) -> None:
    topic = make_topic(num_partitions=2)
    producer = topic.producer()
    for i in range(10):
        producer.push({"i": i}, partition=i % 2)
    producer.flush().wait()
    consumer = topic.consumer("worker")
    events = drain(consumer, limit=10)
    assert len(events) == 10
    by_place = {(e.partition_index, e.event_id): e for e in events}
    by_place[(0, 2)].acknowledge()  # i = 4
    by_place[(1, 0)].acknowledge()  # i = 1
    by_place[(0, 1)].acknowledge()  # an older one: does not move the position back
    consumer.close()

    resumed = topic.consumer("worker")
    rest = drain(resumed)
    assert sorted((e.partition_index, e.event_id) for e in rest) == [
        (0, 3),
        (0, 4),
        (1, 1),
        (1, 2),
        (1, 3),
        (1, 4),
    ]
    assert sorted(e.metadata["i"] for e in rest) == [3, 5, 6, 7, 8, 9]
    # Another name starts from the beginning.
    assert len(drain(topic.consumer("someone_else"))) == 10

    if backend.driver().capabilities.persistent_acknowledgements:
        driver = backend.reopen_driver()
        again = drain(driver.open_topic(topic.name).consumer("worker"))
        assert sorted(e.metadata["i"] for e in again) == [3, 5, 6, 7, 8, 9]


def test_d6_acknowledge_everything_then_new_events(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    for i in range(3):
        producer.push({"i": i})
    producer.flush().wait()
    consumer = topic.consumer("w")
    for event in drain(consumer):
        event.acknowledge()
    consumer.close()
    assert drain(topic.consumer("w"), timeout_ms=50) == []
    producer.push({"i": 3})
    producer.flush().wait()
    assert [e.metadata["i"] for e in drain(topic.consumer("w"))] == [3]


def test_d6_targets_restrict_partitions(make_topic: MakeTopic) -> None:
    topic = make_topic(num_partitions=3)
    producer = topic.producer()
    for i in range(9):
        producer.push({"i": i}, partition=i % 3)
    producer.flush().wait()
    events = drain(topic.consumer("t1", targets=[1]))
    assert sorted(e.metadata["i"] for e in events) == [1, 4, 7]
    assert {e.partition_index for e in events} == {1}
    events = drain(topic.consumer("t02", targets=[2, 0]))
    assert sorted(e.metadata["i"] for e in events) == [0, 2, 3, 5, 6, 8]
    assert len(drain(topic.consumer("all", targets=None))) == 9


@pytest.mark.parametrize("targets", [[3], [-1], [0, 7]])
def test_d6_invalid_targets_raise(make_topic: MakeTopic, targets: list[int]) -> None:
    topic = make_topic(num_partitions=3)
    with pytest.raises(Exception, match="Invalid target partition"):
        topic.consumer("c", targets=targets)


@pytest.mark.parametrize("targets", [["0"], [1.0], [True]])
def test_d6_ill_typed_targets_raise(make_topic: MakeTopic, targets: list[Any]) -> None:
    topic = make_topic(num_partitions=3)
    with pytest.raises(TypeError):
        topic.consumer("c", targets=targets)


# ========================================================================== D7: process


def _topic_with_events(make_topic: MakeTopic, count: int) -> TopicHandle:
    topic = make_topic(num_partitions=1)
    producer = topic.producer()
    for i in range(count):
        producer.push({"i": i}, f"data {i}".encode())
    producer.flush().wait()
    return topic


def test_d7_process_stops_on_stop_event_processor(make_topic: MakeTopic) -> None:
    topic = _topic_with_events(make_topic, 10)
    consumer = topic.consumer("c")
    seen: list[int] = []

    def processor(event: Event | None) -> None:
        assert event is not None
        seen.append(event.metadata["i"])
        assert _data(event) == f"data {event.metadata['i']}".encode()
        if len(seen) == 5:
            raise StopEventProcessor()

    consumer.process(processor)
    assert seen == [0, 1, 2, 3, 4]
    # Processing stopped after the 5th event: the 6th is still there.
    assert pull_one(consumer).metadata["i"] == 5


def test_d7_process_max_events(make_topic: MakeTopic) -> None:
    topic = _topic_with_events(make_topic, 10)
    consumer = topic.consumer("c")
    seen: list[int] = []
    consumer.process(lambda e: seen.append(e.metadata["i"]), max_events=3)
    assert seen == [0, 1, 2]
    consumer.process(lambda e: seen.append(e.metadata["i"]), timeout_ms=1000, max_events=2)
    assert seen == [0, 1, 2, 3, 4]


def test_d7_process_gives_none_on_timeout(make_topic: MakeTopic) -> None:
    topic = _topic_with_events(make_topic, 2)
    consumer = topic.consumer("c")
    seen: list[Any] = []
    consumer.process(
        lambda e: seen.append(None if e is None else e.metadata["i"]), timeout_ms=20, max_events=4
    )
    assert seen == [0, 1, None, None]


def test_d7_process_on_a_threaded_pool(make_topic: MakeTopic) -> None:
    topic = _topic_with_events(make_topic, 20)
    consumer = topic.consumer("c")
    pool = topic.driver.make_thread_pool(3)
    seen: list[int] = []
    threads: set[int] = set()
    lock = threading.Lock()

    def processor(event: Event | None) -> None:
        assert event is not None
        time.sleep(0.005)
        with lock:
            seen.append(event.metadata["i"])
            threads.add(threading.get_ident())

    consumer.process(processor, max_events=20, thread_pool=pool)
    # process returns only once every scheduled call has finished.
    assert sorted(seen) == list(range(20))
    assert threading.get_ident() not in threads


def test_d7_process_reraises_processor_errors(make_topic: MakeTopic) -> None:
    topic = _topic_with_events(make_topic, 5)
    consumer = topic.consumer("c")
    seen: list[int] = []

    def processor(event: Event | None) -> None:
        assert event is not None
        seen.append(event.metadata["i"])
        if event.metadata["i"] == 2:
            raise ValueError("bad event 2")

    with pytest.raises(ValueError, match="bad event 2"):
        consumer.process(processor)
    assert seen == [0, 1, 2]


def test_d7_process_reraises_on_a_threaded_pool(make_topic: MakeTopic) -> None:
    topic = _topic_with_events(make_topic, 5)
    consumer = topic.consumer("c")
    pool = topic.driver.make_thread_pool(2)

    def processor(event: Event | None) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        consumer.process(processor, max_events=5, thread_pool=pool)


def test_d7_stop_from_a_threaded_pool(make_topic: MakeTopic) -> None:
    topic = _topic_with_events(make_topic, 50)
    consumer = topic.consumer("c")
    pool = topic.driver.make_thread_pool(2)
    seen: list[int] = []
    lock = threading.Lock()

    def processor(event: Event | None) -> None:
        assert event is not None
        with lock:
            seen.append(event.metadata["i"])
        if event.metadata["i"] == 3:
            raise StopEventProcessor()
        time.sleep(0.01)

    started = time.monotonic()
    consumer.process(processor, thread_pool=pool)  # no max_events: only the stop ends it
    assert time.monotonic() - started < 10
    assert 3 in seen
    assert len(seen) < 50
