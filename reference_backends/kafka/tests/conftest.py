"""Fixtures of the kafka backend tests: a real broker for the whole session.

The broker at ``$DIASPORA_KAFKA_BOOTSTRAP_SERVERS`` is used when that variable is set;
otherwise a single-node broker is started from the Maven Central jars (fetched once, cached).
If neither works, every test here fails with the reason and how to fix it: never skipped.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from diaspora_stream.api import Driver

from diaspora_stream_kafka.local_broker import BrokerUnavailable, LocalBroker
from diaspora_stream_kafka.testing import driver_options, session_broker


def pytest_configure(config: pytest.Config) -> None:
    # Marks of the repository's parallel runs (the tests of ten seconds or more start first).
    config.addinivalue_line("markers", "slow: takes ten seconds or more")


@pytest.fixture(scope="session", autouse=True)
def kafka_broker() -> Iterator[LocalBroker | None]:
    """The session's broker (``None`` when it is an external one)."""
    try:
        context = session_broker()
        broker = context.__enter__()
    except BrokerUnavailable as error:
        pytest.fail(f"no Kafka broker for the kafka backend tests: {error}", pytrace=False)
    try:
        yield broker
    finally:
        context.__exit__(None, None, None)


@pytest.fixture
def options() -> dict[str, Any]:
    """Driver options for the session's broker."""
    return driver_options()


@pytest.fixture
def driver(options: dict[str, Any]) -> Iterator[Driver]:
    """A kafka driver on the session's broker."""
    driver = Driver(backend="kafka", options=options)
    yield driver
    driver.close()


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> Callable[[], str]:
    """``topic_name()``: a topic name no other test uses."""
    counter = itertools.count()
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:60]

    def make() -> str:
        return f"{stem}-{next(counter)}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
def bootstrap(options: dict[str, Any]) -> str:
    """``host:port`` of the session's broker."""
    return str(options["kafka"]["bootstrap.servers"])
