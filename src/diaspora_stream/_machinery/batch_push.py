"""The batch path of the generic producer of log-level backends (``push_many``).

With a 0-thread pool the calling thread prepares every event first (validator, partition
selector, serializer: the producer's own preparation, as ``push`` runs it); an event refused
then fails the whole call and nothing is added. Otherwise all the records join their partitions'
open batches under one acquisition of the producer's lock, in list order, sealed at the batch
size as ``push`` seals them, kept column by column (:mod:`.columns`). With the built-in
components and no validator, the preparation of the whole list takes a few C-level calls
(:meth:`~diaspora_stream.backend.preparation.EventPreparer.prepare_columns`). With a threaded
pool, ``push_many`` checks the events first
(:func:`~diaspora_stream.backend.batching.preflight`), then queues them one by one for the pool
(:mod:`.pool_push`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import accumulate
from operator import itemgetter
from typing import TYPE_CHECKING

from ..backend.batching import preflight
from ..batches import BatchEvent, BatchEvents, BatchFuture, batch_error
from ..futures import Completion
from . import producer as _producer  # partly initialized here: read at call time
from .columns import PendingColumns

if TYPE_CHECKING:
    from .producer import LogProducer

__all__ = ["PreparedRun", "add_run", "push_batch"]

_data_of = itemgetter(1)
_size_of = itemgetter(2)


def push_batch(
    producer: LogProducer, events: Sequence[BatchEvent], partition: int | None
) -> BatchFuture:
    """``producer.push_many``: see the module's docstring."""
    pushes = producer._pushes
    if pushes is not None:
        refused = preflight(producer.topic, events)
        if refused is not None:
            return BatchFuture.failed(refused, len(events))
        return pushes.push_many(events, partition)
    indices, metadata, metadata_sizes, error = producer._preparer.prepare_columns(events, partition)
    if error is not None:
        return BatchFuture.failed(batch_error(len(metadata_sizes), error), len(events))
    if isinstance(events, BatchEvents):
        data, sizes = events.data(), events.data_sizes()
    else:
        data, sizes = list(map(_data_of, events)), list(map(_size_of, events))
    run = PreparedRun(metadata, metadata_sizes, data, sizes)
    parts: list[tuple[Completion, int, int]] = []
    with producer._lock:
        for index, start, stop in _runs(indices):
            add_run(producer, index, run.part(start, stop), parts)
    return BatchFuture(parts)


class PreparedRun:
    """Prepared records of consecutive events, column by column."""

    __slots__ = ("_offsets", "data", "data_sizes", "metadata", "metadata_sizes")

    def __init__(
        self,
        metadata: bytes,
        metadata_sizes: list[int],
        data: list[tuple[memoryview, ...]],
        data_sizes: list[int],
    ) -> None:
        self.metadata = metadata  # the serialized metadata of every record, back to back
        self.metadata_sizes = metadata_sizes
        self.data = data
        self.data_sizes = data_sizes
        self._offsets: list[int] | None = None

    def __len__(self) -> int:
        return len(self.metadata_sizes)

    def part(self, start: int, stop: int) -> PreparedRun:
        """Records ``start`` to ``stop - 1`` (the run itself when that is all of it)."""
        if start == 0 and stop == len(self.metadata_sizes):
            return self
        if self._offsets is None:
            self._offsets = [0, *accumulate(self.metadata_sizes)]
        offsets = self._offsets
        return PreparedRun(
            self.metadata[offsets[start] : offsets[stop]],
            self.metadata_sizes[start:stop],
            self.data[start:stop],
            self.data_sizes[start:stop],
        )


def _runs(indices: list[int]) -> Iterator[tuple[int, int, int]]:
    """``(partition index, start, stop)`` of each run of consecutive events of one partition."""
    if not indices:
        return
    first = indices[0]
    if indices.count(first) == len(indices):  # the common case: one partition, one run
        yield first, 0, len(indices)
        return
    start = 0
    for position, index in enumerate(indices):
        if index != first:
            yield first, start, position
            first, start = index, position
    yield first, start, len(indices)


def add_run(
    producer: LogProducer, index: int, run: PreparedRun, parts: list[tuple[Completion, int, int]]
) -> None:
    """Append consecutive records of partition ``index`` to its open batches, sealing them as
    ``LogProducer._add`` seals them one event at a time (lock held)."""
    adaptive = producer._adaptive
    limit = _producer.ADAPTIVE_MAX_EVENTS if adaptive else max(1, producer.batch_size)
    sizes = run.data_sizes
    count = len(run)
    start = 0
    while start < count:
        batch = producer._open[index]
        if batch is None:
            batch = producer._open[index] = _producer._Batch(index, producer)
        columns = batch.columns
        if columns is None:
            columns = batch.columns = PendingColumns(batch.records)
            batch.records = []
        position = len(columns)
        end = min(count, start + limit - position)
        full = position + end - start >= limit
        if adaptive:
            total = batch.data_bytes
            if total + sum(sizes[start:end]) >= _producer.ADAPTIVE_MAX_BYTES:
                # Up to the byte cap, as _add checks it after each event.
                for stop in range(start, end):
                    total += sizes[stop]
                    if total >= _producer.ADAPTIVE_MAX_BYTES:
                        end, full = stop + 1, True
                        break
            else:
                total += sum(sizes[start:end])
            batch.data_bytes = total
        part = run.part(start, end)
        columns.extend(part.metadata, part.metadata_sizes, part.data, part.data_sizes)
        parts.append((batch.completion, position, end - start))
        start = end
        if full or (adaptive and producer._backend_idle()):
            producer._seal(index)
