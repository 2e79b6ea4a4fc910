"""The public :class:`TopicHandle`."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from ._args import name_argument, options_argument, size_argument
from .backend.full import TopicHandleInterface
from .components.public import PartitionSelector, Serializer, Validator
from .constants import AdaptiveBatchSize, Ordering
from .consumer import Consumer
from .event import FULL_DATA_ALLOCATOR
from .exceptions import Exception as DiasporaException
from .exceptions import InvalidArgument
from .positions import PartitionPositions, Position, partition_positions
from .producer import Producer
from .thread_pool import ThreadPool

if TYPE_CHECKING:
    from .driver import Driver

__all__ = ["TopicHandle"]

_UNSET: Any = object()


class TopicHandle:
    """An open topic (``Driver.open_topic``): makes producers and consumers."""

    __slots__ = ("__weakref__", "_consumers", "_impl", "_producers", "driver")

    def __init__(self, impl: TopicHandleInterface, driver: Driver) -> None:
        self._impl = impl
        self.driver = driver
        # Closed with the handle (producers first, so that what they hold is stored).
        self._producers: weakref.WeakSet[Producer] = weakref.WeakSet()
        self._consumers: weakref.WeakSet[Consumer] = weakref.WeakSet()

    @property
    def name(self) -> str:
        """The topic's name."""
        return self._impl.name

    @property
    def partitions(self) -> list[dict[str, Any]]:
        """One JSON object per partition."""
        return self._impl.partitions

    @property
    def validator(self) -> Validator:
        """The topic's validator."""
        return Validator(self._impl.validator)

    @property
    def serializer(self) -> Serializer:
        """The topic's serializer."""
        return Serializer(self._impl.serializer)

    @property
    def partition_selector(self) -> PartitionSelector:
        """The topic's partition selector."""
        return PartitionSelector(self._impl.partition_selector)

    def _pool(self, thread_pool: ThreadPool | None) -> ThreadPool:
        if thread_pool is None:
            return ThreadPool(0)
        if not isinstance(thread_pool, ThreadPool):
            raise InvalidArgument(
                f"thread_pool must be a ThreadPool (Driver.make_thread_pool), "
                f"got {type(thread_pool).__name__}"
            )
        return thread_pool

    def producer(
        self,
        name: str = "",
        *,
        batch_size: int = AdaptiveBatchSize,
        max_num_batches: int = 2,
        ordering: Ordering = Ordering.Strict,
        thread_pool: ThreadPool | None = None,
        options: Any = None,
    ) -> Producer:
        """Create a producer (see :class:`~diaspora_stream.producer.Producer`)."""
        name_argument("Producer name", name)
        size_argument("batch_size", batch_size)
        size_argument("max_num_batches", max_num_batches)
        try:
            ordering = Ordering(int(ordering))
        except (TypeError, ValueError):
            raise InvalidArgument(f"ordering must be an Ordering, got {ordering!r}") from None
        pool = self._pool(thread_pool)
        impl = self._impl.make_producer(
            name, batch_size, max_num_batches, ordering, pool, options_argument("options", options)
        )
        producer = Producer(impl, self, name, batch_size, max_num_batches, ordering, pool)
        self._producers.add(producer)
        return producer

    def consumer(
        self,
        name: str,
        *,
        data_selector: Any = _UNSET,
        data_allocator: Any = _UNSET,
        batch_size: int = AdaptiveBatchSize,
        max_num_batches: int = 2,
        thread_pool: ThreadPool | None = None,
        targets: list[int] | None = None,
        options: Any = None,
        start: Any = Position.ACKNOWLEDGED,
    ) -> Consumer:
        """Create a consumer named ``name``.

        Without ``data_allocator`` the consumer fetches the selected data (by default all of
        it) into buffers it owns: ``event.data == [memoryview]``. With an allocator, the
        selected bytes are written into the buffers it returns and ``event.data`` is that very
        list. ``data_allocator=None`` fetches no data (``event.data == []``). ``targets`` limits
        the consumer to those partitions.

        ``start`` says where it reads from: ``Position.ACKNOWLEDGED`` (the default: after the
        last event its name acknowledged), ``Position.BEGINNING``, ``Position.END`` (only
        events pushed from now on), or ``{partition: event_id or Position}`` (partitions not
        named start at the acknowledged position). Any other start needs the backend's
        ``replay`` capability (else ``UnsupportedError``).
        """
        name_argument("Consumer name", name)
        size_argument("batch_size", batch_size)
        size_argument("max_num_batches", max_num_batches)
        selector = None if data_selector is _UNSET else data_selector
        allocator = FULL_DATA_ALLOCATOR if data_allocator is _UNSET else data_allocator
        for what, function in (("data_selector", selector), ("data_allocator", allocator)):
            if function not in (None, FULL_DATA_ALLOCATOR) and not callable(function):
                raise InvalidArgument(f"{what} must be callable or None, got {function!r}")
        checked_targets = self._targets(targets)
        all_targets = checked_targets or list(range(len(self._impl.partitions)))
        positions: PartitionPositions = {
            partition: position
            for partition, position in partition_positions(
                start, all_targets, len(self._impl.partitions)
            ).items()
            if position is not Position.ACKNOWLEDGED
        }
        pool = self._pool(thread_pool)
        impl = self._impl.make_consumer(
            name,
            batch_size,
            max_num_batches,
            pool,
            selector,
            allocator,
            checked_targets,
            options_argument("options", options),
        )
        if positions:
            try:
                impl.seek(positions)
            except BaseException:
                impl.close()
                raise
        consumer = Consumer(
            impl,
            self,
            name,
            batch_size,
            max_num_batches,
            pool,
            None if data_selector is _UNSET else data_selector,
            None if data_allocator is _UNSET else data_allocator,
            checked_targets,
        )
        self._consumers.add(consumer)
        return consumer

    def _targets(self, targets: Any) -> list[int] | None:
        if targets is None:
            return None
        count = len(self._impl.partitions)
        checked: list[int] = []
        for target in targets:
            if isinstance(target, bool) or not isinstance(target, int):
                raise InvalidArgument(f"targets must be partition indices, got {target!r}")
            if not 0 <= target < count:
                raise DiasporaException(
                    f"Invalid target partition {target}: topic {self.name!r} has {count} "
                    f"partition(s) (valid: 0..{count - 1})"
                )
            if target not in checked:
                checked.append(target)
        return checked or None

    def mark_complete(self, partition: int | None = None) -> None:
        """Mark ``partition`` (default: every partition) complete: consumers receive the
        end-of-stream sentinel (an event whose ``event_id`` is ``None``) after its last event,
        and pushing to it raises :class:`~diaspora_stream.exceptions.PartitionCompleted`.
        Events still buffered in producers are not waited for: flush them first, or call
        :meth:`Producer.mark_complete`. Needs the ``end_of_stream`` capability."""
        count = len(self._impl.partitions)
        if partition is None:
            partitions = list(range(count))
        elif isinstance(partition, bool) or not isinstance(partition, int):
            raise InvalidArgument(f"partition must be a partition index, got {partition!r}")
        elif not 0 <= partition < count:
            raise DiasporaException(
                f"Invalid partition {partition}: topic {self.name!r} has {count} partition(s)"
            )
        else:
            partitions = [partition]
        self._impl.mark_complete(partitions)

    def acknowledged_positions(self, consumer_name: str) -> dict[int, int]:
        """``{partition: last acknowledged event id}`` of the consumers named
        ``consumer_name`` (partitions without an acknowledgement are absent), read without
        creating a consumer. Needs the ``consumer_positions`` capability."""
        name_argument("Consumer name", consumer_name)
        return self._impl.acknowledged_positions(consumer_name)

    def consumer_names(self) -> list[str]:
        """The consumer names with an acknowledged position in this topic, sorted. Needs the
        ``consumer_positions`` capability."""
        return self._impl.consumer_names()

    def close(self) -> None:
        """Close the producers made from this handle (each stores what it holds, as
        :meth:`Producer.close <diaspora_stream.producer.Producer.close>` does), then its
        consumers, then release the handle's resources (file descriptors, connections).

        A producer whose close reports lost events does not keep the others open: everything
        is closed, then the first such error is raised."""
        producers, self._producers = list(self._producers), weakref.WeakSet()
        consumers, self._consumers = list(self._consumers), weakref.WeakSet()
        clients: list[Producer | Consumer] = [*producers, *consumers]
        failures: list[Exception] = []
        for client in clients:
            try:
                client.close()
            except Exception as error:  # noqa: BLE001 - raised once all is closed
                failures.append(error)
        self._impl.close()
        if failures:
            raise failures[0]

    def __repr__(self) -> str:
        return f"<TopicHandle {self.name!r} partitions={len(self.partitions)}>"
