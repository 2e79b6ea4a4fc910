"""Rules about time: every timeout is in milliseconds, 0 polls, a negative value blocks.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from diaspora_stream.api import Driver, StopEventProcessor, Validator

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    bounded_call,
    consumer_name,
    data_bytes,
    push_and_flush,
)
from ..levels import MUST
from ..python_components import SlowValidator

__all__ = ["TimeRules"]

#: Seconds a timed call may take beyond its own timeout before the suite calls it overshot.
SLACK_S = 0.9
#: Seconds after which a timed call that has not returned is given up on (it hangs).
GIVE_UP_S = 5.0


class TimeRules(ConformanceBase):
    """Rules about time: every timeout is in milliseconds, 0 polls, a negative value blocks."""

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

    @MUST
    def test_pull_wait_honours_its_timeout_in_milliseconds(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """pull().wait(t) on an empty topic returns None within t milliseconds.

        pull().wait(t) on an empty topic returns None after at most t milliseconds (plus a
        small slack): not t seconds, not forever.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name("timed"))
        future = consumer.pull()
        for timeout_ms in (50, 0, 250, 1):
            value, elapsed = bounded_call(
                functools.partial(future.wait, timeout_ms),
                GIVE_UP_S,
                f"pull().wait({timeout_ms}) on an empty topic",
            )
            assert value is None, f"pull().wait({timeout_ms}) on an empty topic gave {value!r}"
            assert elapsed < timeout_ms / 1000 + SLACK_S, (
                f"pull().wait({timeout_ms}) returned after {elapsed:.3f} s: timeouts are in "
                "milliseconds"
            )

    @MUST
    def test_pull_wait_waits_for_an_event_arriving_within_the_timeout(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """pull().wait(t) returns an event stored while it waits (t is not microseconds).

        pull().wait(t) returns an event stored while it waits (t is milliseconds, not
        microseconds: the wait does not give up early).
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name("late"))
        future = consumer.pull()
        assert future.wait(0) is None
        producer = topic.producer()

        def push_later() -> None:
            time.sleep(0.3)
            producer.push({"late": 1}, b"late")
            producer.flush().wait(WAIT_MS)

        thread = threading.Thread(target=push_later, daemon=True)
        thread.start()
        event, _ = bounded_call(
            lambda: future.wait(WAIT_MS), WAIT_MS / 1000 + GIVE_UP_S, "pull().wait(10000)"
        )
        thread.join(GIVE_UP_S)
        assert event is not None, (
            f"pull().wait({WAIT_MS}) gave None although an event was stored 0.3 s after it "
            "started waiting"
        )
        assert event.metadata == {"late": 1} and data_bytes(event) == b"late"

    @MUST
    def test_flush_and_push_futures_honour_their_timeouts(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """flush().wait(t) and a push future's wait(t) return within t milliseconds.

        flush().wait(t) and a push future's wait(t) return within t milliseconds while
        events are still being prepared (False and None if not done), and wait(-1) then
        completes with every id.
        """
        name = diaspora_backend.create_topic(
            driver, validator=Validator.from_metadata(type=SlowValidator.type_name)
        )
        topic = driver.open_topic(name)
        pool = driver.make_thread_pool(1)
        try:
            producer = topic.producer("slow", batch_size=8, thread_pool=pool)
            started = time.monotonic()
            futures = [producer.push({"i": i, "sleep_ms": 300}) for i in range(6)]
            # A backend may prepare events in push() itself rather than on the pool: then
            # nothing is left to prepare and only the time bounds below apply.
            prepared_on_the_pool = time.monotonic() - started < 0.9
            flush = producer.flush()
            done, elapsed = bounded_call(lambda: flush.wait(100), GIVE_UP_S, "flush().wait(100)")
            assert elapsed < 0.1 + SLACK_S, f"flush().wait(100) returned after {elapsed:.3f} s"
            last, elapsed = bounded_call(
                lambda: futures[-1].wait(50), GIVE_UP_S, "push future .wait(50)"
            )
            assert elapsed < 0.05 + SLACK_S, f"a push future's wait(50) took {elapsed:.3f} s"
            if prepared_on_the_pool:
                assert done is False, (
                    "flush().wait(100) gave True while six events taking 300 ms each to "
                    "validate on one thread were still being prepared"
                )
                assert last is None, f"a push future's wait(50) gave {last!r} before it was stored"
            assert flush.wait(-1) is True
            assert [future.wait(0) for future in futures] == list(range(6))
        finally:
            pool.shutdown()

    @MUST
    def test_process_timeout_is_in_milliseconds(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Consumer.process(p, timeout_ms=t) hands p None after about t milliseconds.

        Consumer.process(p, timeout_ms=t) hands p None after about t milliseconds without an
        event.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer(consumer_name("process"))
        seen: list[Any] = []

        def processor(event: Any) -> None:
            seen.append(event)
            raise StopEventProcessor()

        _, elapsed = bounded_call(
            lambda: consumer.process(processor, timeout_ms=100),
            GIVE_UP_S,
            "process(timeout_ms=100) on an empty topic",
        )
        assert seen == [None]
        assert elapsed < 0.1 + SLACK_S, f"process(timeout_ms=100) took {elapsed:.3f} s"
