"""The batch path of the generic producer of log-level backends (``push_many``).

With a 0-thread pool the calling thread prepares every event first (validator, partition
selector, serializer: the producer's own preparation, as ``push`` runs it); an event refused
then fails the whole call and nothing is added. Otherwise all the records join their partitions'
open batches under one acquisition of the producer's lock, in list order, sealed at the batch
size as ``push`` seals them. With a threaded pool, ``push_many`` checks the events first
(:func:`~diaspora_stream.backend.batching.preflight`), then pushes them one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..backend.batching import preflight, push_each
from ..backend.log import AppendRecord
from ..batches import BatchEvent, BatchFuture, batch_error
from ..exceptions import Exception as DiasporaException
from ..futures import Completion

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
    prepare = producer._prepare
    prepared: list[tuple[int, AppendRecord]] = []
    append = prepared.append
    for index, (metadata, data, size) in enumerate(events):
        try:
            partition_index, blob = prepare(metadata, data, partition)
        except DiasporaException as error:
            return BatchFuture.failed(batch_error(index, error), len(events))
        append((partition_index, AppendRecord(blob, data, size)))
    parts: list[tuple[Completion, int, int]] = []
    with producer._lock:
        add = producer._add
        last: list[object] = [None, 0, 0]
        for partition_index, record in prepared:
            future = add(partition_index, record, None)
            completion = future._completion
            position = future._position
            if completion is last[0] and position == last[1] + last[2]:  # type: ignore[operator]
                last[2] += 1  # type: ignore[operator]
                continue
            if last[0] is not None:
                parts.append((last[0], last[1], last[2]))  # type: ignore[arg-type]
            last = [completion, position, 1]
        if last[0] is not None:
            parts.append((last[0], last[1], last[2]))  # type: ignore[arg-type]
    return BatchFuture(parts)
