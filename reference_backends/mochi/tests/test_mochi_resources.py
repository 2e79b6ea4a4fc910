"""Drivers, topics, producers and consumers dropped without ``close()`` release their
connections and feed threads (issue 15, §3)."""

from __future__ import annotations

from diaspora_stream.api import Driver
from diaspora_stream_conformance.resources import assert_dropped_handles_release
from mochi_service import RunningService


def test_dropped_handles_release_connections_and_threads(mochi_service: RunningService) -> None:
    options = {"group_file": mochi_service.group_file}
    assert_dropped_handles_release(lambda: Driver(backend="mochi", options=options), 200)
