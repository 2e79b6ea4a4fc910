"""push_many and pull_many beyond the conformance rules: argument errors, the threaded and
fixed-batch producer paths, the selector covered by the atomic refusal on log-level backends,
an error met by pull_many after some events, BatchFuture's timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from diaspora_stream.api import (
    BatchFuture,
    Driver,
    InvalidArgument,
    InvalidMetadata,
    PartitionSelector,
    TopicHandle,
    register_partition_selector,
)
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.components.partition_selectors import DefaultPartitionSelector
from diaspora_stream.futures import Completion


class _RefusesBadSelector(DefaultPartitionSelector):
    """Round robin, but raises for metadata holding ``"bad"``."""

    type_name = "tests-batch-refusing-selector"

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        if isinstance(metadata, dict) and "bad" in metadata:
            raise ValueError("this selector refuses 'bad' events")
        return super().select_partition_for(metadata, requested)


register_partition_selector(_RefusesBadSelector.type_name, _RefusesBadSelector)


def _metadata_seen(topic: TopicHandle) -> list[Any]:
    consumer = topic.consumer("reader")
    seen = [event.metadata for event in consumer.pull_many(1000, timeout_ms=200)]
    consumer.close()
    return seen


@pytest.mark.parametrize(
    ("metadata", "data", "fragment"),
    [
        ("{}", None, "list or tuple"),
        ([{}], b"xx", "list or tuple"),
        ([{}, {}], [b"x"], "2 metadata but 1 data"),
    ],
)
def test_bad_lists_raise_invalid_argument(
    topic: TopicHandle, metadata: Any, data: Any, fragment: str
) -> None:
    with pytest.raises(InvalidArgument, match=fragment):
        topic.producer().push_many(metadata, data)


def test_bad_partition_raises_like_push(topic: TopicHandle) -> None:
    with pytest.raises(InvalidArgument, match="partition"):
        topic.producer().push_many([{}], partition=-1)


def test_refused_event_carries_its_index(topic: TopicHandle) -> None:
    with pytest.raises(InvalidMetadata) as raised:
        topic.producer().push_many(['{"a": 1}', '{"a": 1}', "{oops"])
    assert raised.value.batch_index == 2  # type: ignore[attr-defined]
    assert str(raised.value).startswith("event 2 of the batch: ")


@pytest.mark.parametrize("threads", [0, 2])
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_ids_and_order_with_pools_and_batch_sizes(
    driver: Driver, make_topic: Callable[..., TopicHandle], threads: int, batch_size: int
) -> None:
    topic = make_topic(num_partitions=2)
    pool = driver.make_thread_pool(threads)
    producer = topic.producer(batch_size=batch_size, thread_pool=pool)
    first = producer.push_many([{"n": n} for n in range(7)])
    second = producer.push_many([{"n": n} for n in range(7, 10)], partition=1)
    assert producer.flush().wait(10_000) is True
    assert first.wait(10_000) == [0, 0, 1, 1, 2, 2, 3]
    assert second.wait(10_000) == [3, 4, 5]
    seen = _metadata_seen(topic)
    assert sorted(m["n"] for m in seen) == list(range(10))
    producer.close()


def test_selector_refusal_stores_nothing_on_log_level_backends(
    make_topic: Callable[..., TopicHandle],
) -> None:
    selector = PartitionSelector.from_metadata(type=_RefusesBadSelector.type_name)
    topic = make_topic(partition_selector=selector)
    producer = topic.producer()
    future = producer.push_many([{"n": 0}, {"bad": 1}, {"n": 2}])
    with pytest.raises(DiasporaException, match="event 1 of the batch: Partition selector"):
        future.wait(10_000)
    producer.push({"n": "after"})
    assert producer.flush().wait(10_000) is True
    assert _metadata_seen(topic) == [{"n": "after"}]


def test_batch_future_times_out_then_completes() -> None:
    pending = Completion()
    future = BatchFuture([(Completion.resolved(5), 1, 2), (pending, 0, 1)])
    assert len(future) == 3
    assert not future.completed
    assert future.wait(0) is None
    pending.set_result(9)
    assert future.completed
    assert future.wait(0) == [6, 7, 9]


def test_batch_future_raises_the_first_error() -> None:
    future = BatchFuture.failed(InvalidMetadata("no"), 4)
    assert len(future) == 4
    with pytest.raises(InvalidMetadata, match="no"):
        future.wait()


def test_pull_many_error_after_events_is_raised_in_its_turn(
    make_topic: Callable[..., TopicHandle],
) -> None:
    topic = make_topic()
    producer = topic.producer()
    producer.push_many([{"n": 0}, {"n": 1}])
    assert producer.flush().wait(10_000) is True
    consumer = topic.consumer("reader")
    real = consumer._impl.pull_many

    def failing_after_events(max_events: int, deadline: float | None) -> Any:
        events, _ = real(max_events, deadline)
        return events, DiasporaException("unreadable record")

    consumer._impl.pull_many = failing_after_events  # type: ignore[method-assign]
    events = consumer.pull_many(5, timeout_ms=0)
    assert [event.metadata for event in events] == [{"n": 0}, {"n": 1}]
    with pytest.raises(DiasporaException, match="unreadable record"):
        consumer.pull().wait(0)
    consumer._impl.pull_many = real  # type: ignore[method-assign]
    assert consumer.pull_many(5, timeout_ms=0) == []  # the error was raised once


def test_pull_many_refuses_bad_arguments(topic: TopicHandle) -> None:
    consumer = topic.consumer("reader")
    with pytest.raises(InvalidArgument):
        consumer.pull_many(-1)
    with pytest.raises(InvalidArgument):
        consumer.pull_many(1, timeout_ms="soon")
