"""Rules about the batch path: ``Producer.push_many`` and ``Consumer.pull_many``.

A batch call is the same as the loop of single calls it replaces: ``push_many`` gives the ids,
stores the events and places them in partitions as the ``push`` loop would, and refuses a bad
event as ``push`` would, naming its index and storing nothing of the call; ``pull_many`` gives
the same events in the same order as that many ``pull`` calls, never more than asked.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diaspora_stream.api import Consumer, Driver, Event, InvalidMetadata, TopicHandle, Validator
from diaspora_stream.api import Exception as DiasporaException

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    QUIET_MS,
    WAIT_MS,
    assert_no_more_events,
    bounded_call,
    consumer_name,
    data_bytes,
    event_key,
    take,
)
from ..levels import MUST, requires
from ..python_components import RequiredKeyValidator

__all__ = ["BatchRules"]

_PARTITIONS = 3
#: Seconds a batch call with a short timeout may take before the rule fails (a safety net).
_CALL_LIMIT_S = 3 * WAIT_MS / 1000
_FIXTURE_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

#: One event of a generated program: (small JSON object, data).
_EVENTS = st.tuples(
    st.dictionaries(
        st.sampled_from(["a", "b", "k"]), st.integers(-5, 5) | st.text(max_size=3), max_size=2
    ),
    st.binary(max_size=8),
)
#: A program of pushes: each step pushes one event or a list of events (maybe empty), with a
#: partition or none (the topic's selector chooses, per event).
_PUSH_PROGRAMS = st.lists(
    st.tuples(
        st.booleans(),  # True: push_many; False: push
        st.lists(_EVENTS, min_size=0, max_size=6),
        st.none() | st.integers(0, _PARTITIONS - 1),
    ),
    min_size=1,
    max_size=6,
)


def _stored(event: Event) -> tuple[int, int, str, bytes]:
    return event_key(event)


def _pull_all(consumer: Consumer, count: int) -> list[tuple[int, int, str, bytes]]:
    events = take(consumer, count)
    assert_no_more_events(consumer)
    return [_stored(event) for event in events]


def _run_program(topic: TopicHandle, program: list[Any], batched: bool) -> list[int]:
    """Push ``program`` (with ``push_many`` for its batch steps when ``batched``); the ids."""
    producer = topic.producer()
    futures: list[Any] = []
    for many, events, partition in program:
        if many and batched:
            metadata = [m for m, _ in events]
            data = [d for _, d in events]
            futures.append(("many", producer.push_many(metadata, data, partition=partition)))
        else:
            futures.extend(("one", producer.push(m, d, partition=partition)) for m, d in events)
    assert producer.flush().wait(WAIT_MS) is True, "flush did not complete in time"
    ids: list[int] = []
    for kind, future in futures:
        result = future.wait(WAIT_MS)
        if kind == "many":
            assert isinstance(result, list), f"push_many's future gave {result!r}, not a list"
            ids.extend(result)
        else:
            ids.append(result)
    producer.close()
    return ids


class BatchRules(ConformanceBase):
    """Rules about ``push_many`` and ``pull_many``."""

    @MUST
    def test_push_many_is_the_push_loop(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """push_many gives exact ids in list order and stores the events (metadata, data,
        partition chosen per event) as the same push loop does, as consumers see them."""

        @settings(suppress_health_check=_FIXTURE_CHECKS, deadline=None)
        @given(program=_PUSH_PROGRAMS)
        def check(program: list[Any]) -> None:
            looped = driver.open_topic(diaspora_backend.create_topic(driver, _PARTITIONS))
            batched = driver.open_topic(diaspora_backend.create_topic(driver, _PARTITIONS))
            loop_ids = _run_program(looped, program, batched=False)
            batch_ids = _run_program(batched, program, batched=True)
            assert batch_ids == loop_ids, "push_many's ids differ from those of the push loop"
            count = len(loop_ids)
            expected = _pull_all(looped.consumer(consumer_name()), count)
            seen = _pull_all(batched.consumer(consumer_name()), count)
            assert sorted(seen) == sorted(expected), (
                "events pushed with push_many are not stored as the push loop stores them"
            )
            # The ids each future gave are the ids consumers see, in push order per partition.
            by_partition: dict[int, list[int]] = {}
            for partition, event_id, _, _ in seen:
                by_partition.setdefault(partition, []).append(event_id)
            assert sorted(batch_ids) == sorted(i for ids in by_partition.values() for i in ids)

        check()

    @MUST
    def test_push_many_ids_match_consumed_events(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Each id push_many gives is the id consumers see for that event (list order)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        producer.push({"n": -1})
        future = producer.push_many([{"n": n} for n in range(10)], [b"%d" % n for n in range(10)])
        assert producer.flush().wait(WAIT_MS) is True
        ids = future.wait(WAIT_MS)
        assert ids == list(range(1, 11)), f"push_many after one push gave ids {ids}"
        consumer = topic.consumer(consumer_name())
        events = take(consumer, 11)[1:]
        assert [(e.event_id, e.metadata["n"], data_bytes(e)) for e in events] == [
            (ids[n], n, b"%d" % n) for n in range(10)
        ]

    @MUST
    def test_push_many_refused_event_stores_nothing(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An event the validator refuses fails push_many with push's error type, naming its
        index, and nothing of the call is stored."""
        topic = driver.open_topic(
            diaspora_backend.create_topic(
                driver,
                validator=Validator.from_metadata(type=RequiredKeyValidator.type_name, key="ok"),
            )
        )
        producer = topic.producer()
        metadata = [{"ok": 1, "n": 0}, {"ok": 1, "n": 1}, {"n": 2}, {"ok": 1, "n": 3}]
        try:
            producer.push_many(metadata, [b"a", b"b", b"c", b"d"]).wait(WAIT_MS)
        except InvalidMetadata as error:
            assert "event 2" in str(error), f"the error does not name event 2: {error}"
            assert "ok" in str(error), f"the validator's message is lost: {error}"
        else:
            raise AssertionError("push_many accepted a batch with an event the validator refuses")
        assert producer.flush().wait(WAIT_MS) is True
        after = producer.push({"ok": 1, "n": "after"}).wait(WAIT_MS)
        assert producer.flush().wait(WAIT_MS) is True
        consumer = topic.consumer(consumer_name())
        events = take(consumer, 1)
        assert events[0].metadata["n"] == "after" and after == 0, (
            f"a refused batch left events stored: the next event got id {after}, the first "
            f"stored one is {events[0].metadata!r}"
        )
        assert_no_more_events(consumer)

    @MUST
    def test_push_many_bad_argument_names_index(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A bad argument in a push_many list raises push's exception type at the call, naming
        its index; nothing of the call is stored."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        cases: list[tuple[list[Any], list[Any], int]] = [
            ([{"a": 1}, {"a": 2}], [b"x", 3.5], 1),  # data that is not a buffer
            (['{"a": 1}', "{not json"], [None, None], 1),  # metadata text that is not JSON
        ]
        for metadata, data, index in cases:
            try:
                producer.push(metadata[index], data[index])
            except DiasporaException as single:
                expected: type[BaseException] = type(single)
            else:
                raise AssertionError(f"push accepted {metadata[index]!r}, {data[index]!r}")
            try:
                producer.push_many(metadata, data)
            except DiasporaException as error:
                assert type(error) is expected, (
                    f"push_many raised {type(error).__name__}, push raises {expected.__name__}"
                )
                assert f"event {index}" in str(error), f"no index in: {error}"
            else:
                raise AssertionError(f"push_many accepted {metadata!r}, {data!r}")
        assert producer.flush().wait(WAIT_MS) is True
        consumer = topic.consumer(consumer_name())
        assert_no_more_events(consumer)

    @MUST
    def test_empty_batches(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """push_many([]) gives []; pull_many(0) gives [] and takes nothing."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer()
        assert producer.push_many([]).wait(WAIT_MS) == []
        assert producer.push_many([], []).wait(WAIT_MS) == []
        producer.push({"n": 0})
        assert producer.flush().wait(WAIT_MS) is True
        consumer = topic.consumer(consumer_name())
        assert consumer.pull_many(0, timeout_ms=QUIET_MS) == []
        events = take(consumer, 1)
        assert events[0].metadata == {"n": 0}

    @MUST
    def test_pull_many_is_the_pull_loop(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """pull_many(k) gives at most k events, the same ones as repeated pull (each partition
        in id order), when mixed with pull in any way."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, _PARTITIONS))
        producer = topic.producer()
        count = 40
        producer.push_many([{"n": n} for n in range(count)], [b"%d" % n for n in range(count)])
        assert producer.flush().wait(WAIT_MS) is True
        expected = _pull_all(topic.consumer(consumer_name()), count)

        @settings(suppress_health_check=_FIXTURE_CHECKS, deadline=None)
        @given(sizes=st.lists(st.integers(0, 9), min_size=1, max_size=count))
        def check(sizes: list[int]) -> None:
            consumer = topic.consumer(consumer_name())
            seen: list[tuple[int, int, str, bytes]] = []
            for size in sizes:
                if len(seen) >= count:
                    break
                if size == 0:  # a single pull in between
                    seen.extend(_stored(e) for e in take(consumer, 1))
                    continue
                size = min(size, count - len(seen))  # never more than there is: no wait
                events = consumer.pull_many(size, timeout_ms=WAIT_MS)
                assert len(events) == size, (
                    f"pull_many({size}) gave {len(events)} events, with "
                    f"{count - len(seen)} stored and not pulled yet"
                )
                seen.extend(_stored(e) for e in events)
            rest = consumer.pull_many(count, timeout_ms=QUIET_MS)
            seen.extend(_stored(e) for e in rest)
            assert sorted(seen) == sorted(expected), (
                "pull_many and pull together gave other events than pull"
            )
            for partition in range(_PARTITIONS):
                ids = [event_id for p, event_id, _, _ in seen if p == partition]
                assert ids == sorted(ids), f"partition {partition} came out of order: {ids}"
            consumer.close()

        check()

    @MUST
    def test_pull_many_returns_what_is_there_at_the_timeout(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """pull_many(k, timeout_ms=t) gives [] on an empty topic and the events available
        (fewer than k) once t passed."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name())
        empty, _ = bounded_call(
            lambda: consumer.pull_many(10, timeout_ms=QUIET_MS), _CALL_LIMIT_S, "pull_many"
        )
        assert empty == [], f"pull_many on an empty topic gave {empty!r}"
        producer = topic.producer()
        producer.push_many([{"n": n} for n in range(3)])
        assert producer.flush().wait(WAIT_MS) is True
        got: list[Any] = []
        for _ in range(WAIT_MS // QUIET_MS):  # a backend may deliver them in several batches
            events, _ = bounded_call(
                lambda: consumer.pull_many(10, timeout_ms=QUIET_MS), _CALL_LIMIT_S, "pull_many"
            )
            assert len(events) <= 10
            got.extend(e.metadata for e in events)
            if len(got) >= 3:
                break
        assert got == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert consumer.pull_many(10, timeout_ms=0) == []

    @MUST
    @requires("end_of_stream")
    def test_pull_many_ends_with_the_sentinel(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """pull_many gives the end-of-stream sentinel where pull would, as the last event of
        its list; once every partition ended, it gives one sentinel."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, 2))
        producer = topic.producer()
        producer.push_many([{"n": n} for n in range(4)], partition=0)
        producer.mark_complete(0)
        producer.mark_complete(1)
        consumer = topic.consumer(consumer_name())
        taken: list[Event] = []
        while len([e for e in taken if e.event_id is None]) < 2:
            events = consumer.pull_many(100, timeout_ms=WAIT_MS)
            assert events, f"no sentinel within {WAIT_MS} ms after {len(taken)} events"
            assert all(e.event_id is not None for e in events[:-1]), (
                "pull_many gave events after an end-of-stream sentinel in one list"
            )
            taken.extend(events)
        regular = [json.dumps(e.metadata) for e in taken if e.event_id is not None]
        assert regular == [json.dumps({"n": n}) for n in range(4)]
        last = consumer.pull_many(100, timeout_ms=QUIET_MS)
        assert len(last) == 1 and last[0].event_id is None, (
            f"after the end of every partition pull_many gave {last!r}, not one sentinel"
        )
