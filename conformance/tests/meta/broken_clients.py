"""Broken full-level clients: producers and consumers with one realistic bug each.

A researcher who writes a full-level backend writes its own producer and consumer: batching,
flushing, futures and timeouts are where a first engine goes wrong. Each bug here wraps the
generic producer or consumer of the memory backend behind the full-level interface and changes
one thing: what flush covers, when a batch is sent, how a timeout is read, which order holds.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from scaffolding import BrokenBackend

from diaspora_stream.api import AdaptiveBatchSize, Ordering
from diaspora_stream.backend.full import (
    ConsumerInterface,
    DataAllocator,
    DataSelector,
    ProducerInterface,
)
from diaspora_stream.backend.log_adapter import LogDriverAdapter, LogTopicHandle
from diaspora_stream.backends.memory import MemoryDriver
from diaspora_stream.futures import Completion, FutureEvent, FutureFlushed, FutureUint
from diaspora_stream.positions import PartitionPositions
from diaspora_stream.thread_pool import ThreadPool

__all__ = [
    "CLIENT_BUGS",
    "DelegatingConsumer",
    "DelegatingProducer",
    "WrappingHandle",
    "full_level_driver",
]


# ------------------------------------------------------------------ full-level wrappers


class WrappingHandle(LogTopicHandle):
    """A memory topic behind the full-level interface, whose producers and consumers are
    wrapped by :meth:`wrap_producer` and :meth:`wrap_consumer` (identity by default)."""

    def make_producer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        ordering: int,
        thread_pool: ThreadPool,
        options: dict[str, Any],
    ) -> ProducerInterface:
        """The generic producer, wrapped."""
        return self.wrap_producer(
            lambda size=batch_size, order=ordering: super(WrappingHandle, self).make_producer(
                name, size, max_num_batches, order, thread_pool, options
            ),
            batch_size,
            ordering,
        )

    def make_consumer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        thread_pool: ThreadPool,
        data_selector: DataSelector | None,
        data_allocator: DataAllocator | None,
        targets: Sequence[int] | None,
        options: dict[str, Any],
    ) -> ConsumerInterface:
        """The generic consumer, wrapped."""
        return self.wrap_consumer(
            super().make_consumer(
                name,
                batch_size,
                max_num_batches,
                thread_pool,
                data_selector,
                data_allocator,
                targets,
                options,
            )
        )

    def wrap_producer(self, make: Any, batch_size: int, ordering: int) -> ProducerInterface:
        """``make(size=..., order=...)`` builds a generic producer; the default builds one."""
        producer: ProducerInterface = make()
        return producer

    def wrap_consumer(self, consumer: ConsumerInterface) -> ConsumerInterface:
        """The consumer handed to the API; the default hands the generic one."""
        return consumer


def full_level_driver(handle_class: type[WrappingHandle]) -> type[LogDriverAdapter]:
    """A full-level driver over a new memory driver whose topics are ``handle_class``."""

    class Driver(LogDriverAdapter):
        __doc__ = handle_class.__doc__

        def __init__(self) -> None:
            super().__init__(MemoryDriver())

        @classmethod
        def create(cls, options: dict[str, Any]) -> Driver:
            MemoryDriver.create(options)
            return cls()

        def open_topic(self, name: str) -> LogTopicHandle:
            plain = super().open_topic(name)
            assert isinstance(plain, LogTopicHandle)
            return handle_class(plain.log_topic, self.capabilities)

    Driver.__name__ = Driver.__qualname__ = handle_class.__name__.replace("Handle", "Driver")
    return Driver


class DelegatingProducer(ProducerInterface):
    """Forwards everything to ``inner``."""

    def __init__(self, inner: ProducerInterface) -> None:
        self.inner = inner

    def push(
        self, metadata: Any, data: tuple[memoryview, ...], data_size: int, partition: int | None
    ) -> FutureUint:
        return self.inner.push(metadata, data, data_size, partition)

    def flush(self) -> FutureFlushed:
        return self.inner.flush()

    def close(self, wait: bool = True) -> None:
        self.inner.close(wait)


class DelegatingConsumer(ConsumerInterface):
    """Forwards everything to ``inner``, handing out pulls as :attr:`future_class`."""

    future_class: ClassVar[type[FutureEvent]] = FutureEvent

    def __init__(self, inner: ConsumerInterface) -> None:
        self.inner = inner

    def pull(self) -> FutureEvent:
        return self.future_class(self.inner.pull()._completion)

    def seek(self, positions: PartitionPositions) -> None:
        self.inner.seek(positions)

    def close(self) -> None:
        self.inner.close()


# --------------------------------------------------------------------- visibility bugs


class FlushMarksOnlyHandle(WrappingHandle):
    """flush() answers "done" at once without sending the pending batches (they are sent
    when full, or when someone waits on one of their push futures)."""

    def wrap_producer(self, make: Any, batch_size: int, ordering: int) -> ProducerInterface:
        class FlushMarksOnly(DelegatingProducer):
            def flush(self) -> FutureFlushed:
                return FutureFlushed(Completion.resolved(True))

        return FlushMarksOnly(make())


class FlushLastPartitionHandle(WrappingHandle):
    """Each partition has its own batcher, and flush() flushes the batcher of the partition
    pushed to last ("flush the current batch")."""

    def wrap_producer(self, make: Any, batch_size: int, ordering: int) -> ProducerInterface:
        count = self.log_topic.num_partitions
        batchers = [make() for _ in range(count)]
        rotation = itertools.count()

        class LastPartitionFlush(DelegatingProducer):
            last = 0  # the partition pushed to last

            def push(
                self,
                metadata: Any,
                data: tuple[memoryview, ...],
                data_size: int,
                partition: int | None,
            ) -> FutureUint:
                chosen = next(rotation) % count if partition is None else partition % count
                self.last = chosen
                return batchers[chosen].push(metadata, data, data_size, chosen)

            def flush(self) -> FutureFlushed:
                return batchers[self.last].flush()

            def close(self, wait: bool = True) -> None:
                for batcher in batchers:
                    batcher.close(wait)

        return LastPartitionFlush(batchers[0])


class AdaptiveNeverSendsHandle(WrappingHandle):
    """AdaptiveBatchSize is implemented as a very large fixed batch: nothing is sent before
    a flush."""

    def wrap_producer(self, make: Any, batch_size: int, ordering: int) -> ProducerInterface:
        producer: ProducerInterface = (
            make(size=1_000_000) if batch_size == AdaptiveBatchSize else make()
        )
        return producer


# -------------------------------------------------------------------------- time bugs


class _SecondsFuture(FutureEvent):
    __slots__ = ()

    def wait(self, timeout_ms: int = -1) -> Any:
        return super().wait(timeout_ms * 1000 if timeout_ms > 0 else timeout_ms)


class _ZeroBlocksFuture(FutureEvent):
    __slots__ = ()

    def wait(self, timeout_ms: int = -1) -> Any:
        return super().wait(-1 if timeout_ms <= 0 else timeout_ms)


class _MicrosecondsFuture(FutureEvent):
    __slots__ = ()

    def wait(self, timeout_ms: int = -1) -> Any:
        return super().wait(timeout_ms // 1000 if timeout_ms > 0 else timeout_ms)


class _OvershootingFuture(FutureEvent):
    __slots__ = ()

    #: Seconds a wait that found nothing sleeps past its timeout.
    OVERSHOOT_S = 8.0

    def wait(self, timeout_ms: int = -1) -> Any:
        event = super().wait(timeout_ms)
        if event is None and timeout_ms >= 0:
            time.sleep(self.OVERSHOOT_S)
        return event


class WaitInSecondsHandle(WrappingHandle):
    """pull().wait(t) reads t as seconds (a port from an API that counts in seconds)."""

    def wrap_consumer(self, consumer: ConsumerInterface) -> ConsumerInterface:
        return type("Seconds", (DelegatingConsumer,), {"future_class": _SecondsFuture})(consumer)


class WaitZeroBlocksHandle(WrappingHandle):
    """pull().wait(0) blocks like a negative timeout ("<= 0 means forever")."""

    def wrap_consumer(self, consumer: ConsumerInterface) -> ConsumerInterface:
        return type("ZeroBlocks", (DelegatingConsumer,), {"future_class": _ZeroBlocksFuture})(
            consumer
        )


class WaitInMicrosecondsHandle(WrappingHandle):
    """pull().wait(t) reads t as microseconds: waits give up a thousand times too early."""

    def wrap_consumer(self, consumer: ConsumerInterface) -> ConsumerInterface:
        return type("Micro", (DelegatingConsumer,), {"future_class": _MicrosecondsFuture})(consumer)


class WaitOvershootsHandle(WrappingHandle):
    """pull().wait(t) that finds no event returns 8 s after its timeout (a retry loop that
    sleeps before giving up)."""

    def wrap_consumer(self, consumer: ConsumerInterface) -> ConsumerInterface:
        return type("Overshoot", (DelegatingConsumer,), {"future_class": _OvershootingFuture})(
            consumer
        )


class FlushWaitIgnoresTimeoutHandle(WrappingHandle):
    """flush().wait(t) blocks until the flush completes, whatever t."""

    def wrap_producer(self, make: Any, batch_size: int, ordering: int) -> ProducerInterface:
        class BlockingFlushFuture(FutureFlushed):
            __slots__ = ()

            def wait(self, timeout_ms: int = -1) -> bool:
                return super().wait(-1)

        class BlockingFlush(DelegatingProducer):
            def flush(self) -> FutureFlushed:
                return BlockingFlushFuture(self.inner.flush()._completion)

        return BlockingFlush(make())


# ------------------------------------------------------------------------ thread bugs


class StrictAsLooseHandle(WrappingHandle):
    """Ordering.Strict is accepted but events are stored as they are prepared (Loose)."""

    def wrap_producer(self, make: Any, batch_size: int, ordering: int) -> ProducerInterface:
        producer: ProducerInterface = make(order=Ordering.Loose)
        return producer


_VISIBLE = "VisibilityRules::test_flushed_events_visible_whatever_the_producer"
_TIMEOUT = "TimeRules::test_pull_wait_honours_its_timeout_in_milliseconds"

#: The client bugs and the suite tests that must catch them.
CLIENT_BUGS: tuple[BrokenBackend, ...] = (
    BrokenBackend(
        "meta-flush-marks-only",
        "flush() completes at once without sending the pending batches",
        (_VISIBLE, "VisibilityRules::test_flush_covers_events_pushed_by_other_threads"),
        full_level_driver(FlushMarksOnlyHandle),
    ),
    BrokenBackend(
        "meta-flush-last-partition-only",
        "flush() flushes only the batch of the partition pushed to last",
        (_VISIBLE,),
        full_level_driver(FlushLastPartitionHandle),
    ),
    BrokenBackend(
        "meta-adaptive-never-sends",
        "AdaptiveBatchSize is a very large fixed batch: nothing is visible before a flush",
        ("VisibilityRules::test_adaptive_batches_become_visible_without_flush",),
        full_level_driver(AdaptiveNeverSendsHandle),
    ),
    BrokenBackend(
        "meta-wait-in-seconds",
        "pull().wait(t) waits t seconds",
        (_TIMEOUT,),
        full_level_driver(WaitInSecondsHandle),
    ),
    BrokenBackend(
        "meta-wait-zero-blocks",
        "pull().wait(0) blocks instead of polling",
        (_TIMEOUT,),
        full_level_driver(WaitZeroBlocksHandle),
    ),
    BrokenBackend(
        "meta-wait-in-microseconds",
        "pull().wait(t) waits t microseconds",
        ("TimeRules::test_pull_wait_waits_for_an_event_arriving_within_the_timeout",),
        full_level_driver(WaitInMicrosecondsHandle),
    ),
    BrokenBackend(
        "meta-wait-overshoots",
        "pull().wait(t) that finds no event returns 8 s after its timeout",
        (_TIMEOUT,),
        full_level_driver(WaitOvershootsHandle),
    ),
    BrokenBackend(
        "meta-flush-wait-ignores-timeout",
        "flush().wait(t) blocks until the flush completes",
        ("TimeRules::test_flush_and_push_futures_honour_their_timeouts",),
        full_level_driver(FlushWaitIgnoresTimeoutHandle),
    ),
    BrokenBackend(
        "meta-strict-as-loose",
        "Ordering.Strict is ignored: events are stored in the order they are prepared",
        ("ThreadRules::test_strict_ordering_when_preparation_times_differ",),
        full_level_driver(StrictAsLooseHandle),
    ),
)
