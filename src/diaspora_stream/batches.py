"""Batches of events: the arguments of ``Producer.push_many`` and the future it returns.

``push_many(metadata, data, partition=...)`` takes one metadata per event and, optionally, one
data per event (any buffer, a list/tuple of buffers, or ``None`` for no data). Each event is
normalized exactly as ``push`` normalizes its arguments; an event that ``push`` would refuse
makes the whole call fail with the same exception type, whose message starts with the event's
index in the list, and nothing of the call is pushed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import Any, overload

from .buffers import EMPTY_DATA, as_data_segments, as_view_segments
from .exceptions import InvalidArgument
from .futures import CompletedFlag, Completion, _timeout_seconds
from .json_codec import loads

__all__ = ["BatchFuture", "BatchEvent", "BatchEvents", "batch_error", "normalize_batch"]

_ONLY_DICTS = {dict}

#: One normalized event of a batch: ``(metadata, data segments, data size)``.
BatchEvent = tuple[Any, tuple[memoryview, ...], int]


def batch_error(index: int, error: BaseException) -> BaseException:
    """``error`` retyped with a message that names the event's ``index`` in the batch.

    The exception keeps its type (``InvalidArgument``, ``InvalidMetadata``, ...) and gets the
    attribute ``batch_index``; the original is its ``__cause__``.
    """
    message = f"event {index} of the batch: {error}"
    try:
        indexed = type(error)(message)
    except TypeError:  # an exception type with another constructor: keep it, new message
        indexed = error
        indexed.args = (message,)
    else:
        indexed.__cause__ = error
    indexed.batch_index = index  # type: ignore[attr-defined]
    return indexed


class BatchEvents(Sequence[BatchEvent]):
    """The events of a ``push_many`` call without data, kept as their list of metadata.

    It behaves as the list of ``(metadata, EMPTY_DATA, 0)`` events, made on access, so a batch
    path that takes the metadata column as it is (:attr:`metadata`) builds no tuple per event.
    """

    __slots__ = ("metadata",)

    def __init__(self, metadata: list[Any]) -> None:
        """The events whose metadata are ``metadata`` (already normalized), none with data."""
        self.metadata = metadata

    def __len__(self) -> int:
        return len(self.metadata)

    @overload
    def __getitem__(self, index: int) -> BatchEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[BatchEvent]: ...

    def __getitem__(self, index: int | slice) -> BatchEvent | list[BatchEvent]:
        if isinstance(index, slice):
            return list(zip(self.metadata[index], repeat(EMPTY_DATA), repeat(0)))
        return (self.metadata[index], EMPTY_DATA, 0)

    def __iter__(self) -> Iterator[BatchEvent]:
        return zip(self.metadata, repeat(EMPTY_DATA), repeat(0))

    def data(self) -> list[tuple[memoryview, ...]]:
        """The data segments of each event (none)."""
        return [EMPTY_DATA] * len(self.metadata)

    def data_sizes(self) -> list[int]:
        """The data size of each event (0)."""
        return [0] * len(self.metadata)


def _sequence(name: str, value: Any) -> Sequence[Any]:
    if isinstance(value, (str, bytes, bytearray, memoryview)) or not isinstance(value, Sequence):
        raise InvalidArgument(
            f"{name} must be a list or tuple with one item per event, got {type(value).__name__}"
        )
    return value


def _normalize_metadata(metadata: Any) -> Any:
    if type(metadata) is not dict and isinstance(metadata, (str, bytes, bytearray)):
        return loads(metadata)
    return metadata


def _normalize_data(data: Any) -> tuple[tuple[memoryview, ...], int]:
    if type(data) is bytes:
        return ((memoryview(data),), len(data)) if data else (EMPTY_DATA, 0)
    if type(data) is memoryview:
        return as_view_segments(data)
    return as_data_segments(data)


def normalize_batch(metadata: Any, data: Any, partition: Any) -> Sequence[BatchEvent]:
    """The events of a ``push_many`` call, each normalized like ``push`` does.

    Raises the exception ``push`` would raise for the first event it refuses, retyped by
    :func:`batch_error` (index in the message); ``InvalidArgument`` when the lists do not match.
    """
    metadatas = _sequence("metadata", metadata)
    if data is None:
        datas: Sequence[Any] | None = None
    else:
        datas = _sequence("data", data)
        if len(datas) != len(metadatas):
            raise InvalidArgument(
                f"push_many got {len(metadatas)} metadata but {len(datas)} data: give one data "
                "per event (None for an event without data), or no data list at all"
            )
    if partition is not None and (
        isinstance(partition, bool) or not isinstance(partition, int) or partition < 0
    ):
        raise InvalidArgument(f"partition must be a non-negative integer, got {partition!r}")
    if datas is None and set(map(type, metadatas)) == _ONLY_DICTS:  # nothing to normalize
        return BatchEvents(list(metadatas))
    events: list[BatchEvent] = []
    append = events.append
    try:
        if datas is None:
            for item in metadatas:
                if type(item) is not dict:
                    item = _normalize_metadata(item)
                append((item, EMPTY_DATA, 0))
        else:
            for item, payload in zip(metadatas, datas, strict=True):
                segments, size = _normalize_data(payload)
                append((_normalize_metadata(item), segments, size))
    except Exception as error:  # noqa: BLE001 - re-raised with the event's index
        raise batch_error(len(events), error) from error.__cause__
    return events


class BatchFuture:
    """Future of the ids of the events of one ``Producer.push_many`` call.

    ``wait(timeout_ms=-1)`` returns the list of ids, in the order of the events in the call,
    once every event is stored; ``None`` if that is not the case within ``timeout_ms``; and
    raises the error of the call (an event refused by the validator, partition selector or
    serializer, named by its index; nothing of the call was stored then) or of the first event
    that could not be stored.
    """

    __slots__ = ("_parts", "_size")

    def __init__(self, parts: Sequence[tuple[Completion, int, int]]) -> None:
        # Each part: (completion of a group of consecutive events, position of the first of
        # them in that completion's id range, event count).
        self._parts = list(parts)
        self._size = sum(count for _, _, count in self._parts)

    @classmethod
    def failed(cls, error: BaseException, size: int) -> BatchFuture:
        """A future of ``size`` events that raises ``error``."""
        return cls([(Completion.failed(error), 0, size)])

    def __len__(self) -> int:
        """The number of events of the call."""
        return self._size

    @property
    def completed(self) -> CompletedFlag:
        """Whether every event of the call finished (stored or failed)."""
        return CompletedFlag(all(completion.done for completion, _, _ in self._parts))

    def wait(self, timeout_ms: int = -1) -> list[int] | None:
        """The ids of the events, in call order (see the class)."""
        timeout = _timeout_seconds(timeout_ms)
        deadline = None if timeout is None else time.monotonic() + timeout
        for completion, _, _ in self._parts:
            if completion.done:
                completion.wait(0)  # raises the part's error
                continue
            left = -1 if deadline is None else max(0.0, deadline - time.monotonic()) * 1000
            if not completion.wait(left):
                return None
        ids: list[int] = []
        for completion, first, count in self._parts:
            start = int(completion.value) + first
            ids.extend(range(start, start + count))
        return ids

    def __repr__(self) -> str:
        state = "completed" if self.completed else "pending"
        return f"<BatchFuture of {self._size} event(s) {state}>"
