"""Rules about pushing: ids, metadata and data round trips, partition selection.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from typing import Any

from diaspora_stream.api import (
    Driver,
)

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    data_bytes,
    push_and_flush,
    read_all,
)
from ..levels import MUST

__all__ = ["ProducingRules"]


class ProducingRules(ConformanceBase):
    """Rules about pushing: ids, metadata and data round trips, partition selection."""

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
