"""Conversion of user buffers to byte views (deviation D2).

Pushed data is any object with the buffer protocol, or a list/tuple of them. Its length is
``memoryview(x).nbytes`` (bytes, not items). Non-contiguous buffers are copied once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .exceptions import Exception as DiasporaException
from .exceptions import InvalidArgument

__all__ = ["EMPTY_DATA", "as_data_segments", "as_destination", "as_view_segments", "scatter"]

EMPTY_DATA: tuple[memoryview, ...] = ()


def _as_byte_view(obj: Any, what: str) -> memoryview:
    try:
        view = memoryview(obj)
    except TypeError:
        raise InvalidArgument(
            f"{what} must support the buffer protocol (bytes, bytearray, memoryview, numpy "
            f"array...) or be a list/tuple of such objects, got {type(obj).__name__}"
        ) from None
    except ValueError as error:  # a released memoryview: its buffer is gone
        raise InvalidArgument(
            f"{what} is a buffer that cannot be read ({error}); pass data whose buffer is "
            "still alive (a memoryview must not be released before the push)"
        ) from None
    if view.c_contiguous:
        if view.format == "B" and view.ndim == 1:
            return view
        return view.cast("B")
    # D2: copy non-contiguous buffers once instead of rejecting them. A Fortran-contiguous
    # buffer keeps its memory order (what the reference sends); others are copied in C order.
    return memoryview(view.tobytes(order="A"))


def as_data_segments(data: Any) -> tuple[tuple[memoryview, ...], int]:
    """Return ``(segments, total_size)`` for the data argument of ``push``."""
    if isinstance(data, (bytes, bytearray)):
        return ((memoryview(data),), len(data)) if data else (EMPTY_DATA, 0)
    if isinstance(data, (list, tuple)):
        segments = tuple(_as_byte_view(item, "Each data segment") for item in data)
        return segments, sum(segment.nbytes for segment in segments)
    if data is None:
        return EMPTY_DATA, 0
    view = _as_byte_view(data, "Event data")
    return (view,), view.nbytes


def as_view_segments(data: memoryview) -> tuple[tuple[memoryview, ...], int]:
    """:func:`as_data_segments` for a memoryview, by one cast: a 1-D byte view of our own (the
    caller may release theirs), the cast refusing what the generic conversion handles (a
    released or non-contiguous view, an empty multi-dimensional one)."""
    try:
        view = data.cast("B")
    except (TypeError, ValueError):
        return as_data_segments(data)
    return (view,), len(view)


def as_destination(buffers: Any) -> list[memoryview]:
    """Return writable byte views over what a data allocator returned."""
    if buffers is None:
        return []
    if not isinstance(buffers, (list, tuple)):
        buffers = [buffers]
    views = []
    for item in buffers:
        try:
            view = memoryview(item)
        except TypeError:
            raise InvalidArgument(
                "A data allocator must return a list of writable buffers (e.g. [bytearray(n)]), "
                f"got an element of type {type(item).__name__}"
            ) from None
        if view.readonly:
            raise DiasporaException(
                "Python buffer is read-only: a data allocator must return writable buffers "
                "(bytearray, numpy array...), not bytes"
            )
        if not view.contiguous:
            raise DiasporaException(
                "Non-contiguous Python buffers are not supported as allocator memory; return "
                "contiguous writable buffers"
            )
        views.append(view.cast("B") if view.format != "B" or view.ndim != 1 else view)
    return views


def scatter(sources: Sequence[memoryview | bytes], destination: Sequence[memoryview]) -> None:
    """Copy ``sources`` (in order) contiguously into the ``destination`` views."""
    index = 0
    position = 0
    for source in sources:
        source_view = memoryview(source)
        offset = 0
        remaining = source_view.nbytes
        while remaining:
            target = destination[index]
            room = target.nbytes - position
            if room == 0:
                index += 1
                position = 0
                continue
            count = min(room, remaining)
            target[position : position + count] = source_view[offset : offset + count]
            position += count
            offset += count
            remaining -= count
