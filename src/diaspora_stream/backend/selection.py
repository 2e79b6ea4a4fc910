"""What every consumer does to give an event its data: select, allocate, copy (D3, D4).

A consumer's data selector chooses which bytes of an event's data it wants (a
:class:`~diaspora_stream.data_descriptor.DataDescriptor`, or ``None`` for none); its data
allocator says where they go. :func:`select_event_data` applies both the same way on every
backend; the backend only supplies a :class:`DataSource` that copies byte ranges of one stored
event (from a file, a fetched Kafka record, a remote server...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..buffers import as_destination, scatter
from ..data_descriptor import DataDescriptor
from ..event import FULL_DATA_ALLOCATOR
from ..exceptions import Exception as DiasporaException

__all__ = ["DataSource", "copy_segments", "select_event_data"]

_EMPTY_VIEW = memoryview(bytearray())


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


def _selected_segments(
    descriptor: DataDescriptor, data_size: int, event_id: int, partition: int
) -> list[tuple[int, int]]:
    segments = [piece for piece in descriptor.flatten() if piece[1]]
    for offset, size in segments:
        if offset + size > data_size:
            raise DiasporaException(
                f"Requested segment [{offset}, {offset + size}) exceeds data size "
                f"{data_size} of event {event_id} (partition {partition})"
            )
    return segments


def _copy(
    source: DataSource,
    partition: int,
    record: Any,
    event_id: int,
    data_size: int,
    descriptor: DataDescriptor | None,
    destination: list[memoryview],
) -> None:
    if descriptor is None:
        segments = [(0, data_size)]
        needed = data_size
    else:
        segments = _selected_segments(descriptor, data_size, event_id, partition)
        needed = descriptor.size
    capacity = sum(view.nbytes for view in destination)
    if capacity < needed:
        raise DiasporaException(
            f"DataView has insufficient capacity for descriptor segments: the allocator "
            f"returned {capacity} bytes for a selection of {needed} bytes"
        )
    source.read_selected(partition, record, segments, destination)


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
    """The ``data`` of the event ``record`` (id ``event_id`` of ``partition``).

    ``selector``/``allocator`` are the consumer's (``None`` allocator: fetch nothing, ``[]``;
    :data:`~diaspora_stream.event.FULL_DATA_ALLOCATOR`: ``[memoryview]`` of the selection).
    Raises :class:`~diaspora_stream.exceptions.Exception` for a selector that returns something
    else than a descriptor, a selection out of the data's range, or an allocation too small.
    """
    if selector is None:
        descriptor = None
        selected_size = data_size
    else:
        descriptor = selector(metadata, DataDescriptor("", data_size))
        if descriptor is None:
            descriptor = DataDescriptor()
        elif not isinstance(descriptor, DataDescriptor):
            raise DiasporaException(
                "A data selector must return a DataDescriptor or None, got "
                f"{type(descriptor).__name__}"
            )
        selected_size = descriptor.size
    if allocator is None:
        return []
    if allocator is FULL_DATA_ALLOCATOR:
        if descriptor is None and data_size:
            return [source.read_whole(partition, record)]
        if not selected_size:
            return [_EMPTY_VIEW]
        buffer = memoryview(bytearray(selected_size))
        _copy(source, partition, record, event_id, data_size, descriptor, [buffer])
        return [buffer]
    data = allocator(
        metadata, descriptor if descriptor is not None else DataDescriptor("", data_size)
    )
    if selected_size:
        _copy(source, partition, record, event_id, data_size, descriptor, as_destination(data))
    return data
