"""Helpers shared by the ``test_api_*`` modules (imported as ``api_helpers``)."""

from __future__ import annotations

import itertools
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from diaspora_stream.api import Driver

TESTS_DIR = Path(__file__).resolve().parent
LETTERS = b"abcdefghijklmnopqrstuvwxyz"
UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class Backend:
    """A backend under test: its name, driver options and topic options."""

    name: str
    options: dict[str, Any]
    topic_args: dict[str, Any] = field(default_factory=dict)
    _driver: Driver | None = None

    @property
    def is_files(self) -> bool:
        return self.name.split(":", 1)[0] == "files"

    @property
    def persistent(self) -> bool:
        """Whether a NEW Driver object with the same options sees the topics."""
        return bool(self.driver().capabilities.persistent_topics)

    def driver(self) -> Driver:
        """The test's driver (the same object on every call)."""
        if self._driver is None:
            self._driver = Driver(backend=self.name, options=self.options)
        return self._driver

    def reopen_driver(self) -> Driver:
        """A driver through which reopening a topic re-reads it: a NEW Driver for persistent
        backends (topics outlive the driver object), the same one for in-memory backends."""
        if self.persistent:
            return Driver(backend=self.name, options=self.options)
        return self.driver()

    def topic_options(self, **extra: Any) -> dict[str, Any]:
        """The configured topic options, updated with ``extra``."""
        options = dict(self.topic_args)
        options.update(extra)
        return options


_names = itertools.count()


def unique_name(prefix: str = "topic") -> str:
    """A topic name no other test of this session uses (backends may share a root)."""
    return f"{prefix}_{os.getpid()}_{time.time_ns()}_{next(_names)}"


def drain(consumer: Any, timeout_ms: int = 50, limit: int = 1_000_000) -> list[Any]:
    """Pull until no event arrives within ``timeout_ms``; return the events."""
    events = []
    while len(events) < limit:
        event = consumer.pull().wait(timeout_ms=timeout_ms)
        if event is None or event.event_id is None:
            break
        events.append(event)
    return events


def pull_one(consumer: Any, timeout_s: float = 5.0) -> Any:
    """Pull until an event arrives (at most ``timeout_s``); fail the test otherwise."""
    future = consumer.pull()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        event = future.wait(timeout_ms=100)
        if event is not None:
            return event
    pytest.fail(f"no event arrived within {timeout_s} s")


def assert_no_more(consumer: Any, timeout_ms: int = 100) -> None:
    """The next pull gives no event (``None``, or the reference's NoMoreEvents event)."""
    event = consumer.pull().wait(timeout_ms=timeout_ms)
    assert event is None or event.event_id is None, f"unexpected event {event!r}"


def subprocess_env() -> dict[str, str]:
    """Environment for a child Python that imports this package and the tests' modules."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), *filter(None, [env.get("PYTHONPATH")])])
    return env


PYTHON = sys.executable
