"""The behaviour catalogue: one named test per documented behaviour of the API.

Sources: the reference's own tests (``spec/reference-api.md`` §9.2, §9.3), the documentation's
semantics (§10) and the design's deviations D1-D7 that a backend can get wrong. Each test's
docstring states the behaviour in one line; the report and the generated catalogue show it.

The module also holds the small helpers that :mod:`.bad_input` and :mod:`.capability_checks`
share (reading a topic back, collecting an event's bytes, the Python components of D5). Every
helper goes through the public API only (:mod:`diaspora_stream.api`): a third-party backend runs
these tests.
"""

from __future__ import annotations

import array
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from diaspora_stream.api import (
    ByteArrayAllocator,
    Consumer,
    DataDescriptor,
    Driver,
    Event,
    FullDataSelector,
    InvalidMetadata,
    Ordering,
    PartitionSelector,
    PartitionSelectorInterface,
    Producer,
    Serializer,
    SerializerInterface,
    StopEventProcessor,
    ThreadPool,
    TopicHandle,
    Validator,
    ValidatorInterface,
    register_partition_selector,
    register_serializer,
    register_validator,
)
from diaspora_stream.api import Exception as DiasporaException

from .backend import BackendUnderTest
from .base import ConformanceBase
from .levels import MUST, SHOULD, requires

__all__ = [
    "BehaviourTests",
    "QUIET_MS",
    "WAIT_MS",
    "EnvelopeSerializer",
    "KeyPartitionSelector",
    "RequiredKeyValidator",
    "assert_no_more_events",
    "consumer_name",
    "data_bytes",
    "event_key",
    "read_all",
    "run_in_threads",
    "take",
]

#: How long a test waits for something that must happen (an event, a flush), in ms.
WAIT_MS = 10_000
#: How long a test watches for events that must *not* arrive, in ms.
QUIET_MS = 100

_LOWER = b"abcdefghijklmnopqrstuvwxyz"
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ----------------------------------------------------------------------------- helpers


def consumer_name(prefix: str = "c") -> str:
    """A consumer name that no other consumer of the run uses (so it starts at the beginning)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def data_bytes(event: Event) -> bytes:
    """The bytes of an event's data, its buffers concatenated."""
    return b"".join(bytes(memoryview(buffer).cast("B")) for buffer in event.data)


def event_key(event: Event) -> tuple[int, int, str, bytes]:
    """``(partition, id, metadata as canonical JSON, data)``: what identifies a stored event."""
    assert event.event_id is not None, "a consumer returned the NoMoreEvents sentinel as an event"
    return (
        event.partition_index,
        event.event_id,
        json.dumps(event.metadata, sort_keys=True),
        data_bytes(event),
    )


def take(consumer: Consumer, count: int, wait_ms: int = WAIT_MS) -> list[Event]:
    """Pull ``count`` events, failing if one does not arrive within ``wait_ms``."""
    events: list[Event] = []
    while len(events) < count:
        event = consumer.pull().wait(wait_ms)
        assert event is not None and event.event_id is not None, (
            f"only {len(events)} of {count} expected events arrived "
            f"(the next pull waited {wait_ms} ms)"
        )
        events.append(event)
    return events


def assert_no_more_events(consumer: Consumer, quiet_ms: int = QUIET_MS) -> None:
    """Check that no further event arrives within ``quiet_ms``."""
    extra = consumer.pull().wait(quiet_ms)
    assert extra is None or extra.event_id is None, f"unexpected extra event: {extra!r}"


def read_all(topic: TopicHandle, count: int, **consumer_options: Any) -> list[Event]:
    """Read exactly ``count`` events with a fresh consumer (and check that no more arrive)."""
    consumer = topic.consumer(consumer_name(), **consumer_options)
    try:
        events = take(consumer, count)
        assert_no_more_events(consumer)
    finally:
        consumer.close()
    return events


def push_and_flush(producer: Producer, events: Iterable[tuple[Any, Any]]) -> list[int]:
    """Push ``(metadata, data)`` pairs, flush, and return the events' ids."""
    futures = [producer.push(metadata, data) for metadata, data in events]
    assert producer.flush().wait(WAIT_MS) is True, "flush did not complete in time"
    ids = [future.wait(WAIT_MS) for future in futures]
    assert all(isinstance(event_id, int) for event_id in ids), f"push futures gave {ids}"
    return [int(event_id) for event_id in ids if event_id is not None]


