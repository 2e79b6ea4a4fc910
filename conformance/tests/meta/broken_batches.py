"""Broken batch paths: the memory backend behind the full-level interface, whose producers'
``push_many`` or consumers' ``pull_many`` has one bug each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from broken_clients import DelegatingConsumer, DelegatingProducer, WrappingHandle, full_level_driver
from scaffolding import BrokenBackend

from diaspora_stream.backend.batching import PullResult, push_each
from diaspora_stream.backend.full import ConsumerInterface, ProducerInterface
from diaspora_stream.batches import BatchEvent, BatchFuture

__all__ = ["BATCH_BUGS"]


class BatchIdsOffByOneHandle(WrappingHandle):
    """push_many's future gives each event the id of the event after it."""

    def wrap_producer(self, make: Any, batch_size: int, ordering: int) -> ProducerInterface:
        class IdsOffByOne(DelegatingProducer):
            def push_many(self, events: Sequence[BatchEvent], partition: int | None) -> BatchFuture:
                future = self.inner.push_many(events, partition)
                return BatchFuture([(c, first + 1, n) for c, first, n in future._parts])

        return IdsOffByOne(make())


class BatchPartlyStoredHandle(WrappingHandle):
    """push_many pushes event after event: a refused event fails the call, but the events
    around it are stored."""

    def wrap_producer(self, make: Any, batch_size: int, ordering: int) -> ProducerInterface:
        class PartlyStored(DelegatingProducer):
            def push_many(self, events: Sequence[BatchEvent], partition: int | None) -> BatchFuture:
                return push_each(self.inner, events, partition)

        return PartlyStored(make())


class PullManyDropsAtBoundaryHandle(WrappingHandle):
    """pull_many takes one event more than asked and drops it (the event after each batch)."""

    def wrap_consumer(self, consumer: ConsumerInterface) -> ConsumerInterface:
        class DropsAtBoundary(DelegatingConsumer):
            def pull_many(self, max_events: int, deadline: float | None) -> PullResult:
                events, error = self.inner.pull_many(max_events + 1, deadline)
                return events[:max_events], error

        return DropsAtBoundary(consumer)


BATCH_BUGS: tuple[BrokenBackend, ...] = (
    BrokenBackend(
        "meta-batch-ids-off-by-one",
        "push_many's future gives each event the id of the event after it",
        (
            "BatchRules::test_push_many_ids_match_consumed_events",
            "BatchRules::test_push_many_is_the_push_loop",
        ),
        full_level_driver(BatchIdsOffByOneHandle),
    ),
    BrokenBackend(
        "meta-batch-partly-stored",
        "a push_many with a refused event stores the other events of the call",
        ("BatchRules::test_push_many_refused_event_stores_nothing",),
        full_level_driver(BatchPartlyStoredHandle),
    ),
    BrokenBackend(
        "meta-pull-many-drops-at-boundary",
        "pull_many takes one event more than asked and drops it",
        ("BatchRules::test_pull_many_is_the_pull_loop",),
        full_level_driver(PullManyDropsAtBoundaryHandle),
    ),
)
