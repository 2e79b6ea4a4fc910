"""The producer's ways of handing records over: ``push`` with the built-in components
(serialized in place), ``push_many`` prepared in bulk, and the per-event path of a validator;
exact ids when threads push through one librdkafka instance whose queue keeps filling up."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import pytest
from diaspora_stream.api import (
    Driver,
    EventsNotStored,
    InvalidMetadata,
    PartitionCompleted,
    Validator,
)
from diaspora_stream.components.serializers import pack_length

from diaspora_stream_kafka.records import encode, encode_text, encode_texts
from diaspora_stream_kafka.testing import octopus_value, read_records

WAIT_MS = 30000
#: librdkafka settings of producers whose queue is full after a few records, so that their
#: threads keep waiting for room while reports are being served.
TINY_QUEUE = {"kafka": {"queue.buffering.max.messages": "7"}}


def test_encoded_texts_are_the_records_of_the_prefixed_metadata() -> None:
    texts = [b'{"a":1}', b"{}", b'{"b":[1,2]}']
    data = [(memoryview(b"xy"), memoryview(b"z")), (), (memoryview(b"0123"),)]
    sizes = [3, 0, 4]
    expected = [
        encode(pack_length(len(text)) + text, segments, size)
        for text, segments, size in zip(texts, data, sizes, strict=True)
    ]
    assert encode_texts(texts, data, sizes) == expected
    assert [encode_text(t, d, s) for t, d, s in zip(texts, data, sizes, strict=True)] == expected
    assert encode_texts(texts) == [encode(pack_length(len(t)) + t, (), 0) for t in texts]


def test_threads_sharing_a_full_queue_get_the_ids_of_their_records(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    futures: dict[int, list[tuple[int, Any, dict[str, int]]]] = {}

    def push(thread: int) -> None:
        producer = topic.producer(f"p{thread}", options=TINY_QUEUE)
        mine: list[tuple[int, Any, dict[str, int]]] = []
        for i in range(0, 300, 10):
            for j in range(i, i + 5):
                metadata = {"t": thread, "i": j}
                mine.append((j % 2, producer.push(metadata, partition=j % 2), metadata))
            batch = [{"t": thread, "i": j} for j in range(i + 5, i + 10)]
            for part in (0, 1):
                chosen = [m for m in batch if m["i"] % 2 == part]
                ids = producer.push_many(chosen, partition=part)
                mine.extend((part, (ids, k), m) for k, m in enumerate(chosen))
        producer.flush().wait(WAIT_MS)
        futures[thread] = mine

    threads = [threading.Thread(target=push, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = {p: [r.value() for r in read_records(bootstrap, name, p)] for p in (0, 1)}
    assert len(stored[0]) + len(stored[1]) == 4 * 300
    for mine in futures.values():
        for partition, future, metadata in mine:
            if isinstance(future, tuple):
                batch, position = future
                event_id = batch.wait(0)[position]
            else:
                event_id = future.wait(0)
            assert stored[partition][event_id] == octopus_value(metadata, b"")


def test_push_many_of_two_producers_on_one_partition_gets_exact_ids(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    producers = [topic.producer("a"), topic.producer("b", options=TINY_QUEUE)]
    calls = []
    for round_ in range(20):
        for who, producer in enumerate(producers):
            metadata = [{"who": who, "round": round_, "k": k} for k in range(25)]
            data = [bytes([who]) * k for k in range(25)]
            calls.append((producer.push_many(metadata, data), metadata, data))
    for producer in producers:
        producer.flush().wait(WAIT_MS)
    stored = [record.value() for record in read_records(bootstrap, name, 0)]
    assert len(stored) == 20 * 2 * 25
    for future, metadata, data in calls:
        ids = future.wait(0)
        assert ids is not None
        assert [stored[i] for i in ids] == [
            octopus_value(m, d) for m, d in zip(metadata, data, strict=True)
        ]


def test_a_push_many_larger_than_a_send_chunk_keeps_order_and_ids(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    producer = driver.open_topic(name).producer()
    metadata = [{"i": i} for i in range(1000)]  # several chunks of records handed over
    data = [b"d" * (i % 7) for i in range(1000)]
    ids = producer.push_many(metadata, data).wait(WAIT_MS)
    assert producer.flush().wait(WAIT_MS) is True
    assert ids == [i // 2 for i in range(1000)]  # round robin over two empty partitions
    for partition in (0, 1):
        assert [r.value() for r in read_records(bootstrap, name, partition)] == [
            octopus_value(m, d)
            for m, d in zip(metadata[partition::2], data[partition::2], strict=True)
        ]


def test_a_refused_push_leaves_the_round_robin_as_before(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    producer = driver.open_topic(name).producer()
    with pytest.raises(InvalidMetadata):
        producer.push({"energy": math.nan}).wait(WAIT_MS)
    # The refused event took partition 0 of the round robin, as the selector runs first.
    assert producer.push({"energy": 1.5}).wait(WAIT_MS) == 0
    producer.flush().wait(WAIT_MS)
    assert read_records(bootstrap, name, 0) == []
    assert [r.value() for r in read_records(bootstrap, name, 1)] == [
        octopus_value({"energy": 1.5}, b"")
    ]


def test_a_refused_event_in_a_bulk_batch_leaves_nothing_stored(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    producer = driver.open_topic(name).producer()
    future = producer.push_many([{"i": 0}, {"i": 1}, {"i": math.inf}, {"i": 3}], [b"a"] * 4)
    with pytest.raises(InvalidMetadata, match="event 2 of the batch") as raised:
        future.wait(WAIT_MS)
    assert raised.value.batch_index == 2  # type: ignore[attr-defined]
    assert producer.push_many([{"i": 4}], [b"b"]).wait(WAIT_MS) == [0]
    assert producer.flush().wait(WAIT_MS) is True
    assert [r.value() for r in read_records(bootstrap, name, 0)] == [octopus_value({"i": 4}, b"b")]


def test_push_many_with_a_validator_stores_what_push_stores(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    schema = {"type": "object", "required": ["i"]}
    driver.create_topic(name, validator=Validator.from_metadata(type="schema", schema=schema))
    producer = driver.open_topic(name).producer()
    metadata = [{"i": i} for i in range(6)]
    data = [b"x" * i for i in range(6)]
    assert producer.push_many(metadata, data).wait(WAIT_MS) == list(range(6))
    assert producer.push({"i": 6}, b"y").wait(WAIT_MS) == 6
    producer.flush().wait(WAIT_MS)
    assert [r.value() for r in read_records(bootstrap, name, 0)] == [
        *(octopus_value(m, d) for m, d in zip(metadata, data, strict=True)),
        octopus_value({"i": 6}, b"y"),
    ]


def test_push_many_across_a_completed_partition_fails_its_events_and_stores_the_others(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    producer = topic.producer()
    topic.mark_complete(0)
    producer.push({"i": -1}, partition=0)  # learns that partition 0 is complete
    with pytest.raises(EventsNotStored):
        producer.flush().wait(WAIT_MS)
    future = producer.push_many([{"i": i} for i in range(4)])
    with pytest.raises(PartitionCompleted):
        future.wait(WAIT_MS)
    with pytest.raises(EventsNotStored) as raised:
        producer.flush().wait(WAIT_MS)
    assert raised.value.failed == 2
    assert len(read_records(bootstrap, name, 1)) == 2
    assert producer.flush().wait(WAIT_MS) is True