def run_in_threads(
    targets: Sequence[Callable[[], None]], timeout_s: float = 60.0
) -> list[BaseException]:
    """Run each callable in its own thread; return the errors they raised (join with timeout)."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            errors.append(TimeoutError(f"a thread did not finish within {timeout_s} s"))
    return errors


def _alphabet_topic(backend: BackendUnderTest, driver: Driver) -> TopicHandle:
    """A topic holding one event whose data is two segments: a-z then A-Z (DataSelectionTest)."""
    topic = driver.open_topic(backend.create_topic(driver))
    push_and_flush(topic.producer(), [({}, [_LOWER, _UPPER])])
    return topic


def _select(
    topic: TopicHandle, selector: Callable[[Any, DataDescriptor], DataDescriptor | None]
) -> bytes:
    """Consume the only event of ``topic`` through ``selector`` and an exact allocator."""
    events = read_all(
        topic,
        1,
        data_selector=selector,
        data_allocator=lambda metadata, descriptor: (
            [bytearray(descriptor.size)] if descriptor.size else []
        ),
    )
    return data_bytes(events[0])


# ------------------------------------------------------------ Python components (D5)


class RequiredKeyValidator(ValidatorInterface):
    """Rejects metadata that is not an object holding the configured ``key``."""

    type_name: ClassVar[str] = "diaspora-conformance-required-key"

    def __init__(self, key: str) -> None:
        """Require ``key`` in every event's metadata."""
        self.key = key

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> RequiredKeyValidator:
        """Create from ``{"type": ..., "key": "name"}``."""
        return cls(str(metadata.get("key", "ok")))

    def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
        """Raise :class:`InvalidMetadata` naming the missing key."""
        if not isinstance(metadata, dict) or self.key not in metadata:
            raise InvalidMetadata(f"metadata has no required key {self.key!r}")

    def metadata(self) -> dict[str, Any]:
        """The configuration, with its type."""
        return {"type": self.type_name, "key": self.key}


class EnvelopeSerializer(SerializerInterface):
    """Stores ``b"ENV1" + JSON``; objects read back carry ``"serializer_tag": tag``, so a test can
    see that this serializer, with its configuration, is the one in use."""

    type_name: ClassVar[str] = "diaspora-conformance-envelope"

    def __init__(self, tag: str) -> None:
        """Tag every object read back with ``tag``."""
        self.tag = tag

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> EnvelopeSerializer:
        """Create from ``{"type": ..., "tag": "text"}``."""
        return cls(str(metadata.get("tag", "")))

    def serialize(self, metadata: Any) -> bytes:
        """Encode ``metadata`` behind a magic prefix."""
        return b"ENV1" + json.dumps(metadata, sort_keys=True).encode()

    def deserialize(self, blob: bytes | memoryview) -> Any:
        """Decode a blob written by :meth:`serialize`, tagging objects."""
        raw = bytes(blob)
        if not raw.startswith(b"ENV1"):
            raise DiasporaException(f"not an envelope blob: {raw[:16]!r}")
        value = json.loads(raw[4:])
        if isinstance(value, dict):
            value["serializer_tag"] = self.tag
        return value

    def metadata(self) -> dict[str, Any]:
        """The configuration, with its type."""
        return {"type": self.type_name, "tag": self.tag}


class KeyPartitionSelector(PartitionSelectorInterface):
    """Sends an event to partition ``metadata[key] % n``; without the key, to the requested
    partition modulo n, else to partition 0."""

    type_name: ClassVar[str] = "diaspora-conformance-by-key"

    def __init__(self, key: str) -> None:
        """Route by ``metadata[key]``."""
        self.key = key
        self.count = 0

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> KeyPartitionSelector:
        """Create from ``{"type": ..., "key": "name"}``."""
        return cls(str(metadata.get("key", "p")))

    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        """Remember how many partitions there are."""
        self.count = len(partitions)

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        """The partition for one event."""
        if isinstance(metadata, dict) and self.key in metadata:
            return int(metadata[self.key]) % self.count
        return 0 if requested is None else requested % self.count

    def metadata(self) -> dict[str, Any]:
        """The configuration, with its type."""
        return {"type": self.type_name, "key": self.key}


register_validator(RequiredKeyValidator.type_name, RequiredKeyValidator)
register_serializer(EnvelopeSerializer.type_name, EnvelopeSerializer)
register_partition_selector(KeyPartitionSelector.type_name, KeyPartitionSelector)


# ------------------------------------------------------------------------ the tests


