"""Consumers of one name sharing a topic's partitions (``shared_group``), as Octopus's do."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from diaspora_stream.api import Consumer, Driver, InvalidArgument, Position

WAIT_MS = 10000


def owned(consumer: Consumer) -> set[int]:
    """The partitions the group gave ``consumer`` (what a rebalance callback recorded)."""
    partitions = consumer._impl._owned  # type: ignore[attr-defined]
    assert partitions is not None
    return set(partitions)


def test_members_of_a_shared_group_split_the_partitions(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    options = {"shared_group": True}
    first = topic.consumer("shared", options=options)
    second = topic.consumer("shared", options=options)
    deadline = time.monotonic() + 60
    # Pulls drive the group protocol: wait until the group gave each member one partition.
    while not (len(owned(first)) == 1 and len(owned(second)) == 1):
        assert time.monotonic() < deadline, (owned(first), owned(second))
        assert first.pull().wait(50) is None
        assert second.pull().wait(50) is None
    assert owned(first) | owned(second) == {0, 1}
    producer = topic.producer()
    for i in range(10):
        producer.push({"i": i}, partition=i % 2)
    assert producer.flush().wait(WAIT_MS)
    got: dict[str, list[tuple[int, int]]] = {"first": [], "second": []}
    for label, consumer in (("first", first), ("second", second)):
        for _ in range(5):
            event = consumer.pull().wait(WAIT_MS)
            assert event is not None
            got[label].append((event.partition_index, event.event_id))
            event.acknowledge()
    for label, consumer in (("first", first), ("second", second)):
        assert {p for p, _ in got[label]} == owned(consumer)
    assert sorted(got["first"] + got["second"]) == sorted((i % 2, i // 2) for i in range(10))
    assert topic.acknowledged_positions("shared") == {0: 4, 1: 4}


def test_a_shared_group_takes_no_targets_and_does_not_seek(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    with pytest.raises(InvalidArgument, match="targets"):
        topic.consumer("shared", targets=[0], options={"shared_group": True})
    with pytest.raises(InvalidArgument, match="cannot seek"):
        topic.consumer("shared", options={"shared_group": True}, start=Position.BEGINNING)
