"""Test helpers: the fault tests' child processes (``mochi_workers.py``) and their outputs."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from diaspora_stream.api import Driver

WORKERS = str(Path(__file__).with_name("mochi_workers.py"))


def spawn(*args: object) -> subprocess.Popen[bytes]:
    """Start ``mochi_workers.py ARGS...``."""
    return subprocess.Popen([sys.executable, WORKERS, *map(str, args)])


def wait_for(predicate: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def output_lines(path: Path) -> list[str]:
    """The lines a child wrote to ``path`` so far."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def read_all(driver: Driver, topic: str, name: str = "reader") -> list[tuple[int, dict, bytes]]:
    """(id, metadata, first data segment) of every event, until none comes for 1.5 s."""
    consumer = driver.open_topic(topic).consumer(name)
    events = []
    while True:
        event = consumer.pull().wait(1500)
        if event is None:
            return events
        events.append((event.event_id, event.metadata, bytes(event.data[0])))
