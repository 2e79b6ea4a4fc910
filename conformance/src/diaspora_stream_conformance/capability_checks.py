"""Capability checks, in both directions (the Kafka client-compatibility pattern).

For each field of :class:`diaspora_stream.api.Capabilities` there are two tests:

* ``test_<capability>`` (level MUST, ``requires("<capability>")``): the backend declares the
  capability, so the suite exercises it and checks the result. Declaring a capability is
  optional; a declared capability is a promise, and a broken promise loses events, positions
  or bytes, so it is checked at MUST;
* ``test_<capability>_absent`` (level MUST, skipped when the capability is declared): the backend
  declares it absent, so the suite checks that the corresponding operation either raises
  :class:`~diaspora_stream.api.UnsupportedError` or behaves consistently without it, never that
  it half-works. Each docstring says what "consistently" means for that capability: some
  capabilities (persistence, durability, partial reads, multi-process use) are guarantees about
  an operation that must work anyway, so their absence is checked by the operation still
  working within the guarantees that remain.

Tests that start other processes run ``sys.executable`` with the backend's name and resolved
options: the backend must be findable by name there (an installed entry point or
``"name:module"``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from diaspora_stream.api import (
    Capabilities,
    DataDescriptor,
    Driver,
    Position,
    TopicHandle,
    UnsupportedError,
)
from diaspora_stream.api import Exception as DiasporaException

from .backend import BackendUnderTest
from .base import ConformanceBase
from .helpers import (
    QUIET_MS,
    WAIT_MS,
    assert_no_more_events,
    consumer_name,
    data_bytes,
    event_key,
    push_and_flush,
    read_all,
    run_in_threads,
    take,
)
from .levels import MUST, requires

__all__ = ["CapabilityTests"]

#: Seconds a child process may take before the test fails.
CHILD_TIMEOUT_S = 120

#: The program of the child processes (see :func:`_child`). Arguments: one JSON object.
_CHILD_PROGRAM = r"""
import json, os, sys, time
from diaspora_stream.api import Driver
from diaspora_stream.api import Exception as DiasporaException

args = json.loads(sys.argv[1])
driver = Driver(backend=args["backend"], options=args["options"])
if args["mode"] == "open":
    try:
        driver.open_topic(args["topic"])
    except DiasporaException as error:
        print(json.dumps({"opened": False, "error": str(error)}), flush=True)
    else:
        print(json.dumps({"opened": True}), flush=True)
    sys.exit(0)
topic = driver.open_topic(args["topic"])
producer = topic.producer(args["name"], batch_size=args["batch_size"])
print("ready", flush=True)
go = args.get("go")
while go and not os.path.exists(go):
    time.sleep(0.001)
writer = args["writer"]
futures = [
    producer.push({"writer": writer, "i": i}, b"%d:%d" % (writer, i))
    for i in range(args["count"])
]
flushed = producer.flush().wait(60000)
ids = [future.wait(60000) for future in futures]
print(json.dumps({"flushed": flushed, "ids": ids}), flush=True)
if args.get("abrupt_exit"):
    os._exit(0)
producer.close()
driver.close()
"""


def _child(backend: BackendUnderTest, **args: Any) -> subprocess.Popen[str]:
    """Start a child process running :data:`_CHILD_PROGRAM` against the backend under test."""
    args.setdefault("backend", backend.name)
    args.setdefault("options", backend.resolved_options())
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD_PROGRAM, json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Wait for a child and return the JSON object of its last output line."""
    try:
        out, err = process.communicate(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"child process timed out; stderr:\n{err}") from None
    assert process.returncode == 0, f"child process failed ({process.returncode}):\n{err}"
    lines = [line for line in out.splitlines() if line.strip() and line != "ready"]
    assert lines, f"child process printed nothing; stderr:\n{err}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _wait_ready(process: subprocess.Popen[str]) -> None:
    """Block until a pushing child printed ``ready`` (its driver and producer exist)."""
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        _, err = process.communicate(timeout=CHILD_TIMEOUT_S)
        raise AssertionError(f"child process did not start ({line!r}); stderr:\n{err}")


