"""What every consumer does to give an event its data: select, allocate, copy (D3, D4).

A consumer's data selector chooses which bytes of an event's data it wants (a
:class:`~diaspora_stream.data_descriptor.DataDescriptor`, or ``None`` for none); its data
allocator says where they go. :func:`select_event_data` applies both the same way on every
backend; the backend only supplies a :class:`DataSource` that copies byte ranges of one stored
event (from a file, a fetched Kafka record, a remote server...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..allocators import ByteArrayAllocator, FullDataSelector
from ..buffers import as_destination, scatter
from ..data_descriptor import DataDescriptor
from ..event import FULL_DATA_ALLOCATOR
from ..exceptions import Exception as DiasporaException

__all__ = [
    "DataSource",
    "SelectionPlan",
    "copy_segments",
    "plan_selection",
    "select_event_data",
]

#: ``event.data[0]`` of an event without data read whole (shared: it holds no byte).
EMPTY_VIEW = memoryview(bytearray())
_EMPTY_VIEW = EMPTY_VIEW


class DataSource(Protocol):
    """Where a consumer's backend reads the data of the events it delivers."""

    def read_selected(
        self,
        partition: int,
        record: Any,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the ``(offset, size)`` ``segments`` of ``record``'s data, in order, contiguously
        into ``destination`` (already checked: in range, and large enough)."""

    def read_whole(self, partition: int, record: Any) -> memoryview:
        """The whole data of ``record`` as a byte view the event may keep."""


def copy_segments(
    source: memoryview, segments: Sequence[tuple[int, int]], destination: Sequence[memoryview]
) -> None:
    """Copy the ``(offset, size)`` ``segments`` of ``source`` contiguously into ``destination``."""
    if len(segments) == 1 and len(destination) == 1:
        offset, size = segments[0]
        destination[0][:size] = source[offset : offset + size]
        return
    scatter([source[offset : offset + size] for offset, size in segments], destination)


@dataclass(slots=True)
class SelectionPlan:
    """What a consumer will give an event, before any byte is read.

    ``data`` becomes ``event.data``; the ``(offset, size)`` ``segments`` of the event's data go,
    in order, into ``destination`` (nothing to read when empty); ``whole``: ``event.data`` is
    ``[the whole data]``, as the backend hands it out (:meth:`DataSource.read_whole`).
    """

    data: Any
    segments: list[tuple[int, int]]
    destination: list[memoryview]
    whole: bool = False


_NOTHING = SelectionPlan([], [], [])


def plan_selection(
    metadata: Any,
    data_size: int,
    selector: Any,
    allocator: Any,
    partition: int,
    event_id: int,
    room: int | None = None,
    new_buffer: Callable[[int], bytearray] = bytearray,
) -> SelectionPlan | None:
    """Run the consumer's data selector and allocator on one event (``event_id`` of
    ``partition``, ``data_size`` bytes of data) and say what to read where.

    With ``room``, a selection of more bytes than that is not allocated: ``None`` is returned
    (a batch of reads that is full leaves the event to the next one). ``new_buffer(size)``
    makes the buffers of :data:`~diaspora_stream.event.FULL_DATA_ALLOCATOR` and of
    :func:`~diaspora_stream.allocators.ByteArrayAllocator` (each is overwritten whole).

    ``allocator`` ``None``: fetch nothing (``[]``, D4);
    :data:`~diaspora_stream.event.FULL_DATA_ALLOCATOR`: ``[memoryview]`` of the selection.
    Raises :class:`~diaspora_stream.exceptions.Exception` for a selector that returns something
    else than a descriptor, a selection out of the data's range, or an allocation too small.
    """
    if selector is None or selector is FullDataSelector:
        descriptor = None  # FullDataSelector hands back the descriptor of the whole data
        selected = data_size
    else:
        descriptor = _selection(selector, metadata, data_size)
        selected = descriptor.size
    if allocator is None:
        return _NOTHING
    if room is not None and selected > room:
        return None
    if allocator is FULL_DATA_ALLOCATOR:
        if selector is None and data_size:
            return SelectionPlan(None, [], [], whole=True)
        if not selected:
            return SelectionPlan([_EMPTY_VIEW], [], [])
        buffer = memoryview(new_buffer(selected))
        segments = _segments(descriptor, data_size, event_id, partition)
        return SelectionPlan([buffer], segments, [buffer])
    if allocator is ByteArrayAllocator:  # what it returns: [bytearray(selected)]
        owned = new_buffer(selected)
        if not selected:
            return SelectionPlan([owned], [], [])
        segments = _segments(descriptor, data_size, event_id, partition)
        return SelectionPlan([owned], segments, [memoryview(owned)])
    data = allocator(
        metadata, descriptor if descriptor is not None else DataDescriptor("", data_size)
    )
    if not selected:
        return SelectionPlan(data, [], [])
    destination = as_destination(data)
    capacity = sum(view.nbytes for view in destination)
    if capacity < selected:
        raise DiasporaException(
            f"DataView has insufficient capacity for descriptor segments: the allocator "
            f"returned {capacity} bytes for a selection of {selected} bytes"
        )
    return SelectionPlan(data, _segments(descriptor, data_size, event_id, partition), destination)


def _selection(selector: Any, metadata: Any, data_size: int) -> DataDescriptor:
    """What ``selector`` selects of an event's ``data_size`` bytes (``None``: nothing)."""
    descriptor = selector(metadata, DataDescriptor("", data_size))
    if descriptor is None:
        return DataDescriptor()
    if not isinstance(descriptor, DataDescriptor):
        raise DiasporaException(
            f"A data selector must return a DataDescriptor or None, got {type(descriptor).__name__}"
        )
    return descriptor


def _segments(
    descriptor: DataDescriptor | None, data_size: int, event_id: int, partition: int
) -> list[tuple[int, int]]:
    if descriptor is None:
        return [(0, data_size)]
    segments = [piece for piece in descriptor.flatten() if piece[1]]
    for offset, size in segments:
        if offset + size > data_size:
            raise DiasporaException(
                f"Requested segment [{offset}, {offset + size}) exceeds data size "
                f"{data_size} of event {event_id} (partition {partition})"
            )
    return segments


def select_event_data(
    metadata: Any,
    data_size: int,
    selector: Any,
    allocator: Any,
    source: DataSource,
    partition: int,
    record: Any,
    event_id: int,
) -> Any:
    """The ``data`` of the event ``record`` (id ``event_id`` of ``partition``): the plan of
    :func:`plan_selection`, carried out by reading from ``source``."""
    plan = plan_selection(metadata, data_size, selector, allocator, partition, event_id)
    assert plan is not None  # no room limit: always a plan
    if plan.whole:
        return [source.read_whole(partition, record)]
    if plan.segments:
        source.read_selected(partition, record, plan.segments, plan.destination)
    return plan.data
