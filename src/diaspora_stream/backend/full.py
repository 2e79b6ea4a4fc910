"""The full-level backend interface (design.md §4), mirroring the C++ interfaces.

A full-level backend controls batching, transport and server-side work itself. The API package
adapts log-level backends (:mod:`diaspora_stream.backend.log`) to this interface, so the public
classes of :mod:`diaspora_stream.api` only ever talk to these classes.

Inputs arrive normalized by the public layer: metadata is a JSON-able Python value (already
parsed when the user gave JSON text), data is a tuple of byte memoryviews with its total size.
Events handed back to users are :class:`diaspora_stream.event.Event` objects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from ..batches import BatchEvent, BatchFuture
from ..components.interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
)
from ..exceptions import UnsupportedError
from ..futures import FutureEvent, FutureFlushed, FutureUint
from ..positions import PartitionPositions
from ..thread_pool import ThreadPool
from .batching import PullResult, pull_each, push_each
from .capabilities import Capabilities

__all__ = [
    "DriverInterface",
    "TopicHandleInterface",
    "ProducerInterface",
    "ConsumerInterface",
    "DataSelector",
    "DataAllocator",
]

#: ``(metadata, descriptor) -> DataDescriptor | None``
DataSelector = Callable[[Any, Any], Any]
#: ``(metadata, descriptor) -> list of writable buffers``
DataAllocator = Callable[[Any, Any], Any]


class ProducerInterface(ABC):
    """Pushes events into a topic."""

    @abstractmethod
    def push(
        self, metadata: Any, data: tuple[memoryview, ...], data_size: int, partition: int | None
    ) -> FutureUint:
        """Queue one event; the future gives its id once stored."""

    def push_many(self, events: Sequence[BatchEvent], partition: int | None) -> BatchFuture:
        """Queue ``events`` (each ``(metadata, data, data_size)`` as for :meth:`push`) in order;
        the future gives their ids. Optional: the default pushes them one by one
        (:func:`~diaspora_stream.backend.batching.push_each`), after the public layer checked
        them all with the topic's validator and serializer. A backend that overrides it stores
        nothing of the call when an event is refused."""
        return push_each(self, events, partition)

    @abstractmethod
    def flush(self) -> FutureFlushed:
        """Send everything pushed so far; the future completes when it is stored, and raises
        :class:`~diaspora_stream.exceptions.EventsNotStored` (built with
        :class:`~diaspora_stream.backend.losses.LossLedger`) if any of it was not."""

    @abstractmethod
    def close(self, wait: bool = True) -> None:
        """Flush and release resources; later pushes raise ``ClosedError``."""


class ConsumerInterface(ABC):
    """Pulls events from a topic."""

    @abstractmethod
    def pull(self) -> FutureEvent:
        """Future of the next event (``None`` from ``wait`` if none arrives in time)."""

    def pull_many(self, max_events: int, deadline: float | None) -> PullResult:
        """Take up to ``max_events`` events, the same ones in the same order as that many
        :meth:`pull` calls, until ``deadline`` (``time.monotonic()`` seconds, ``None``: none);
        stop after an end-of-stream sentinel. Returns the events and the error that stopped the
        batch (raised by the public layer in its turn), or ``None``. Optional: the default
        pulls one by one (:func:`~diaspora_stream.backend.batching.pull_each`)."""
        return pull_each(self, max_events, deadline)

    def seek(self, positions: PartitionPositions) -> None:
        """Make each partition of ``positions`` (targets of this consumer) deliver next the event
        with that id, or the event at that :class:`~diaspora_stream.positions.Position`.

        Events already claimed by futures are not taken back. Called right after
        ``make_consumer`` for a consumer created with a ``start``. Optional (the ``replay``
        capability): the default raises ``UnsupportedError``.
        """
        raise UnsupportedError(f"{type(self).__name__} cannot seek (no replay capability)")

    @abstractmethod
    def close(self) -> None:
        """Release resources (the C++ ``unsubscribe``); later pulls raise ``ClosedError``."""


class TopicHandleInterface(ABC):
    """An open topic."""

    name: str
    validator: ValidatorInterface
    partition_selector: PartitionSelectorInterface
    serializer: SerializerInterface

    @property
    @abstractmethod
    def partitions(self) -> list[dict[str, Any]]:
        """One JSON object per partition."""

    @abstractmethod
    def make_producer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        ordering: int,
        thread_pool: ThreadPool,
        options: dict[str, Any],
    ) -> ProducerInterface:
        """Create a producer."""

    @abstractmethod
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
        """Create a consumer. ``data_allocator`` ``None`` means "fetch no data";
        :data:`diaspora_stream.event.FULL_DATA_ALLOCATOR` means "the whole selection into
        buffers owned by the event"."""

    def mark_complete(self, partitions: Sequence[int]) -> None:
        """Mark ``partitions`` complete: consumers get the end-of-stream sentinel after their
        last event, and pushes to them fail with ``PartitionCompleted``. Optional (the
        ``end_of_stream`` capability): the default raises ``UnsupportedError``."""
        raise UnsupportedError(
            f"{type(self).__name__} cannot mark partitions complete (no end_of_stream capability)"
        )

    def acknowledged_positions(self, consumer_name: str) -> dict[int, int]:
        """``{partition: last acknowledged event id}`` of ``consumer_name``. Optional (the
        ``consumer_positions`` capability): the default raises ``UnsupportedError``."""
        raise UnsupportedError(
            f"{type(self).__name__} cannot read acknowledged positions "
            "(no consumer_positions capability)"
        )

    def consumer_names(self) -> list[str]:
        """Every consumer name with an acknowledged position in this topic, sorted. Optional
        (the ``consumer_positions`` capability): the default raises ``UnsupportedError``."""
        raise UnsupportedError(
            f"{type(self).__name__} cannot list consumer names (no consumer_positions capability)"
        )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


class DriverInterface(ABC):
    """Entry point of a backend."""

    capabilities: Capabilities = Capabilities()

    @classmethod
    @abstractmethod
    def create(cls, options: dict[str, Any]) -> DriverInterface:
        """Create the driver from the user's options."""

    @abstractmethod
    def create_topic(
        self,
        name: str,
        options: dict[str, Any],
        validator: ValidatorInterface | None,
        partition_selector: PartitionSelectorInterface | None,
        serializer: SerializerInterface | None,
    ) -> None:
        """Create a topic (``None`` components: the defaults, re-created on open)."""

    @abstractmethod
    def open_topic(self, name: str) -> TopicHandleInterface:
        """Open an existing topic."""

    @abstractmethod
    def topic_exists(self, name: str) -> bool:
        """Whether the topic exists."""

    @abstractmethod
    def list_topics(self) -> dict[str, dict[str, Any]]:
        """Topic name → JSON description."""

    def make_thread_pool(self, count: int) -> ThreadPool:
        """A new thread pool of ``count`` threads."""
        return ThreadPool(count)

    def provenance(self) -> dict[str, Any]:
        """What is behind this driver beyond its name and options, as JSON (e.g. the module
        and driver a bridge reaches); reports print it. ``{}`` by default."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