def _pattern(size: int, seed: int) -> bytes:
    """``size`` recognisable bytes (a 251-periodic ramp shifted by ``seed``)."""
    ramp = bytes((i + seed) % 251 for i in range(251))
    return (ramp * (size // 251 + 1))[:size]


def _check_selections(topic: TopicHandle) -> None:
    """Push two 1 MiB events and check many selections of the second one byte for byte."""
    size = 1 << 20
    first, second = _pattern(size, 0), _pattern(size, 100)
    push_and_flush(topic.producer(), [({"n": 0}, first), ({"n": 1}, [second[:999], second[999:]])])
    base = second
    cases: list[tuple[str, Any, bytes]] = [
        ("sub view", lambda d: d.make_sub_view(offset=700_001, size=33), base[700_001:700_034]),
        (
            "strided view",
            lambda d: d.make_strided_view(offset=5, num_blocks=1000, block_size=7, gap_size=1000),
            b"".join(base[5 + i * 1007 : 12 + i * 1007] for i in range(1000)),
        ),
        (
            "unstructured view",
            lambda d: d.make_unstructured_view(
                segments=[(i * 20_000 + i, 3 + i) for i in range(50)]
            ),
            b"".join(base[i * 20_000 + i : i * 20_000 + i + 3 + i] for i in range(50)),
        ),
        (
            "composed views",
            lambda d: d.make_sub_view(offset=998, size=10_000).make_strided_view(
                offset=1, num_blocks=3, block_size=2, gap_size=4_000
            ),
            base[999:1001] + base[5_001:5_003] + base[9_003:9_005],
        ),
        ("last byte", lambda d: d.make_sub_view(offset=size - 1, size=1), base[-1:]),
    ]
    for label, make, expected in cases:

        def selector(metadata: Any, descriptor: DataDescriptor, make: Any = make) -> Any:
            return make(descriptor) if metadata["n"] == 1 else None

        events = read_all(
            topic,
            2,
            data_selector=selector,
            data_allocator=lambda metadata, descriptor: [bytearray(descriptor.size)],
        )
        got = {event.metadata["n"]: data_bytes(event) for event in events}
        assert got[0] == b"", f"{label}: the unselected event got data"
        assert got[1] == expected, f"{label}: wrong bytes ({len(got[1])} vs {len(expected)})"


class CapabilityTests(ConformanceBase):
    """Each capability the backend declares works; each it declares absent fails cleanly."""

    @staticmethod
    def _declared(backend: BackendUnderTest) -> Capabilities:
        return ConformanceBase.backend_capabilities(backend)

    def _skip_if_declared(self, backend: BackendUnderTest, capability: str) -> Capabilities:
        capabilities = self._declared(backend)
        if getattr(capabilities, capability):
            pytest.skip(f"{capability} declared present: checked by test_{capability}")
        return capabilities

    @MUST
    def test_capabilities_declared(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """The driver declares a Capabilities object of booleans, the same for equal options."""
        capabilities = driver.capabilities
        assert isinstance(capabilities, Capabilities)
        values = capabilities.as_dict()
        assert values and all(isinstance(value, bool) for value in values.values()), values
        other = diaspora_backend.driver()
        try:
            assert other.capabilities.as_dict() == values
        finally:
            other.close()
        if capabilities.persistent_acknowledgements:
            assert capabilities.acknowledgements, "persistent acknowledgements without any"

    # ---------------------------------------------------------- persistent_topics

    @MUST
    @requires("persistent_topics")
    def test_persistent_topics(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A topic and its events are visible from a new Driver with the same options.

        Pushing through the new driver continues the partition's ids.
        """
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        topic = driver.open_topic(name)
        producer = topic.producer()
        for i in range(6):
            producer.push({"i": i}, b"data %d" % i, partition=i % 2)
        assert producer.flush().wait(WAIT_MS)
        expected = sorted(event_key(event) for event in read_all(topic, 6))
        other = diaspora_backend.driver()
        try:
            assert other.topic_exists(name)
            assert name in other.list_topics()
            reopened = other.open_topic(name)
            assert len(reopened.partitions) == 2
            assert sorted(event_key(event) for event in read_all(reopened, 6)) == expected
            future = reopened.producer().push({"i": 6}, partition=0)
            assert future.wait(WAIT_MS) == 3
        finally:
            other.close()

    @MUST
    def test_persistent_topics_absent(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Absent persistent_topics: a new Driver sees a topic entirely or not at all.

        Not at all: ``topic_exists`` is False, the topic is not listed and ``open_topic`` raises
        Exception. Entirely: every event is there. Seeing it is accepted because in-process
        sharing is not persistence (a backend may share state between its drivers in one process
        without keeping it beyond the process). The first driver keeps the topic either way.
        """
        self._skip_if_declared(diaspora_backend, "persistent_topics")
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        topic = driver.open_topic(name)
        push_and_flush(topic.producer(), [({"i": i}, b"%d" % i) for i in range(4)])
        expected = sorted(event_key(event) for event in read_all(topic, 4))
        other = diaspora_backend.driver()
        try:
            if other.topic_exists(name):
                assert name in other.list_topics()
                seen = read_all(other.open_topic(name), 4)
                assert sorted(event_key(event) for event in seen) == expected
            else:
                assert name not in other.list_topics()
                with pytest.raises(DiasporaException):
                    other.open_topic(name)
        finally:
            other.close()
        assert (
            sorted(event_key(event) for event in read_all(driver.open_topic(name), 4)) == expected
        )

    # ------------------------------------------------------------ acknowledgements

    @MUST
    @requires("acknowledgements")
    def test_acknowledgements(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Acknowledged positions belong to the consumer name, across handles, per partition.

        A consumer with that name on another handle of the driver resumes after the acknowledged
        event of each partition.
        """
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        topic = driver.open_topic(name)
        producer = topic.producer()
        for i in range(10):
            producer.push({"i": i}, partition=i % 2)
        assert producer.flush().wait(WAIT_MS)
        consumer_id = consumer_name("ack")
        consumer = topic.consumer(consumer_id)
        for event in take(consumer, 10):
            if (event.partition_index, event.event_id) in ((0, 1), (1, 3)):
                event.acknowledge()
        consumer.close()
        resumed = driver.open_topic(name).consumer(consumer_id)
        keys = sorted((event.partition_index, event.event_id) for event in take(resumed, 4))
        assert keys == [(0, 2), (0, 3), (0, 4), (1, 4)]
        assert_no_more_events(resumed)

    @MUST
    def test_acknowledgements_absent(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Absent acknowledgements: acknowledge() raises UnsupportedError and nothing is kept.

        A consumer created again with the same name starts from the first event.
        """
        self._skip_if_declared(diaspora_backend, "acknowledgements")
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(3)])
        name = consumer_name("no-ack")
        consumer = topic.consumer(name)
        events = take(consumer, 3)
        with pytest.raises(UnsupportedError):
            events[1].acknowledge()
        consumer.close()
        again = topic.consumer(name)
        assert [event.event_id for event in take(again, 3)] == [0, 1, 2]

    # ------------------------------------------------- persistent_acknowledgements

    @MUST
    @requires("persistent_acknowledgements", "persistent_topics", "acknowledgements")
    def test_persistent_acknowledgements(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Acknowledged positions survive the Driver: a new Driver's consumer resumes after them.

        Other consumer names still start at the beginning.
        """
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        topic = driver.open_topic(name)
        producer = topic.producer()
        for i in range(12):
            producer.push({"i": i}, partition=i % 2)
        assert producer.flush().wait(WAIT_MS)
        consumer_id = consumer_name("durable-ack")
        consumer = topic.consumer(consumer_id)
        for event in take(consumer, 12):
            if (event.partition_index, event.event_id) in ((0, 2), (1, 4)):
                event.acknowledge()
        consumer.close()
        topic.close()
        other = diaspora_backend.driver()
        try:
            reopened = other.open_topic(name)
            resumed = reopened.consumer(consumer_id)
            keys = sorted((event.partition_index, event.event_id) for event in take(resumed, 4))
            assert keys == [(0, 3), (0, 4), (0, 5), (1, 5)]
            assert_no_more_events(resumed)
            assert len(read_all(reopened, 12)) == 12
        finally:
            other.close()

    @MUST
    def test_persistent_acknowledgements_absent(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Absent persistent_acknowledgements: a new Driver starts at 0 or after the ack only.

        After an acknowledgement, a consumer of a new Driver with the same name starts at the
        beginning or exactly after the acknowledged event, never elsewhere. If the new Driver
        cannot see the topic (topics not persistent), ``open_topic`` there raises Exception.
        Either way positions still work within the first driver.
        """
        capabilities = self._skip_if_declared(diaspora_backend, "persistent_acknowledgements")
        if not capabilities.acknowledgements:
            pytest.skip("acknowledgements declared absent: see test_acknowledgements_absent")
        name = diaspora_backend.create_topic(driver)
        topic = driver.open_topic(name)
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(6)])
        consumer_id = consumer_name("volatile-ack")
        consumer = topic.consumer(consumer_id)
        take(consumer, 3)[-1].acknowledge()
        consumer.close()
        other = diaspora_backend.driver()
        try:
            if other.topic_exists(name):
                resumed = other.open_topic(name).consumer(consumer_id)
                first = take(resumed, 1)[0].event_id
                assert first in (0, 3), f"a new driver's consumer started at event {first}"
            else:
                with pytest.raises(DiasporaException):
                    other.open_topic(name)
        finally:
            other.close()
        same_driver = driver.open_topic(name).consumer(consumer_id)
        assert [event.event_id for event in take(same_driver, 3)] == [3, 4, 5]
        assert_no_more_events(same_driver)

    # ----------------------------------------------------------- partial_data_reads

    @MUST
    @requires("partial_data_reads")
    def test_partial_data_reads(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Selections of a 1 MiB event give exactly the selected bytes, declined events none.

        Sub, strided, unstructured and composed views are checked.
        """
        _check_selections(driver.open_topic(diaspora_backend.create_topic(driver)))

    @MUST
    def test_partial_data_reads_absent(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Absent partial_data_reads: selections still give exactly the selected bytes.

        The backend may read the whole data and let the API extract the selection; selecting never
        raises UnsupportedError, because data selection is API semantics.
        """
        self._skip_if_declared(diaspora_backend, "partial_data_reads")
        _check_selections(driver.open_topic(diaspora_backend.create_topic(driver)))

    # ----------------------------------------------------------------- durable_flush

    @MUST
    @requires("durable_flush")
    def test_durable_flush(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A completed flush means stored, even if the process then exits abruptly.

        A child process pushes, flushes and exits without closing anything; a new Driver reads
        every event. Without persistent topics the check is done within this process.
        """
        name = diaspora_backend.create_topic(driver)
        if not self._declared(diaspora_backend).persistent_topics:
            topic = driver.open_topic(name)
            push_and_flush(topic.producer(), [({"i": i}, b"%d" % i) for i in range(50)])
            assert len(read_all(topic, 50)) == 50
            return
        child = _child(
            diaspora_backend,
            mode="push",
            topic=name,
            name="abrupt",
            writer=7,
            count=200,
            batch_size=16,
            abrupt_exit=True,
        )
        result = _finish(child)
        assert result["flushed"] is True
        assert result["ids"] == list(range(200))
        other = diaspora_backend.driver()
        try:
            events = read_all(other.open_topic(name), 200)
        finally:
            other.close()
        assert [event.metadata["i"] for event in events] == list(range(200))
        assert all(data_bytes(event) == b"7:%d" % event.metadata["i"] for event in events)

    @MUST
    def test_durable_flush_absent(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Absent durable_flush: flush() still completes with True and makes events visible.

        Only the stable-storage guarantee is missing; flush never raises UnsupportedError.
        """
        capabilities = self._skip_if_declared(diaspora_backend, "durable_flush")
        name = diaspora_backend.create_topic(driver)
        topic = driver.open_topic(name)
        producer = topic.producer(batch_size=100)
        for i in range(20):
            producer.push({"i": i}, b"%d" % i)
        flushed = producer.flush()
        assert flushed.wait(WAIT_MS) is True
        assert flushed.completed
        assert len(read_all(topic, 20)) == 20
        if capabilities.persistent_topics:
            other = diaspora_backend.driver()
            try:
                assert len(read_all(other.open_topic(name), 20)) == 20
            finally:
                other.close()

    # ------------------------------------------------------- multi_process_producers

    @MUST
    @requires("multi_process_producers", "persistent_topics")
    def test_multi_process_producers(
        self, driver: Driver, diaspora_backend: BackendUnderTest, tmp_path: Path
    ) -> None:
        """Two processes pushing to one partition at once get dense, unique, ordered ids.

        Each process's ids follow its push order, and every event is stored with its own data.
        """
        name = diaspora_backend.create_topic(driver)
        go = tmp_path / "go"
        count = 300
        children = [
            _child(
                diaspora_backend,
                mode="push",
                topic=name,
                name="shared-producer",
                writer=writer,
                count=count,
                batch_size=5,
                go=str(go),
            )
            for writer in (1, 2)
        ]
        try:
            for child in children:
                _wait_ready(child)
        finally:
            go.touch()
        results = [_finish(child) for child in children]
        pushed: dict[int, tuple[int, int]] = {}
        for writer, result in zip((1, 2), results, strict=True):
            assert result["flushed"] is True
            ids = result["ids"]
            assert ids == sorted(ids), f"writer {writer}'s ids are not in push order"
            for i, event_id in enumerate(ids):
                assert event_id not in pushed, f"id {event_id} given to two events"
                pushed[event_id] = (writer, i)
        assert sorted(pushed) == list(range(2 * count))
        for event in read_all(driver.open_topic(name), 2 * count):
            assert event.event_id is not None
            writer, i = pushed[event.event_id]
            assert event.metadata == {"writer": writer, "i": i}
            assert data_bytes(event) == b"%d:%d" % (writer, i)

    @MUST
    def test_multi_process_producers_absent(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Absent multi_process_producers: producers within one process still get dense ids.

        Producers on separate handles in several threads of one process get dense, unique ids.
        A multi-process race cannot be detected by a backend, so it cannot raise
        UnsupportedError; the suite does not start one. If topics are not persistent, a child
        process's driver must refuse the topic with Exception (or see it), not crash.
        """
        capabilities = self._skip_if_declared(diaspora_backend, "multi_process_producers")
        name = diaspora_backend.create_topic(driver)
        handles = [driver.open_topic(name), driver.open_topic(name)]
        ids: list[int] = []
        lock = threading.Lock()

        def produce(thread: int) -> Any:
            def run() -> None:
                producer = handles[thread % 2].producer(f"in-process-{thread}", batch_size=5)
                mine = push_and_flush(producer, [({"t": thread, "i": i}, b"") for i in range(100)])
                with lock:
                    ids.extend(mine)

            return run

        errors = run_in_threads([produce(thread) for thread in range(4)])
        assert not errors, errors
        assert sorted(ids) == list(range(400))
        assert len(read_all(handles[0], 400, data_allocator=None)) == 400
        if not capabilities.persistent_topics:
            result = _finish(_child(diaspora_backend, mode="open", topic=name))
            assert result["opened"] or result["error"], result

    # -------------------------------------------------------------- end_of_stream

    @MUST
    @requires("end_of_stream")
    def test_end_of_stream(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A topic marked complete gives its events then the end-of-stream sentinel."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        push_and_flush(producer, [({"i": i}, b"") for i in range(3)])
        producer.mark_complete()
        consumer = topic.consumer(consumer_name("eos-capability"))
        assert [event.event_id for event in take(consumer, 3)] == [0, 1, 2]
        sentinel = consumer.pull().wait(WAIT_MS)
        assert sentinel is not None and sentinel.event_id is None, sentinel

    @MUST
    def test_end_of_stream_absent(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Absent end_of_stream: mark_complete raises UnsupportedError and changes nothing.

        Pushing to the topic still works and consumers never get a sentinel.
        """
        self._skip_if_declared(diaspora_backend, "end_of_stream")
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        push_and_flush(producer, [({"i": 0}, b"")])
        with pytest.raises(UnsupportedError):
            topic.mark_complete()
        with pytest.raises(UnsupportedError):
            producer.mark_complete(0)
        assert push_and_flush(producer, [({"i": 1}, b"")]) == [1]
        consumer = topic.consumer(consumer_name("no-eos"))
        assert [event.event_id for event in take(consumer, 2)] == [0, 1]
        assert consumer.pull().wait(QUIET_MS) is None, "no sentinel without end_of_stream"

    # --------------------------------------------------------------------- replay

    @MUST
    @requires("replay")
    def test_replay(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A consumer started at the beginning reads every event; seek moves it back."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(4)])
        consumer = topic.consumer(consumer_name("replay"), start=Position.BEGINNING)
        assert [event.event_id for event in take(consumer, 4)] == [0, 1, 2, 3]
        consumer.seek({0: 1})
        assert [event.event_id for event in take(consumer, 3)] == [1, 2, 3]

    @MUST
    def test_replay_absent(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Absent replay: a start other than the acknowledged position, and seek, raise
        UnsupportedError; the default start still works."""
        self._skip_if_declared(diaspora_backend, "replay")
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(2)])
        for start in (Position.BEGINNING, Position.END, {0: 1}):
            with pytest.raises(UnsupportedError):
                topic.consumer(consumer_name("no-replay"), start=start)
        consumer = topic.consumer(consumer_name("no-replay"), start=Position.ACKNOWLEDGED)
        assert [event.event_id for event in take(consumer, 2)] == [0, 1]
        with pytest.raises(UnsupportedError):
            consumer.seek(Position.BEGINNING)
        assert_no_more_events(consumer)

    # ---------------------------------------------------------- consumer_positions

    @MUST
    @requires("consumer_positions", "acknowledgements")
    def test_consumer_positions(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A name's acknowledged positions can be read, and the name listed, with no consumer."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(3)])
        name = consumer_name("positions")
        consumer = topic.consumer(name)
        take(consumer, 2)[1].acknowledge()
        consumer.close()
        assert topic.acknowledged_positions(name) == {0: 1}
        assert name in topic.consumer_names()

    @MUST
    def test_consumer_positions_absent(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Absent consumer_positions: acknowledged_positions and consumer_names raise
        UnsupportedError."""
        self._skip_if_declared(diaspora_backend, "consumer_positions")
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        with pytest.raises(UnsupportedError):
            topic.acknowledged_positions(consumer_name("positions"))
        with pytest.raises(UnsupportedError):
            topic.consumer_names()