class BehaviourTests(ConformanceBase):
    """Documented behaviours (reference-api §9, §10 and the design's deviations)."""

    # ------------------------------------------------------------ driver and topics

    @MUST
    def test_created_topic_exists(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A created topic exists, is listed and opens with the requested partitions."""
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        assert driver.topic_exists(name)
        assert name in driver.list_topics()
        assert len(driver.open_topic(name).partitions) == 2

    @MUST
    def test_missing_topic_does_not_exist_and_open_raises(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A topic never created does not exist, is not listed, and open_topic raises Exception."""
        name = diaspora_backend.topic_name("missing")
        assert driver.topic_exists(name) is False
        assert name not in driver.list_topics()
        try:
            driver.open_topic(name)
        except DiasporaException:
            pass
        else:
            raise AssertionError(f"open_topic({name!r}) of a missing topic did not raise")
        assert driver.topic_exists(name) is False, "open_topic of a missing topic created it"

    @MUST
    def test_duplicate_create_raises(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Creating a topic that exists raises Exception and leaves the existing topic intact."""
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        topic = driver.open_topic(name)
        push_and_flush(topic.producer(), [({"i": 0}, b"zero"), ({"i": 1}, b"one")])
        try:
            driver.create_topic(name, options={"num_partitions": 3})
        except DiasporaException as error:
            assert "exist" in str(error).lower(), f"message does not say why: {error}"
        else:
            raise AssertionError("creating an existing topic did not raise")
        reopened = driver.open_topic(name)
        assert len(reopened.partitions) == 2
        events = read_all(reopened, 2)
        assert sorted(data_bytes(event) for event in events) == [b"one", b"zero"]

    @MUST
    def test_list_topics_describes_topics(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """list_topics maps every topic name to a dict; component entries, if any, are dicts."""
        names = [diaspora_backend.create_topic(driver) for _ in range(2)]
        listed = driver.list_topics()
        assert isinstance(listed, dict)
        for name in names:
            assert name in listed, f"{name} missing from list_topics: {sorted(listed)}"
            info = listed[name]
            assert isinstance(info, dict)
            for key in ("validator", "serializer", "partition_selector"):
                if key in info:
                    assert isinstance(info[key], dict), f"{key} of {name} is {info[key]!r}"

    @MUST
    def test_topic_handle_name_and_partitions(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An open topic has its name and one dict per partition (1 if num_partitions is unset)."""
        name = diaspora_backend.topic_name()
        options = {k: v for k, v in diaspora_backend.topic_options.items() if k != "num_partitions"}
        driver.create_topic(name, options=options)
        topic = driver.open_topic(name)
        assert topic.name == name
        assert len(topic.partitions) == 1
        assert all(isinstance(info, dict) for info in topic.partitions)
        three = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        assert len(three.partitions) == 3

    @MUST
    def test_driver_thread_pools(self, driver: Driver) -> None:
        """default_thread_pool is one ThreadPool; make_thread_pool(n) has n threads."""
        pool = driver.default_thread_pool
        assert isinstance(pool, ThreadPool)
        assert driver.default_thread_pool is pool
        made = driver.make_thread_pool(2)
        try:
            assert isinstance(made, ThreadPool)
            assert made.thread_count == 2
            assert driver.make_thread_pool(1).thread_count == 1
        finally:
            made.shutdown()

    # --------------------------------------------------- producer/consumer objects

    @MUST
    def test_producer_properties(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A producer keeps its name, topic, thread pool, batch size and max_num_batches."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        pool = driver.default_thread_pool
        producer = topic.producer(
            "my_producer",
            batch_size=32,
            max_num_batches=4,
            thread_pool=pool,
            options={},
            ordering=Ordering.Loose,
        )
        assert producer.name == "my_producer"
        assert producer.topic == topic
        assert producer.thread_pool == pool
        assert producer.batch_size == 32
        assert producer.max_num_batches == 4
        assert topic.producer().thread_pool is not None

    @MUST
    def test_consumer_properties(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A consumer keeps its name and topic, and has a thread pool and positive batch sizes."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer("my_consumer")
        assert isinstance(consumer, Consumer)
        assert consumer.name == "my_consumer"
        assert consumer.topic == topic
        assert consumer.thread_pool is not None
        assert consumer.batch_size > 0
        assert consumer.max_num_batches > 0

    # ---------------------------------------------------------------------- pushing

    @MUST
    def test_push_ids_dense_per_partition(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Ids are 0, 1, 2, ... in each partition (partitions reuse ids); futures give them."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        producer = topic.producer()
        plan = [0, 1, 0, 2, 0, 1, 0, 0, 2]
        futures = [
            producer.push({"n": n, "p": p}, b"d%d" % n, partition=p) for n, p in enumerate(plan)
        ]
        assert producer.flush().wait(WAIT_MS)
        counters = [0, 0, 0]
        for n, (future, partition) in enumerate(zip(futures, plan, strict=True)):
            assert future.wait(WAIT_MS) == counters[partition], (
                f"event {n} of partition {partition}"
            )
            counters[partition] += 1
        events = read_all(topic, len(plan))
        seen: dict[int, list[int]] = {0: [], 1: [], 2: []}
        for event in events:
            assert event.metadata["p"] == event.partition_index
            seen[event.partition_index].append(event.event_id or 0)
            assert data_bytes(event) == b"d%d" % event.metadata["n"]
        assert seen == {p: list(range(counters[p])) for p in range(3)}

    @MUST
    def test_flush_makes_events_visible(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """After flush() completes, every event pushed before it is visible to a new consumer."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer(batch_size=1000)
        for i in range(5):
            producer.push({"i": i}, b"x" * i)
        flushed = producer.flush()
        assert flushed.wait(WAIT_MS) is True
        events = read_all(topic, 5)
        assert [event.metadata["i"] for event in events] == list(range(5))
        assert [data_bytes(event) for event in events] == [b"x" * i for i in range(5)]

    @MUST
    def test_flush_future(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """flush() returns a future: wait gives True, then completed is true (also callable)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        assert producer.flush().wait(WAIT_MS) is True, "flushing nothing must complete"
        producer.push({"a": 1})
        future = producer.flush()
        assert future.wait(WAIT_MS) is True
        assert future.completed
        assert future.completed() is True

    @MUST
    def test_push_returns_future_that_may_be_dropped(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """push returns a future at once; dropping it is fine: a flush still stores the event."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer(batch_size=64)
        kept = None
        for i in range(20):
            future = producer.push({"i": i})
            assert hasattr(future, "wait") and hasattr(future, "completed")
            if i == 7:
                kept = future
        assert producer.flush().wait(WAIT_MS) is True
        assert kept is not None and kept.completed
        assert kept.wait(0) == 7, "a completed push future answers wait(0) with its id"
        events = read_all(topic, 20, data_allocator=None)
        assert [event.metadata["i"] for event in events] == list(range(20))

    @MUST
    def test_str_metadata_is_json_text(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A str (or bytes) metadata is parsed as JSON text: push('"hi"') stores the string hi."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(
            topic.producer(),
            [('{"a": 1, "b": [true, null]}', b""), ('"hi"', b""), (b"[1, 2.5]", b""), ("7", b"")],
        )
        events = read_all(topic, 4)
        assert [event.metadata for event in events] == [
            {"a": 1, "b": [True, None]},
            "hi",
            [1, 2.5],
            7,
        ]

    @MUST
    def test_metadata_round_trip(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """JSON-able metadata of every JSON type comes back equal (tuples as lists).

        A top-level string is pushed as JSON text (``'"plain string"'``): a ``str`` is parsed.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        values: list[Any] = [
            {
                "int": -5,
                "large": 2**53,
                "float": 1.25,
                "text": 'h\u00e9llo \u2603 "quoted" \\ \n',
                "list": [1, "a", None, True, False],
                "nested": {"a": {"b": [], "c": {}}},
                "tuple": (1, 2),
            },
            [1, [2, [3]]],
            '"plain string"',
            3.5,
            None,
            True,
            {},
        ]
        push_and_flush(topic.producer(), [(value, b"") for value in values])
        expected = [dict(values[0], tuple=[1, 2]), values[1], "plain string", *values[3:]]
        assert [event.metadata for event in read_all(topic, len(values))] == expected

    @MUST
    def test_data_round_trip_buffers_and_segments(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Data given as bytes, bytearray, memoryview or a list of them comes back concatenated."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        inputs: list[Any] = [
            b"bytes",
            bytearray(b"bytearray"),
            memoryview(b"memoryview"),
            [b"seg", bytearray(b"ment"), memoryview(b"s")],
            [b"", b"with-empty", b""],
            b"",
            [],
        ]
        expected = [b"bytes", b"bytearray", b"memoryview", b"segments", b"with-empty", b"", b""]
        push_and_flush(topic.producer(), [({"i": i}, data) for i, data in enumerate(inputs)])
        assert [data_bytes(event) for event in read_all(topic, len(inputs))] == expected

    @MUST
    def test_default_partition_selector_round_robin(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """The default selector is round robin from 0; a hint r gives r % n and does not advance."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        producer = topic.producer()
        hints: list[int | None] = [None, None, None, None, 5, None, 7, None, 3, None]
        expected = [0, 1, 2, 0, 2, 1, 1, 2, 0, 0]
        for n, hint in enumerate(hints):
            producer.push({"n": n}, partition=hint)
        assert producer.flush().wait(WAIT_MS)
        events = read_all(topic, len(hints))
        placed = {event.metadata["n"]: event.partition_index for event in events}
        assert [placed[n] for n in range(len(hints))] == expected

    @MUST
    def test_strict_ordering_with_thread_pool(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """With Ordering.Strict, events prepared on a multi-thread pool are stored in push order."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        pool = driver.make_thread_pool(2)
        try:
            producer = topic.producer(ordering=Ordering.Strict, thread_pool=pool)
            ids = push_and_flush(producer, [({"i": i}, b"") for i in range(200)])
        finally:
            pool.shutdown()
        assert ids == list(range(200))
        events = read_all(topic, 200, data_allocator=None)
        assert [event.metadata["i"] for event in events] == list(range(200))

    # ---------------------------------------------------------------------- futures

    @MUST
    def test_wait_timeout_returns_none_and_can_be_retried(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """wait(timeout) returns None if nothing arrives in time; waiting again later succeeds."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name())
        future = consumer.pull()
        assert future.wait(50) is None
        assert future.wait(timeout_ms=20) is None
        push_and_flush(topic.producer(), [({"late": True}, b"late")])
        event = future.wait(WAIT_MS)
        assert event is not None and event.metadata == {"late": True}
        assert data_bytes(event) == b"late"
        assert future.completed

    @MUST
    def test_wait_zero_polls(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """wait(0) returns at once: None for a pending future, the value of a completed one (D1)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name())
        start = time.monotonic()
        assert consumer.pull().wait(0) is None
        assert time.monotonic() - start < 1.0, "wait(0) blocked"
        producer = topic.producer()
        future = producer.push({"a": 1})
        assert producer.flush().wait(WAIT_MS)
        assert future.wait(0) == 0

    @MUST
    def test_wait_negative_blocks_until_completion(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """wait(-1) and wait() block until the operation completes (D1)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name())
        results: list[Any] = []

        def waiter() -> None:
            results.append(consumer.pull().wait(-1))
            results.append(consumer.pull().wait())

        thread = threading.Thread(target=waiter, daemon=True)
        thread.start()
        time.sleep(0.2)
        assert not results, "wait(-1) returned before any event was pushed"
        push_and_flush(topic.producer(), [({"i": 0}, b""), ({"i": 1}, b"")])
        thread.join(WAIT_MS / 1000)
        assert not thread.is_alive(), "wait(-1) did not return after the events were stored"
        assert [event.metadata["i"] for event in results] == [0, 1]

    @MUST
    def test_wait_signature_and_completed_property(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """wait takes timeout_ms by position or keyword; completed is a property, callable too."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        first = producer.push({"i": 0})
        second = producer.push({"i": 1})
        assert first.wait(WAIT_MS) == 0
        assert second.wait(timeout_ms=WAIT_MS) == 1
        assert first.completed and first.completed() is True
        pulled = topic.consumer(consumer_name()).pull()
        event = pulled.wait(timeout_ms=WAIT_MS)
        assert event is not None and event.event_id == 0
        assert pulled.completed and pulled.completed() is True

    # -------------------------------------------------------------------- consuming

    @MUST
    def test_consume_events_in_push_order(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer gets a partition's events in push order with ids 0..n-1, then nothing."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(
            topic.producer(),
            [({"event_num": i}, b"This is data for event %d" % i) for i in range(100)],
        )
        acknowledgements = self.backend_capabilities(diaspora_backend).acknowledgements
        consumer = topic.consumer("myconsumer")
        for i, event in enumerate(take(consumer, 100)):
            assert event.event_id == i
            assert event.metadata["event_num"] == i
            assert isinstance(event.partition, dict)
            if acknowledgements and i % 5 == 0:
                event.acknowledge()
        for _ in range(3):
            assert_no_more_events(consumer, 30)

    @MUST
    def test_consumer_default_fetches_whole_data(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Without selector or allocator, event.data is a one-element list holding all the data."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": 0}, [b"hello ", b"world"]), ({"i": 1}, b"")])
        full, empty = read_all(topic, 2)
        assert isinstance(full.data, list) and len(full.data) == 1
        assert bytes(memoryview(full.data[0])) == b"hello world"
        assert isinstance(empty.data, list) and data_bytes(empty) == b""

    @MUST
    def test_consumer_iteration(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Iterating over a consumer yields the events in order."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(
            topic.producer(), [({"index": i, "value": f"event_{i}"}, b"") for i in range(10)]
        )
        count = 0
        for event in topic.consumer(consumer_name()):
            assert event.event_id == count
            assert event.metadata == {"index": count, "value": f"event_{count}"}
            count += 1
            if count == 10:
                break
        assert count == 10

    @MUST
    def test_even_odd_data_selector(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A selector keeping even events' data: even events get their bytes, odd ones none."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(
            topic.producer(),
            [({"event_num": i}, b"This is data for event %d" % i) for i in range(100)],
        )

        def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor | None:
            return descriptor if metadata["event_num"] % 2 == 0 else None

        def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
            return [bytearray(descriptor.size)] if descriptor.size else []

        events = read_all(topic, 100, data_selector=selector, data_allocator=allocator)
        for i, event in enumerate(events):
            assert event.event_id == i and event.metadata["event_num"] == i
            if i % 2 == 0:
                assert len(event.data) == 1
                assert data_bytes(event) == b"This is data for event %d" % i
            else:
                assert data_bytes(event) == b"", f"odd event {i} got data"

    @MUST
    def test_select_no_data(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Selecting DataDescriptor() gives an event with no data."""
        topic = _alphabet_topic(diaspora_backend, driver)
        assert _select(topic, lambda metadata, descriptor: DataDescriptor()) == b""

    @MUST
    def test_select_whole_data(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Selecting the given descriptor gives all the data, segments concatenated (52 bytes)."""
        topic = _alphabet_topic(diaspora_backend, driver)
        assert _select(topic, lambda metadata, descriptor: descriptor) == _LOWER + _UPPER

    @MUST
    def test_select_sub_view(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """make_sub_view(offset=13, size=26) selects exactly those 26 bytes."""
        topic = _alphabet_topic(diaspora_backend, driver)
        selected = _select(
            topic, lambda metadata, descriptor: descriptor.make_sub_view(offset=13, size=26)
        )
        assert selected == b"nopqrstuvwxyzABCDEFGHIJKLM"

    @MUST
    def test_select_strided_view(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """make_strided_view (alias make_stride_view) selects blocks separated by gaps."""
        for method in ("make_strided_view", "make_stride_view"):
            topic = _alphabet_topic(diaspora_backend, driver)

            def selector(
                metadata: Any, descriptor: DataDescriptor, method: str = method
            ) -> DataDescriptor:
                view: DataDescriptor = getattr(descriptor, method)(
                    offset=13, num_blocks=3, block_size=4, gap_size=2
                )
                return view

            assert _select(topic, selector) == b"nopqtuvwzABC", method

    @MUST
    def test_select_unstructured_view(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """make_unstructured_view selects the listed (offset, size) segments in order."""
        topic = _alphabet_topic(diaspora_backend, driver)
        selected = _select(
            topic,
            lambda metadata, descriptor: descriptor.make_unstructured_view(
                segments=[(3, 6), (15, 4), (27, 8)]
            ),
        )
        assert selected == b"defghipqrsBCDEFGHI"

    @MUST
    def test_selector_returning_none_fetches_no_data(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A data selector returning None means "no data", with or without an allocator."""
        topic = _alphabet_topic(diaspora_backend, driver)
        (event,) = read_all(topic, 1, data_selector=lambda metadata, descriptor: None)
        assert data_bytes(event) == b""
        assert _select(topic, lambda metadata, descriptor: None) == b""

    @MUST
    def test_allocator_called_with_selection(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """The allocator receives the event's metadata and the selected descriptor."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"id": 1}, b"0123456789")])
        calls: list[tuple[Any, int]] = []

        def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
            calls.append((metadata, descriptor.size))
            return [bytearray(descriptor.size)]

        (event,) = read_all(
            topic,
            1,
            data_selector=lambda metadata, descriptor: descriptor.make_sub_view(offset=2, size=5),
            data_allocator=allocator,
        )
        assert calls == [({"id": 1}, 5)]
        assert data_bytes(event) == b"23456"

    @MUST
    def test_event_data_is_the_allocator_list(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """event.data is the very list the allocator returned, filled with the selected bytes."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"id": 1}, b"hello world")])
        returned: list[list[bytearray]] = []

        def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
            buffers = [bytearray(descriptor.size)]
            returned.append(buffers)
            return buffers

        (event,) = read_all(
            topic,
            1,
            data_selector=lambda metadata, descriptor: descriptor,
            data_allocator=allocator,
        )
        assert event.data is returned[0]
        assert isinstance(event.data[0], bytearray) and event.data[0] == b"hello world"

    @MUST
    def test_full_data_selector_and_bytearray_allocator(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """FullDataSelector with ByteArrayAllocator gives [bytearray] holding the whole data."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"id": 1}, [b"ab", b"cd"])])
        (event,) = read_all(
            topic, 1, data_selector=FullDataSelector, data_allocator=ByteArrayAllocator
        )
        assert len(event.data) == 1 and isinstance(event.data[0], bytearray)
        assert event.data[0] == b"abcd"

    @MUST
    def test_allocator_list_of_several_buffers_is_filled_in_order(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """The selected bytes fill the allocator's buffers contiguously, in order."""
        topic = _alphabet_topic(diaspora_backend, driver)
        buffers = [bytearray(10), bytearray(30), bytearray(12)]
        read_all(
            topic,
            1,
            data_selector=FullDataSelector,
            data_allocator=lambda metadata, descriptor: buffers,
        )
        assert b"".join(buffers) == _LOWER + _UPPER
        assert bytes(buffers[0]) == b"abcdefghij"

    # -------------------------------------------------------------- acknowledgements

    @MUST
    @requires("acknowledgements")
    def test_acknowledge_then_resume_by_name(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer created again with the same name resumes after its last acknowledged event."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(10)])
        name = consumer_name("resume")
        first = topic.consumer(name)
        events = take(first, 4)
        events[3].acknowledge()
        first.close()
        again = topic.consumer(name)
        assert [event.event_id for event in take(again, 6)] == list(range(4, 10))
        assert_no_more_events(again)
        other = read_all(topic, 10)
        assert [event.event_id for event in other] == list(range(10)), "names are independent"

    @MUST
    @requires("acknowledgements")
    def test_acknowledgement_is_per_partition(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Acknowledging an event covers its partition only: other partitions restart at 0."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=2))
        producer = topic.producer()
        for i in range(8):
            producer.push({"i": i}, partition=i % 2)
        assert producer.flush().wait(WAIT_MS)
        name = consumer_name("per-partition")
        consumer = topic.consumer(name)
        for event in take(consumer, 8):
            if event.partition_index == 0 and event.event_id == 2:
                event.acknowledge()
        consumer.close()
        resumed = topic.consumer(name)
        keys = sorted((event.partition_index, event.event_id) for event in take(resumed, 5))
        assert keys == [(0, 3), (1, 0), (1, 1), (1, 2), (1, 3)]
        assert_no_more_events(resumed)

    @MUST
    def test_targets_restrict_partitions(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer given targets=[...] reads only those partitions (D6)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        producer = topic.producer()
        for i in range(9):
            producer.push({"i": i}, partition=i % 3)
        assert producer.flush().wait(WAIT_MS)
        only_one = read_all(topic, 3, targets=[1])
        assert sorted(event.metadata["i"] for event in only_one) == [1, 4, 7]
        assert {event.partition_index for event in only_one} == {1}
        two = read_all(topic, 6, targets=[2, 0])
        assert sorted(event.metadata["i"] for event in two) == [0, 2, 3, 5, 6, 8]

    # ------------------------------------------------------------------- concurrency

    @MUST
    def test_concurrent_producer_and_consumer(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A consumer thread reading while a producer thread pushes gets every event once."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        count = 300
        received: list[Event] = []
        consumer = topic.consumer(consumer_name())

        def produce() -> None:
            producer = topic.producer("concurrent")
            for i in range(count):
                producer.push({"index": i})
                if i % 50 == 49:
                    assert producer.flush().wait(WAIT_MS)
            assert producer.flush().wait(WAIT_MS)

        def consume() -> None:
            received.extend(take(consumer, count))

        errors = run_in_threads([consume, produce])
        assert not errors, errors
        assert [event.event_id for event in received] == list(range(count))
        assert [event.metadata["index"] for event in received] == list(range(count))
        assert_no_more_events(consumer)

    @MUST
    def test_producer_faster_than_consumer(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A slow consumer still gets every event of a faster producer, in order."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        received: list[int] = []
        consumer = topic.consumer(consumer_name())

        def produce() -> None:
            push_and_flush(
                topic.producer(), [({"index": i}, b"Event data %d" % i) for i in range(30)]
            )

        def consume() -> None:
            for event in take(consumer, 30):
                time.sleep(0.003)
                assert data_bytes(event) == b"Event data %d" % event.metadata["index"]
                received.append(event.metadata["index"])

        errors = run_in_threads([consume, produce])
        assert not errors, errors
        assert received == list(range(30))

    @MUST
    def test_multiple_producers_single_consumer(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Three producer threads' events all reach one consumer, each producer's in order."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name())
        received: list[Event] = []

        def produce(p: int) -> Callable[[], None]:
            def run() -> None:
                push_and_flush(
                    topic.producer(f"producer_{p}"),
                    [({"producer": p, "index": i}, b"") for i in range(20)],
                )

            return run

        def consume() -> None:
            received.extend(take(consumer, 60))

        errors = run_in_threads([consume, produce(0), produce(1), produce(2)])
        assert not errors, errors
        assert sorted(event.event_id or 0 for event in received) == list(range(60))
        for p in range(3):
            indices = [
                event.metadata["index"] for event in received if event.metadata["producer"] == p
            ]
            assert indices == list(range(20)), f"producer {p}'s events out of order: {indices}"

    @SHOULD
    def test_ids_exact_with_concurrent_producers(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Push futures give exact ids with producers in several threads and handles."""
        name = diaspora_backend.create_topic(driver)
        handles = [driver.open_topic(name), driver.open_topic(name)]
        pushed: dict[int, tuple[int, int]] = {}
        lock = threading.Lock()

        def produce(thread: int) -> Callable[[], None]:
            def run() -> None:
                producer = handles[thread % 2].producer(f"thread-{thread}", batch_size=7)
                futures = [producer.push({"t": thread, "i": i}, b"%d" % i) for i in range(150)]
                assert producer.flush().wait(WAIT_MS)
                with lock:
                    for i, future in enumerate(futures):
                        event_id = future.wait(WAIT_MS)
                        assert isinstance(event_id, int)
                        assert event_id not in pushed, f"id {event_id} given twice"
                        pushed[event_id] = (thread, i)

            return run

        errors = run_in_threads([produce(thread) for thread in range(4)])
        assert not errors, errors
        assert sorted(pushed) == list(range(600))
        for event in read_all(handles[0], 600, data_allocator=None):
            assert event.event_id is not None
            expected = pushed[event.event_id]
            assert (event.metadata["t"], event.metadata["i"]) == expected

    @SHOULD
    def test_large_event_round_trip(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An event with more than 8 MiB of data comes back byte for byte (whole and sub view)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        payload = os.urandom(8 * 1024 * 1024 + 3)
        push_and_flush(topic.producer(), [({"large": True}, [payload[:1000], payload[1000:]])])
        (event,) = read_all(topic, 1)
        assert data_bytes(event) == payload
        middle = _select(
            topic,
            lambda metadata, descriptor: descriptor.make_sub_view(offset=4_000_000, size=123_457),
        )
        assert middle == payload[4_000_000:4_123_457]

    @SHOULD
    def test_ten_thousand_events_in_one_batch(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """10 000 events pushed into one batch are all stored by one flush, with dense ids."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer(batch_size=10_000)
        futures = [producer.push({"i": i}, b"%d" % i) for i in range(10_000)]
        assert producer.flush().wait(3 * WAIT_MS) is True
        assert [future.wait(0) for future in futures] == list(range(10_000))
        events = read_all(topic, 10_000, data_allocator=None)
        assert all(event.metadata["i"] == event.event_id for event in events)

    # ------------------------------------------------------------ design deviations

    @MUST
    def test_data_length_is_nbytes(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Data length is nbytes, not the item count; non-contiguous buffers, tuples work (D2)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        doubles = array.array("d", [0.5, 1.5, -2.25])
        strided = memoryview(bytes(range(20)))[::3]
        push_and_flush(
            topic.producer(),
            [
                ({"kind": "doubles"}, doubles),
                ({"kind": "strided"}, strided),
                ({"kind": "tuple"}, (b"ab", doubles)),
            ],
        )
        got = {event.metadata["kind"]: data_bytes(event) for event in read_all(topic, 3)}
        assert len(got["doubles"]) == 24
        assert got["doubles"] == doubles.tobytes()
        assert got["strided"] == bytes(range(0, 20, 3))
        assert got["tuple"] == b"ab" + doubles.tobytes()

    @MUST
    def test_composed_views_select_relative_bytes(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Stacked views compose relatively, each in the previous one's coordinates (D3)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        base = bytes(range(200))
        push_and_flush(topic.producer(), [({}, [base[:77], base[77:]])])
        level1 = base[50:150]
        level2 = b"".join(level1[10 + i * 10 : 14 + i * 10] for i in range(3))
        level3 = level2[2:10]
        sizes: list[int] = []

        def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
            view = (
                descriptor.make_sub_view(offset=50, size=100)
                .make_strided_view(offset=10, num_blocks=3, block_size=4, gap_size=6)
                .make_sub_view(offset=2, size=8)
            )
            sizes.append(view.size)
            return view

        assert _select(topic, selector) == level3
        assert sizes == [8]
        unstructured = _select(
            topic,
            lambda metadata, descriptor: descriptor.make_sub_view(
                offset=100, size=50
            ).make_unstructured_view(segments=[(0, 2), (10, 3), (48, 2)]),
        )
        assert unstructured == base[100:102] + base[110:113] + base[148:150]

    @MUST
    def test_no_allocator_gives_empty_data(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """With data_allocator=None no data is fetched and event.data is [] (D4)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": 0}, b"payload")])
        (event,) = read_all(topic, 1, data_allocator=None)
        assert event.data == []
        assert event.metadata == {"i": 0}

    @MUST
    def test_python_components_survive_reopening(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Python components and their configuration work again after reopening the topic (D5).

        The topic is reopened with a new Driver if the backend declares persistent topics, else
        with the same driver.
        """
        name = diaspora_backend.create_topic(
            driver,
            num_partitions=3,
            validator=Validator.from_metadata(type=RequiredKeyValidator.type_name, key="ok"),
            serializer=Serializer.from_metadata(type=EnvelopeSerializer.type_name, tag="t1"),
            partition_selector=PartitionSelector.from_metadata(
                type=KeyPartitionSelector.type_name, key="p"
            ),
        )
        first = driver.open_topic(name)
        self._check_components(first, {"ok": 1, "p": 2, "i": 0})
        persistent = self.backend_capabilities(diaspora_backend).persistent_topics
        other = diaspora_backend.driver() if persistent else driver
        try:
            reopened = other.open_topic(name)
            assert reopened.validator.metadata() == {
                "type": RequiredKeyValidator.type_name,
                "key": "ok",
            }
            assert reopened.serializer.metadata()["type"] == EnvelopeSerializer.type_name
            assert reopened.partition_selector.metadata()["key"] == "p"
            self._check_components(reopened, {"ok": 1, "p": 4, "i": 1})
            events = read_all(reopened, 2)
            placed = {event.metadata["i"]: event.partition_index for event in events}
            assert placed == {0: 2, 1: 1}
            assert all(event.metadata["serializer_tag"] == "t1" for event in events)
            info = other.list_topics()[name]
            if "validator" in info:
                assert info["validator"]["type"] == RequiredKeyValidator.type_name
        finally:
            if other is not driver:
                other.close()

    @staticmethod
    def _check_components(topic: TopicHandle, good: dict[str, Any]) -> None:
        producer = topic.producer()
        try:
            producer.push({"p": 1, "i": -1}).wait(WAIT_MS)
        except DiasporaException as error:
            assert "ok" in str(error), f"validator message lost: {error}"
        else:
            raise AssertionError("the Python validator did not reject an event without 'ok'")
        push_and_flush(producer, [(good, b"")])

    @MUST
    def test_process_until_stop_event_processor(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Consumer.process feeds each event (None on timeout) until StopEventProcessor (D7)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"%d" % i) for i in range(4)])
        seen: list[Any] = []

        def processor(event: Event | None) -> None:
            seen.append(None if event is None else (event.event_id, data_bytes(event)))
            if event is None:
                raise StopEventProcessor()

        consumer = topic.consumer(consumer_name())
        consumer.process(processor, timeout_ms=50)
        assert seen == [(i, b"%d" % i) for i in range(4)] + [None]
        limited: list[int] = []
        topic.consumer(consumer_name()).process(
            lambda event: limited.append(
                event.event_id if event and event.event_id is not None else -1
            ),
            timeout_ms=WAIT_MS,
            max_events=2,
        )
        assert limited == [0, 1]
