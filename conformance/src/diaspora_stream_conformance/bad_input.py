"""The bad-input catalogue: each bad input raises the documented exception, with a message that
names the problem, and leaves the topic intact.

"Intact" is checked the same way everywhere (:class:`KnownEvents`): before the bad input the test
stores a few known events; after it, a fresh consumer reads exactly those events (nothing lost,
nothing added, bytes unchanged) and the next good push still works and gets the next id.

Exception types: every error is a :class:`diaspora_stream.api.Exception` (or a subclass), except
arguments of the wrong kind, for which the C++ reference raises ``TypeError``; for those the suite
accepts either (``diaspora_stream.api.InvalidArgument`` is both). Errors of components
(validator, serializer, partition selector) may be raised by ``push`` or by the push future's
``wait``; errors of data selectors and allocators by ``pull`` or by the pull future's ``wait``
(the documentation allows both).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import pytest

from diaspora_stream.api import (
    ClosedError,
    Consumer,
    DataDescriptor,
    Driver,
    PartitionSelector,
    PartitionSelectorInterface,
    Producer,
    TopicHandle,
    Validator,
    register_partition_selector,
)
from diaspora_stream.api import Exception as DiasporaException

from .backend import BackendUnderTest
from .base import ConformanceBase
from .helpers import (
    WAIT_MS,
    consumer_name,
    event_key,
    read_all,
    take,
)
from .levels import MUST, SHOULD
from .python_components import RequiredKeyValidator

__all__ = ["BadInputTests", "KnownEvents", "error_of_pull", "error_of_push"]

#: Exception types accepted for arguments of the wrong kind (the reference raises TypeError).
WRONG_KIND = (DiasporaException, TypeError)


class KnownEvents:
    """A topic holding known events, to check that a bad input left it intact."""

    def __init__(
        self,
        backend: BackendUnderTest,
        driver: Driver,
        num_partitions: int = 2,
        count: int = 4,
        **components: Any,
    ) -> None:
        """Create a topic with ``num_partitions`` partitions and store ``count`` known events."""
        self.name = backend.create_topic(driver, num_partitions, **components)
        self.topic: TopicHandle = driver.open_topic(self.name)
        self.num_partitions = num_partitions
        producer = self.topic.producer("known")
        futures = [
            producer.push(
                {"known": i, "ok": True}, bytes([65 + i]) * (i + 1), partition=i % num_partitions
            )
            for i in range(count)
        ]
        assert producer.flush().wait(WAIT_MS), "storing the known events failed"
        self.expected: list[tuple[int, int, str, bytes]] = []
        for i, future in enumerate(futures):
            event_id = future.wait(WAIT_MS)
            assert event_id == i // num_partitions, f"known event {i} got id {event_id}"
            self.add_expected(
                i % num_partitions, {"known": i, "ok": True}, bytes([65 + i]) * (i + 1)
            )
        producer.close()

    def add_expected(self, partition: int, metadata: Any, data: bytes) -> None:
        """Record one more event that the test stored in ``partition`` on purpose."""
        event_id = sum(1 for key in self.expected if key[0] == partition)
        self.expected.append((partition, event_id, json.dumps(metadata, sort_keys=True), data))
        self.expected.sort()

    def check_intact(self, producer: Producer | None = None) -> None:
        """A fresh consumer reads exactly the known events; a good push then gets the next id.

        ``producer`` is the producer that received the bad input, if any: it must still work.
        """
        events = read_all(self.topic, len(self.expected))
        assert sorted(event_key(event) for event in events) == self.expected, (
            "the stored events changed after the bad input"
        )
        producer = producer if producer is not None else self.topic.producer()
        future = producer.push({"known": "after", "ok": True}, b"after", partition=0)
        assert producer.flush().wait(WAIT_MS)
        next_id = sum(1 for key in self.expected if key[0] == 0)
        assert future.wait(WAIT_MS) == next_id, "the next good push did not get the next id"


def error_of_push(producer: Producer, *args: Any, **kwargs: Any) -> BaseException:
    """The error of a bad push, raised by ``push`` itself or by its future's ``wait``."""
    try:
        future = producer.push(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - returned to the test
        return error
    try:
        result = future.wait(WAIT_MS)
    except Exception as error:  # noqa: BLE001 - returned to the test
        return error
    raise AssertionError(f"push{args!r} was accepted (event id {result!r})")


def error_of_pull(consumer: Consumer) -> BaseException:
    """The error of a pull, raised by ``pull`` itself or by its future's ``wait``."""
    try:
        future = consumer.pull()
    except Exception as error:  # noqa: BLE001 - returned to the test
        return error
    try:
        event = future.wait(WAIT_MS)
    except Exception as error:  # noqa: BLE001 - returned to the test
        return error
    raise AssertionError(f"the pull did not fail (it gave {event!r})")


def assert_error(
    error: BaseException,
    types: type[BaseException] | tuple[type[BaseException], ...],
    *keywords: str,
) -> None:
    """``error`` is one of ``types`` and its message contains one of ``keywords``."""
    assert isinstance(error, types), f"raised {type(error).__name__}: {error}"
    message = str(error).lower()
    assert any(keyword.lower() in message for keyword in keywords), (
        f"the message does not name the problem (expected one of {keywords}): {error}"
    )


def _raises(call: Callable[[], Any]) -> BaseException:
    try:
        result = call()
    except Exception as error:  # noqa: BLE001 - returned to the test
        return error
    raise AssertionError(f"no exception (returned {result!r})")


class ExplodingPartitionSelector(PartitionSelectorInterface):
    """Raises for metadata with ``"explode"``; returns ``n`` (out of range) for metadata with
    ``"out_of_range"``; otherwise the requested partition modulo n (0 without a request)."""

    type_name: ClassVar[str] = "diaspora-conformance-exploding"

    def __init__(self) -> None:
        """A selector with no partition yet."""
        self.count = 0

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> ExplodingPartitionSelector:
        """Create the selector (no configuration)."""
        return cls()

    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        """Remember how many partitions there are."""
        self.count = len(partitions)

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        """The partition for one event (or a deliberate failure)."""
        if isinstance(metadata, dict) and metadata.get("explode"):
            raise ValueError("selector exploded on purpose")
        if isinstance(metadata, dict) and metadata.get("out_of_range"):
            return self.count
        return 0 if requested is None else requested % self.count


register_partition_selector(ExplodingPartitionSelector.type_name, ExplodingPartitionSelector)


class _SelectorFailure(Exception):
    """Raised by the deliberately failing data selector."""


class BadInputTests(ConformanceBase):
    """Bad input raises the documented exception with a clear message and changes nothing."""

    # ------------------------------------------------------------------- drivers

    @MUST
    def test_unknown_backend_name(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Driver(backend=<unknown name or module>) raises Exception naming the backend."""
        known = KnownEvents(diaspora_backend, driver)
        error = _raises(lambda: Driver(backend="diaspora-conformance-no-such-backend"))
        assert_error(error, DiasporaException, "diaspora-conformance-no-such-backend")
        error = _raises(lambda: Driver(backend="unknown:libunknown.so"))
        assert_error(error, DiasporaException, "unknown")
        known.check_intact()

    @MUST
    def test_bad_driver_options_type(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Driver options that are not a JSON object raise Exception or TypeError naming options."""
        known = KnownEvents(diaspora_backend, driver)
        for options in ([1, 2], "root_path=/tmp", 42):
            error = _raises(
                functools.partial(Driver, backend=diaspora_backend.name, options=options)
            )
            assert_error(error, WRONG_KIND, "option")
        known.check_intact()

    @SHOULD
    def test_unknown_driver_option(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An unknown driver option is rejected with an Exception naming it."""
        known = KnownEvents(diaspora_backend, driver)
        options = dict(diaspora_backend.resolved_options())
        options["diaspora_conformance_no_such_option"] = 1
        error = _raises(lambda: Driver(backend=diaspora_backend.name, options=options))
        assert_error(error, DiasporaException, "diaspora_conformance_no_such_option")
        known.check_intact()

    # -------------------------------------------------------------------- topics

    @MUST
    @pytest.mark.parametrize(
        "bad_name", ["", "a/b", "..", "x\0y"], ids=["empty", "slash", "dotdot", "nul"]
    )
    def test_bad_topic_name(
        self, driver: Driver, diaspora_backend: BackendUnderTest, bad_name: str
    ) -> None:
        """A bad topic name makes create_topic and open_topic raise Exception; nothing is created.

        ``topic_exists`` may answer False or raise Exception.
        """
        known = KnownEvents(diaspora_backend, driver)
        before = set(driver.list_topics())
        assert_error(_raises(lambda: driver.create_topic(bad_name)), DiasporaException, "name")
        assert_error(_raises(lambda: driver.open_topic(bad_name)), DiasporaException, "name")
        try:
            assert driver.topic_exists(bad_name) is False
        except DiasporaException:
            pass
        assert set(driver.list_topics()) == before, "a bad topic name created something"
        known.check_intact()

    @MUST
    def test_bad_num_partitions(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """num_partitions that is not a positive integer raises Exception naming it."""
        known = KnownEvents(diaspora_backend, driver)
        for bad in (0, -1, "2", 1.5):
            name = diaspora_backend.topic_name("bad-partitions")
            error = _raises(
                functools.partial(driver.create_topic, name, options={"num_partitions": bad})
            )
            assert_error(error, WRONG_KIND, "partition")
            assert not driver.topic_exists(name), f"num_partitions={bad!r} created the topic"
        known.check_intact()

    @MUST
    def test_unknown_component_type(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A component of an unknown type raises Exception naming the type; nothing is created."""
        known = KnownEvents(diaspora_backend, driver)
        error = _raises(lambda: Validator.from_metadata(type="diaspora-conformance-no-such"))
        assert_error(error, DiasporaException, "diaspora-conformance-no-such")
        name = diaspora_backend.topic_name("bad-component")
        error = _raises(
            lambda: driver.create_topic(
                name, validator={"type": "diaspora-conformance-no-such-either"}
            )
        )
        assert_error(error, WRONG_KIND, "diaspora-conformance-no-such-either")
        assert not driver.topic_exists(name)
        known.check_intact()

    # ----------------------------------------------------------------- producing

    @MUST
    def test_invalid_metadata_json_text(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Metadata given as text that is not JSON raises Exception mentioning JSON."""
        known = KnownEvents(diaspora_backend, driver)
        producer = known.topic.producer()
        for text in ("{bad", "hello", '{"x":1,"y":', b"\xff\xfe"):
            assert_error(error_of_push(producer, text), DiasporaException, "json")
        known.check_intact(producer)

    @MUST
    def test_unconvertible_metadata_object(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Metadata objects that have no JSON form raise Exception or TypeError mentioning JSON."""
        known = KnownEvents(diaspora_backend, driver)
        producer = known.topic.producer()
        for metadata in ({"a": object()}, {1, 2}, [complex(1, 2)]):
            assert_error(error_of_push(producer, metadata), WRONG_KIND, "json")
        known.check_intact(producer)

    @MUST
    def test_non_finite_metadata(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Metadata holding NaN or an infinity raises Exception naming the key; nothing stored."""
        known = KnownEvents(diaspora_backend, driver)
        producer = known.topic.producer()
        for value in (float("nan"), float("inf"), float("-inf")):
            error = error_of_push(producer, {"ok": True, "reading": [1.0, value]}, b"x")
            assert_error(error, DiasporaException, "'reading'")
        known.check_intact(producer)

    @MUST
    def test_released_memoryview_data(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A released memoryview as data raises Exception saying the buffer cannot be read."""
        known = KnownEvents(diaspora_backend, driver)
        producer = known.topic.producer()
        released = memoryview(b"gone")
        released.release()
        for data in (released, [b"ok", released]):
            assert_error(error_of_push(producer, {"ok": True}, data), DiasporaException, "buffer")
        known.check_intact(producer)

    @MUST
    def test_non_buffer_data(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Data that is not a buffer (or a list of buffers) raises, naming the buffer protocol."""
        known = KnownEvents(diaspora_backend, driver)
        producer = known.topic.producer()
        for data in (12, "text", [b"ok", 3], {"a": b"b"}):
            assert_error(error_of_push(producer, {"ok": True}, data), WRONG_KIND, "buffer")
        known.check_intact(producer)

    @MUST
    def test_bad_partition_argument(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A negative or non-integer partition raises Exception or TypeError naming partition."""
        known = KnownEvents(diaspora_backend, driver)
        producer = known.topic.producer()
        for partition in (-1, 1.5, "0"):
            error = error_of_push(producer, {"ok": True}, b"", partition=partition)
            assert_error(error, WRONG_KIND, "partition")
        known.check_intact(producer)

    @MUST
    def test_validator_rejecting(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """An event a validator rejects raises Exception carrying the validator's reason."""
        known = KnownEvents(
            diaspora_backend,
            driver,
            validator=Validator.from_metadata(type=RequiredKeyValidator.type_name, key="ok"),
        )
        producer = known.topic.producer()
        error = error_of_push(producer, {"known": "rejected"}, b"nope")
        assert_error(error, DiasporaException, "'ok'")
        known.check_intact(producer)

    @MUST
    def test_schema_validator_rejecting(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An event the built-in schema validator rejects raises Exception about the schema."""
        schema = {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}
        known = KnownEvents(
            diaspora_backend,
            driver,
            validator=Validator.from_metadata(type="schema", schema=schema),
        )
        producer = known.topic.producer()
        for metadata in ({"ok": "yes"}, {"other": 1}, [1]):
            assert_error(error_of_push(producer, metadata), DiasporaException, "schema")
        known.check_intact(producer)

    @MUST
    def test_partition_selector_raising(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A partition selector that raises makes the push fail with the selector's message."""
        known = KnownEvents(
            diaspora_backend,
            driver,
            partition_selector=PartitionSelector.from_metadata(
                type=ExplodingPartitionSelector.type_name
            ),
        )
        producer = known.topic.producer()
        error = error_of_push(producer, {"explode": True}, b"boom")
        assert isinstance(error, (DiasporaException, ValueError)), repr(error)
        assert "exploded on purpose" in str(error), f"the selector's message is lost: {error}"
        known.check_intact(producer)

    @MUST
    def test_partition_selector_out_of_range(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A partition selector returning an out-of-range index makes the push raise Exception."""
        known = KnownEvents(
            diaspora_backend,
            driver,
            partition_selector=PartitionSelector.from_metadata(
                type=ExplodingPartitionSelector.type_name
            ),
        )
        producer = known.topic.producer()
        error = error_of_push(producer, {"out_of_range": True}, b"nowhere")
        assert_error(error, DiasporaException, "partition")
        known.check_intact(producer)

    # ----------------------------------------------------------------- consuming

    @MUST
    def test_out_of_range_targets(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """consumer(targets=[i]) with i outside the topic's partitions raises Exception naming i."""
        known = KnownEvents(diaspora_backend, driver)
        for target in (known.num_partitions, 5, -1):
            error = _raises(
                functools.partial(known.topic.consumer, consumer_name(), targets=[target])
            )
            assert_error(error, DiasporaException, str(target))
        known.check_intact()

    @MUST
    def test_out_of_range_views(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Blocks or segments past the end of the data raise Exception, also in a selector.

        An offset past the end gives ``DataDescriptor()``, as in the reference.
        """
        known = KnownEvents(diaspora_backend, driver)
        descriptor = DataDescriptor("", 10)
        assert descriptor.make_sub_view(offset=11, size=1) == DataDescriptor()
        for make in (
            lambda: descriptor.make_strided_view(offset=0, num_blocks=4, block_size=3, gap_size=1),
            lambda: descriptor.make_unstructured_view(segments=[(0, 5), (8, 4)]),
        ):
            assert_error(_raises(make), DiasporaException, "bounds", "past the end", "exceed")

        def selector(metadata: Any, given: DataDescriptor) -> DataDescriptor:
            return given.make_unstructured_view(segments=[(0, 1), (given.size, 1)])

        consumer = known.topic.consumer(
            consumer_name(), data_selector=selector, data_allocator=lambda m, d: [bytearray(8)]
        )
        error = error_of_pull(consumer)
        assert_error(error, DiasporaException, "bounds", "past the end", "exceed")
        consumer.close()
        known.check_intact()

    @MUST
    def test_overlapping_unstructured_view(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Overlapping or unsorted unstructured segments raise Exception saying so."""
        known = KnownEvents(diaspora_backend, driver)
        descriptor = DataDescriptor("", 100)
        for segments in ([(0, 20), (10, 20)], [(50, 5), (10, 5)]):
            error = _raises(functools.partial(descriptor.make_unstructured_view, segments=segments))
            assert_error(error, DiasporaException, "overlap", "order")
        known.check_intact()

    @MUST
    def test_allocator_read_only_memory(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An allocator returning read-only memory makes the pull raise Exception saying so."""
        known = KnownEvents(diaspora_backend, driver)
        consumer = known.topic.consumer(
            consumer_name(),
            data_selector=lambda metadata, descriptor: descriptor,
            data_allocator=lambda metadata, descriptor: [bytes(descriptor.size)],
        )
        assert_error(error_of_pull(consumer), DiasporaException, "read-only", "writable")
        consumer.close()
        known.check_intact()

    @MUST
    def test_allocator_too_little_memory(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An allocator returning too little memory makes the pull raise Exception (capacity)."""
        known = KnownEvents(diaspora_backend, driver)
        consumer = known.topic.consumer(
            consumer_name(),
            data_selector=lambda metadata, descriptor: descriptor,
            data_allocator=lambda metadata, descriptor: [bytearray(descriptor.size - 1)],
        )
        assert_error(error_of_pull(consumer), DiasporaException, "capacity", "too small")
        consumer.close()
        known.check_intact()

    @MUST
    def test_data_selector_raising(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A data selector's exception comes out of the pull (as is, or wrapped in Exception)."""
        known = KnownEvents(diaspora_backend, driver)

        def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
            raise _SelectorFailure("selector failed on purpose")

        consumer = known.topic.consumer(
            consumer_name(), data_selector=selector, data_allocator=lambda m, d: []
        )
        error = error_of_pull(consumer)
        assert isinstance(error, (_SelectorFailure, DiasporaException)), repr(error)
        assert "selector failed on purpose" in str(error), f"the message is lost: {error}"
        consumer.close()
        known.check_intact()

    @MUST
    def test_failed_data_fetch_does_not_skip_the_event(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """After a data selector or allocator fails, the consumer's next pull retries that event."""
        known = KnownEvents(diaspora_backend, driver, num_partitions=1)
        failure = ["selector"]

        def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
            if failure[0] == "selector":
                raise _SelectorFailure("not yet")
            return descriptor

        def allocator(metadata: Any, descriptor: DataDescriptor) -> list[Any]:
            if failure[0] == "allocator":
                return [bytes(descriptor.size)]
            return [bytearray(descriptor.size)]

        consumer = known.topic.consumer(
            consumer_name(), data_selector=selector, data_allocator=allocator
        )
        for failing in ("selector", "allocator"):
            failure[0] = failing
            error_of_pull(consumer)
            failure[0] = ""
            event = consumer.pull().wait(WAIT_MS)
            expected_id = 0 if failing == "selector" else 1
            assert event is not None and event.event_id == expected_id, (
                f"the event whose {failing} failed was skipped: got {event!r}"
            )
            assert event_key(event) == known.expected[expected_id]
        consumer.close()
        known.check_intact()

    @MUST
    def test_wait_with_non_number_timeout(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """wait(<not a number>) raises Exception or TypeError, on pending and completed futures."""
        known = KnownEvents(diaspora_backend, driver)
        producer = known.topic.producer()
        expected_id = sum(1 for key in known.expected if key[0] == 0)
        pushed = producer.push({"ok": True}, partition=0)
        flushed = producer.flush()
        assert flushed.wait(WAIT_MS) is True
        assert pushed.wait(WAIT_MS) == expected_id
        known.add_expected(0, {"ok": True}, b"")
        consumer = known.topic.consumer(consumer_name())
        pulled = consumer.pull()
        assert pulled.wait(WAIT_MS) is not None
        take(consumer, len(known.expected) - 1)
        pending = consumer.pull()
        futures: list[tuple[str, Any]] = [
            ("completed push future", pushed),
            ("completed flush future", flushed),
            ("completed pull future", pulled),
            ("pending pull future", pending),
        ]
        for label, future in futures:
            for timeout in ("soon", None, [1]):
                try:
                    result = future.wait(timeout)
                except WRONG_KIND as error:
                    assert_error(error, WRONG_KIND, "timeout")
                else:
                    raise AssertionError(f"{label}.wait({timeout!r}) returned {result!r}")
        assert pending.wait(0) is None, "a bad wait broke the pending future"
        assert pushed.wait(0) == expected_id, "a bad wait broke the completed future"
        consumer.close()
        known.check_intact(producer)

    @MUST
    def test_push_after_close(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """push and flush on a closed producer raise ClosedError; its events are stored."""
        known = KnownEvents(diaspora_backend, driver)
        producer = known.topic.producer()
        producer.push({"ok": True, "last": True}, b"last", partition=1)
        producer.close()
        assert_error(_raises(lambda: producer.push({"ok": True})), ClosedError, "closed")
        assert_error(_raises(lambda: producer.flush()), ClosedError, "closed")
        known.add_expected(1, {"ok": True, "last": True}, b"last")
        known.check_intact()

    @MUST
    def test_pull_after_close(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """pull on a closed consumer raises ClosedError."""
        known = KnownEvents(diaspora_backend, driver)
        consumer = known.topic.consumer(consumer_name())
        assert consumer.pull().wait(WAIT_MS) is not None
        consumer.close()
        assert_error(error_of_pull(consumer), ClosedError, "closed")
        known.check_intact()
