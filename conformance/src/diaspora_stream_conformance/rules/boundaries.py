"""Rules about sizes: big events, big batches, and every boundary in between.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import os

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
    select_bytes,
)
from ..levels import SHOULD

__all__ = ["BoundaryRules"]


class BoundaryRules(ConformanceBase):
    """Rules about sizes: big events, big batches, and every boundary in between."""

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
        middle = select_bytes(
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
