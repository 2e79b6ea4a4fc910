"""Rules about state seen from elsewhere: other handles, other drivers, other processes.

A cache that only one handle, one driver or one process sees is the usual way to break them:
an object that already existed when something changed must see the change.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from typing import Any

from diaspora_stream.api import Driver, Event, FutureUint, TopicHandle

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    assert_no_more_events,
    consumer_name,
    data_bytes,
    read_all,
    take,
)
from ..levels import MUST, requires
from ..other_process import run_in_other_process

__all__ = ["ElsewhereRules"]


def _push(topic: TopicHandle, writer: str, first: int, count: int) -> dict[int, tuple[str, int]]:
    """Push ``count`` events of ``writer`` through ``topic``; return ``{id: (writer, i)}``."""
    producer = topic.producer(writer)
    futures: list[tuple[int, FutureUint]] = [
        (i, producer.push({"w": writer, "i": i}, f"{writer}:{i}".encode()))
        for i in range(first, first + count)
    ]
    assert producer.flush().wait(WAIT_MS) is True, f"{writer}'s flush did not complete"
    given: dict[int, tuple[str, int]] = {}
    for i, future in futures:
        event_id = future.wait(WAIT_MS)
        assert isinstance(event_id, int), f"{writer}'s push future {i} gave {event_id!r}"
        assert event_id not in given, f"{writer} was given id {event_id} twice"
        given[event_id] = (writer, i)
    producer.close()
    return given


def _check_ids_name_their_events(given: dict[int, tuple[str, int]], events: list[Event]) -> None:
    """Every id a push future gave names the very event that was pushed, bytes intact."""
    stored = {int(event.event_id or 0): event for event in events}
    assert sorted(stored) == list(range(len(events))), f"ids not dense: {sorted(stored)}"
    assert sorted(given) == sorted(stored), (
        f"push futures gave ids {sorted(given)} but the partition holds {sorted(stored)}"
    )
    for event_id, (writer, i) in sorted(given.items()):
        event = stored[event_id]
        origin = (event.metadata["w"], event.metadata["i"])
        assert origin == (writer, i), (
            f"{writer}'s event {i} was given id {event_id}, but id {event_id} holds event "
            f"{origin[1]} of {origin[0]}: a push id named another writer's event"
        )
        assert data_bytes(event) == f"{writer}:{i}".encode(), f"bytes of id {event_id} changed"


def _steps_push(topic: str, writer: str, count: int) -> dict[str, Any]:
    """A ``push`` step of the other process."""
    return {
        "op": "push",
        "topic": topic,
        "events": [[{"w": writer, "i": i}, f"{writer}:{i}"] for i in range(count)],
    }


class ElsewhereRules(ConformanceBase):
    """Rules about state seen from elsewhere: other handles, other drivers, other processes."""

    @MUST
    def test_handles_of_one_topic_never_give_another_writers_id(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Push ids given through several handles of one topic each name their own event.

        Push ids given through several handles of one topic (some opened before, some after
        the others wrote) each name their own event; no handle overwrites another's bytes,
        and a consumer of an older handle sees every handle's events.
        """
        name = diaspora_backend.create_topic(driver)
        first = driver.open_topic(name)
        watcher = first.consumer(consumer_name("watcher"))
        pending = watcher.pull()
        assert pending.wait(0) is None, "a consumer of an empty topic got an event"
        given = _push(first, "first", 0, 3)
        second = driver.open_topic(name)
        given |= _push(second, "second", 0, 3)
        given |= _push(first, "first", 3, 3)
        third = driver.open_topic(name)
        given |= _push(third, "third", 0, 2)
        given |= _push(second, "second", 3, 2)
        _check_ids_name_their_events(given, read_all(first, len(given)))
        seen = [pending.wait(WAIT_MS), *take(watcher, len(given) - 1)]
        assert seen[0] is not None, "a pull pending before any push never got an event"
        seen_ids = sorted(int(event.event_id or 0) for event in seen if event is not None)
        assert seen_ids == list(range(len(given))), (
            "a consumer of the first handle did not see every handle's events"
        )

    @MUST
    @requires("persistent_topics")
    def test_existing_driver_sees_what_another_driver_did(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A Driver sees the topics and events another Driver created after it.

        A Driver that existed before another Driver created a topic and pushed to it sees
        the topic (topic_exists, list_topics, open_topic) and its events, and its own pushes
        then get ids after the other's.
        """
        name = diaspora_backend.topic_name("elsewhere")
        assert not driver.topic_exists(name) and name not in driver.list_topics()
        other = diaspora_backend.driver()
        try:
            other.create_topic(name, options=dict(diaspora_backend.topic_options))
            given = _push(other.open_topic(name), "other", 0, 4)
            assert driver.topic_exists(name), "an existing driver does not see a new topic"
            assert name in driver.list_topics(), "an existing driver does not list a new topic"
            mine = driver.open_topic(name)
            given |= _push(mine, "mine", 0, 2)
            given |= _push(other.open_topic(name), "other", 4, 1)
            _check_ids_name_their_events(given, read_all(mine, len(given)))
        finally:
            other.close()

    @MUST
    @requires("persistent_topics")
    def test_existing_driver_sees_what_another_process_did(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A Driver, handle and consumer see the topics and events another process created.

        A Driver, a topic handle and a consumer that existed before another process created
        a topic and pushed to it see the topic and every event, with its bytes.
        """
        name = diaspora_backend.topic_name("process")
        assert not driver.topic_exists(name)
        driver.list_topics()
        results = run_in_other_process(
            diaspora_backend,
            [
                {"op": "create", "topic": name, "options": dict(diaspora_backend.topic_options)},
                _steps_push(name, "child", 5),
            ],
        )
        assert results[1]["flushed"] is True and results[1]["ids"] == list(range(5))
        assert driver.topic_exists(name), "a topic created by another process is not seen"
        assert name in driver.list_topics(), "a topic created by another process is not listed"
        topic = driver.open_topic(name)
        consumer = topic.consumer(consumer_name("before"))
        earlier = take(consumer, 5)
        assert [event.metadata["i"] for event in earlier] == list(range(5))
        results = run_in_other_process(diaspora_backend, [_steps_push(name, "later", 3)])
        assert results[0]["ids"] == [5, 6, 7], f"the other process got ids {results[0]['ids']}"
        later = take(consumer, 3)
        assert [(e.metadata["w"], data_bytes(e)) for e in later] == [
            ("later", b"later:%d" % i) for i in range(3)
        ], "a consumer that existed before did not see another process's later events"
        assert_no_more_events(consumer)

    @MUST
    @requires("persistent_topics", "multi_process_producers")
    def test_ids_stay_exact_across_processes(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Push ids stay exact when two processes append to one partition in turn.

        A handle opened before another process pushed gives ids after that process's events,
        and the other process's ids come after this one's: no id names two events.
        """
        name = diaspora_backend.create_topic(driver)
        topic = driver.open_topic(name)
        given = _push(topic, "parent", 0, 3)
        results = run_in_other_process(diaspora_backend, [_steps_push(name, "child", 4)])
        child_ids = results[0]["ids"]
        assert child_ids == [3, 4, 5, 6], f"another process's pushes got ids {child_ids}"
        given |= {event_id: ("child", i) for i, event_id in enumerate(child_ids)}
        given |= _push(topic, "parent", 3, 2)
        _check_ids_name_their_events(given, read_all(topic, len(given)))

    @MUST
    @requires("persistent_acknowledgements", "persistent_topics", "acknowledgements")
    def test_acknowledged_positions_seen_from_another_process(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A position acknowledged in one process is where another process resumes.

        A position acknowledged in this process is where a consumer of the same name in
        another process resumes, and the reverse.
        """
        name = diaspora_backend.create_topic(driver)
        topic = driver.open_topic(name)
        _push(topic, "parent", 0, 10)
        reader = consumer_name("across")
        consumer = topic.consumer(reader)
        take(consumer, 4)[-1].acknowledge()
        consumer.close()
        results = run_in_other_process(
            diaspora_backend,
            [
                {
                    "op": "read",
                    "topic": name,
                    "consumer": reader,
                    "count": 3,
                    "acknowledge_last": True,
                }
            ],
        )
        ids = [event[1] for event in results[0]["events"]]
        assert ids == [4, 5, 6], (
            f"acknowledged event 3 here, but a consumer of that name in another process read {ids}"
        )
        resumed = driver.open_topic(name).consumer(reader)
        rest = [event.event_id for event in take(resumed, 3)]
        assert rest == [7, 8, 9], f"the other process acknowledged event 6, resumed at {rest}"
        assert_no_more_events(resumed)
