"""Handles dropped without ``close()`` release their file descriptors (issue 15, §3)."""

from __future__ import annotations

import gc
from pathlib import Path

from diaspora_stream.api import Driver
from diaspora_stream_conformance.resources import (
    assert_dropped_handles_release,
    measure_dropped_cycles,
)


def test_dropped_drivers_topics_and_consumers_release_their_files(tmp_path: Path) -> None:
    options = {"root_path": str(tmp_path)}
    assert_dropped_handles_release(lambda: Driver(backend="files", options=options), 300)


def test_a_dropped_consumer_cycle_releases_its_files_at_once(tmp_path: Path) -> None:
    """Without waiting for the cycle collector: dropping the last reference is enough."""
    options = {"root_path": str(tmp_path)}
    gc.disable()
    try:
        before, after = measure_dropped_cycles(
            lambda: Driver(backend="files", options=options), 100, producers=False
        )
    finally:
        gc.enable()
    assert after.fds <= before.fds, f"{before} before, {after} after"
