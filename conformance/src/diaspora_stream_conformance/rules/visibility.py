"""Rules about when pushed events become visible to consumers.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from diaspora_stream.api import (
    Driver,
)

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    data_bytes,
    read_all,
)
from ..levels import MUST

__all__ = ["VisibilityRules"]


class VisibilityRules(ConformanceBase):
    """Rules about when pushed events become visible to consumers."""

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
