"""Rules about time: every timeout is in milliseconds, 0 polls, a negative value blocks.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from diaspora_stream.api import (
    Driver,
)

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    consumer_name,
    data_bytes,
    push_and_flush,
)
from ..levels import MUST

__all__ = ["TimeRules"]


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
