"""The batch path of the generic producer of log-level backends (``push_many``).

With a 0-thread pool the calling thread prepares every event first (validator, partition
selector, serializer: the producer's own preparation, as ``push`` runs it); an event refused
then fails the whole call and nothing is added. Otherwise all the records join their partitions'
open batches under one acquisition of the producer's lock, in list order, sealed at the batch
size as ``push`` seals them. With a threaded pool, ``push_many`` checks the events first
(:func:`~diaspora_stream.backend.batching.preflight`), then pushes them one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ..backend.batching import preflight, push_each
from ..backend.log import AppendRecord
from ..batches import BatchEvent, BatchFuture, batch_error
from ..futures import Completion
from . import producer as _producer  # partly initialized here: read at call time

if TYPE_CHECKING:
    from .producer import LogProducer

__all__ = ["push_batch"]


def push_batch(
    producer: LogProducer, events: Sequence[BatchEvent], partition: int | None
) -> BatchFuture:
    """``producer.push_many``: see the module's docstring."""
    if not producer._inline:
        refused = preflight(producer.topic, events)
        if refused is not None:
            return BatchFuture.failed(refused, len(events))
        return push_each(producer, events, partition)
    prepared = _prepare_all(producer, events, partition)
    if isinstance(prepared, BaseException):
        return BatchFuture.failed(prepared, len(events))
    parts: list[tuple[Completion, int, int]] = []
    with producer._lock:
        for index, records in _runs(prepared):
            _add_run(producer, index, records, parts)
    return BatchFuture(parts)


def _prepare_all(
    producer: LogProducer, events: Sequence[BatchEvent], partition: int | None
) -> list[tuple[int, AppendRecord]] | BaseException:
    """Each event's partition and record, or the first refusal (named by its index)."""
    prepared, error = producer._preparer.prepare_many(events, partition)
    if error is not None:
        return batch_error(len(prepared), error)
    return [
        (index, AppendRecord(blob, data, size))
        for (index, blob), (_, data, size) in zip(prepared, events, strict=True)
    ]


def _runs(
    prepared: list[tuple[int, AppendRecord]],
) -> Iterator[tuple[int, list[AppendRecord]]]:
    """The prepared records grouped in runs of consecutive events of one partition."""
    current = -1
    run: list[AppendRecord] = []
    for index, record in prepared:
        if index != current:
            if run:
                yield current, run
            current, run = index, []
        run.append(record)
    if run:
        yield current, run


def _add_run(
    producer: LogProducer,
    index: int,
    records: list[AppendRecord],
    parts: list[tuple[Completion, int, int]],
) -> None:
    """Append consecutive records of partition ``index`` to its open batches, sealing them as
    ``LogProducer._add`` seals them one event at a time (lock held)."""
    adaptive = producer._adaptive
    limit = _producer.ADAPTIVE_MAX_EVENTS if adaptive else max(1, producer.batch_size)
    start = 0
    while start < len(records):
        batch = producer._open[index]
        if batch is None:
            batch = producer._open[index] = _producer._Batch(index, producer)
        held = batch.records
        position = len(held)
        end = min(len(records), start + limit - position)
        full = position + end - start >= limit
        if adaptive:
            # Up to the byte cap, as _add checks it after each event.
            total = batch.data_bytes
            for stop in range(start, end):
                total += records[stop].data_size
                if total >= _producer.ADAPTIVE_MAX_BYTES:
                    end, full = stop + 1, True
                    break
            batch.data_bytes = total
        held.extend(records[start:end])
        parts.append((batch.completion, position, end - start))
        start = end
        if full or (adaptive and producer._backend_idle()):
            producer._seal(index)
