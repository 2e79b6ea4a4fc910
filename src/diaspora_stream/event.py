"""The :class:`Event` objects that consumers return."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .constants import NoMoreEvents

__all__ = ["Event", "FULL_DATA_ALLOCATOR", "make_events"]


class _FullDataAllocator:
    """Marker: the consumer allocates the selected data itself (``event.data == [memoryview]``)."""

    def __repr__(self) -> str:
        return "FULL_DATA_ALLOCATOR"


FULL_DATA_ALLOCATOR: Any = _FullDataAllocator()


class Event:
    """An event pulled by a consumer.

    ``metadata`` is the event's JSON metadata as Python objects; ``data`` the list of buffers
    holding the selected data (the allocator's own list when the consumer has an allocator,
    ``[memoryview]`` for a consumer without one, ``[]`` when no data was fetched: deviation D4);
    ``event_id`` its id in its partition (``None`` for the C++ "no more events" sentinel);
    ``partition`` the JSON object describing its partition.
    """

    __slots__ = ("_acknowledger", "_partition_index", "data", "event_id", "metadata", "partition")

    def __init__(
        self,
        metadata: Any,
        data: Any,
        event_id: int | None,
        partition: dict[str, Any],
        partition_index: int = 0,
        acknowledger: Callable[[int, int], None] | None = None,
    ) -> None:
        self.metadata = metadata
        self.data = data if data is not None else []
        self.event_id = None if event_id == NoMoreEvents else event_id
        self.partition = partition
        self._partition_index = partition_index
        self._acknowledger = acknowledger

    @property
    def partition_index(self) -> int:
        """Index of the event's partition in its topic."""
        return self._partition_index

    def acknowledge(self) -> None:
        """Record that every event of this partition up to this one is processed by this
        consumer's name: a consumer created again with that name resumes after it (D6)."""
        if self._acknowledger is not None and self.event_id is not None:
            self._acknowledger(self._partition_index, self.event_id)

    def __repr__(self) -> str:
        return (
            f"<Event partition={self._partition_index} id={self.event_id} "
            f"metadata={self.metadata!r}>"
        )


def make_events(
    metadata: Iterable[Any],
    first_id: int,
    partition: dict[str, Any],
    partition_index: int,
    acknowledger: Callable[[int, int], None] | None,
    no_data: memoryview,
) -> list[Event]:
    """The events of a run of consecutive stored records of one partition without data, ids
    from ``first_id``: what ``Event(metadata, [no_data], id, partition, partition_index,
    acknowledger)`` makes for each (every event with a list of its own), in one loop (a
    consumer's ``pull_many``)."""
    new = object.__new__
    events: list[Event] = []
    append = events.append
    for event_id, item in enumerate(metadata, first_id):
        event = new(Event)
        event.metadata = item
        event.data = [no_data]
        event.event_id = event_id
        event.partition = partition
        event._partition_index = partition_index
        event._acknowledger = acknowledger
        append(event)
    return events
