"""Handles of the memory backend dropped without ``close()`` release what they hold."""

from __future__ import annotations

from diaspora_stream.api import Driver
from diaspora_stream_conformance.resources import assert_dropped_handles_release


def test_dropped_topics_producers_and_consumers_release_their_resources() -> None:
    # Topics live in the memory driver itself: the cycles share one driver.
    driver = Driver(backend="memory", options={})
    assert_dropped_handles_release(lambda: driver, 300)
