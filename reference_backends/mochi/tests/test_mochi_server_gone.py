"""A server killed under a producer: the flush covering the lost events raises."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from diaspora_stream.api import Driver, EventsNotStored, Unreachable
from diaspora_stream.api import Exception as DiasporaException
from mochi_service import RunningService


def test_flush_raises_for_the_events_pushed_after_the_server_was_killed(
    make_service: Callable[..., RunningService],
) -> None:
    service = make_service()
    driver = Driver(backend="mochi", options=service.options())
    driver.create_topic("gone", options={"num_partitions": 2})
    producer = driver.open_topic("gone").producer(batch_size=1)
    stored = [producer.push({"i": i}) for i in range(4)]
    assert producer.flush().wait(30_000) is True
    service.kill()
    lost = [producer.push({"i": i}, partition=i % 2) for i in range(10)]
    with pytest.raises(EventsNotStored) as raised:
        producer.flush().wait(60_000)
    assert raised.value.failed == 10
    for future in lost:
        with pytest.raises(DiasporaException):
            future.wait(0)
    assert all(isinstance(future.wait(0), int) for future in stored)


def test_a_consumer_of_a_killed_server_raises_unreachable_at_once(
    make_service: Callable[..., RunningService],
) -> None:
    service = make_service()
    driver = Driver(backend="mochi", options=service.options())
    driver.create_topic("gone")
    consumer = driver.open_topic("gone").consumer("reader")
    assert consumer.pull().wait(200) is None
    service.kill()
    with pytest.raises(Unreachable, match="check that the service is running"):
        for _ in range(10):  # an empty topic would answer None to every pull
            consumer.pull().wait(2000)
