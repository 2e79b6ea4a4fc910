"""Drivers, topics, producers and consumers dropped without ``close()`` release their
librdkafka clients (sockets and native threads)."""

from __future__ import annotations

from typing import Any

import pytest
from diaspora_stream.api import Driver
from diaspora_stream_conformance.resources import assert_dropped_handles_release


@pytest.mark.slow
def test_dropped_handles_release_clients_and_threads(options: dict[str, Any]) -> None:
    assert_dropped_handles_release(lambda: Driver(backend="kafka", options=options), 100)
