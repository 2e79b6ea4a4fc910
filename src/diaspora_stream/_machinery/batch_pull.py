"""The batch path of the generic consumer of log-level backends (``pull_many``).

Events are claimed exactly as ``pull`` claims them (round robin over the targeted partitions,
end-of-stream sentinels, records read ahead), several under one acquisition of the consumer's
lock and without a future per event; when fewer than asked are available, the consumer polls
the backend as ``pull`` does until the deadline.

A consumer of one partition with the built-in serializer and the default data selection (no
selector, the default allocator) makes its events a run at a time: the records it buffered,
then runs read with :meth:`~diaspora_stream.backend.log.LogTopic.read_columns` when the backend
has it, their metadata deserialized together. A run stops before a record that fails, which
``_claim`` then takes on its own, raising as ``pull`` raises.
"""

from __future__ import annotations

import time
from itertools import islice, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ..backend.batching import PullResult, collector_paused
from ..backend.selection import EMPTY_VIEW, select_event_data
from ..components.serializers import DefaultSerializer, _LengthPrefixedJsonSerializer
from ..event import FULL_DATA_ALLOCATOR, Event, make_events

if TYPE_CHECKING:
    from ..backend.log import StoredRecord
    from .consumer import LogConsumer

__all__ = ["claim_many"]

_BUILTIN_DESERIALIZE = DefaultSerializer.deserialize
_NO_DATA = (EMPTY_VIEW,)
_metadata_of = attrgetter("metadata")
_data_size_of = attrgetter("data_size")
_event_id_of = attrgetter("event_id")

_FIRST_POLL_INTERVAL = 0.0005
_MAX_POLL_INTERVAL = 0.02


def claim_many(consumer: LogConsumer, max_events: int, deadline: float | None) -> PullResult:
    """``consumer.pull_many``: see the module's docstring."""
    events: list[Any] = []
    append = events.append
    claim = consumer._claim
    bulk = _bulk_deserializer(consumer)
    if consumer._pool is not None:
        consumer._pool.fit_batches(max_events)
    interval = _FIRST_POLL_INTERVAL
    while True:
        try:
            # No waiting in here: the collector would only scan the batch's new events.
            with consumer._lock, collector_paused():
                while len(events) < max_events:
                    if bulk is not None and _take_run(consumer, bulk, max_events, events):
                        continue
                    event = claim()
                    if event is None:
                        break
                    append(event)
                    if event.event_id is None:  # a sentinel ends the batch
                        return events, None
        except Exception as error:  # noqa: BLE001 - raised by the public layer in its turn
            return events, error
        if len(events) >= max_events:
            return events, None
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return events, None
        time.sleep(interval if deadline is None else min(interval, deadline - now))
        interval = min(interval * 2, _MAX_POLL_INTERVAL)


def _bulk_deserializer(consumer: LogConsumer) -> _LengthPrefixedJsonSerializer | None:
    """The built-in serializer's ``deserialize_many`` when a consumer's events can be made a
    run at a time: one targeted partition (no round robin), the built-in serializer, whole
    data in the consumer's own buffers; ``None`` otherwise."""
    serializer = consumer.topic.serializer
    if (
        len(consumer._targets) != 1
        or consumer.data_selector is not None
        or consumer.data_allocator is not FULL_DATA_ALLOCATOR
        or type(serializer).deserialize is not _BUILTIN_DESERIALIZE
    ):
        return None
    assert isinstance(serializer, _LengthPrefixedJsonSerializer)
    return serializer


def _take_run(
    consumer: LogConsumer,
    serializer: _LengthPrefixedJsonSerializer,
    max_events: int,
    events: list[Any],
) -> bool:
    """Make events of the records buffered for the consumer's partition, as many as fit, and
    add them to ``events`` (lock held). The run stops before a record whose metadata or data
    fails: ``_claim`` takes that one on its own and raises on its turn. ``False`` when no
    event was made."""
    if consumer._closed:
        return False
    partition = consumer._targets[0]
    buffer = consumer._buffers[partition]
    if not buffer:
        return _read_run(consumer, serializer, partition, max_events, events)
    records = list(islice(buffer, max(0, max_events - len(events))))
    metadata = _readable_metadata(serializer, records)
    data = _whole_data(consumer, partition, records, metadata)
    count = len(data)
    if not count:
        return False
    del records[count:], metadata[count:]
    events.extend(
        map(
            Event,
            metadata,
            data,
            map(_event_id_of, records),
            repeat(consumer._partition_info[partition]),
            repeat(partition),
            repeat(consumer._acknowledge),
        )
    )
    if count == len(buffer):
        buffer.clear()
    else:
        for _ in range(count):
            buffer.popleft()
    for record in records:  # the events own their data now (as _claim does)
        record.data = record.selection = None
    return True


def _readable_metadata(
    serializer: _LengthPrefixedJsonSerializer, records: list[StoredRecord]
) -> list[Any]:
    """The metadata of ``records`` up to the first one the serializer refuses."""
    blobs = list(map(_metadata_of, records))
    try:
        return serializer.deserialize_many(blobs)
    except Exception:  # noqa: BLE001 - met again by _claim on the record's turn
        readable = []
        for blob in blobs:
            try:
                readable.append(serializer.deserialize(blob))
            except Exception:  # noqa: BLE001 - as above
                break
        return readable


def _whole_data(
    consumer: LogConsumer, partition: int, records: list[StoredRecord], metadata: list[Any]
) -> list[Any]:
    """``event.data`` of the first ``len(metadata)`` records (whole data, the default
    allocator), up to the first one whose data cannot be read."""
    sizes = list(map(_data_size_of, records[: len(metadata)]))
    if not any(sizes):
        return list(map(list, repeat(_NO_DATA, len(sizes))))
    data: list[Any] = []
    for item, size, record in zip(metadata, sizes, records, strict=False):
        if not size:
            data.append([EMPTY_VIEW])
            continue
        try:
            data.append(
                select_event_data(
                    item,
                    size,
                    None,
                    FULL_DATA_ALLOCATOR,
                    consumer,
                    partition,
                    record,
                    record.event_id,
                )
            )
        except Exception:  # noqa: BLE001 - met again by _claim on the record's turn
            break
    return data


def _read_run(
    consumer: LogConsumer,
    serializer: _LengthPrefixedJsonSerializer,
    partition: int,
    max_events: int,
    events: list[Any],
) -> bool:
    """Read the next records of ``partition`` as columns (backends with ``read_columns``) and
    make their events, or buffer them when they hold data or metadata the serializer refuses.
    ``False`` when the backend gave nothing: ``_claim`` then reads as ``pull`` does (and
    notices the end of the stream)."""
    if partition in consumer._ended:
        return False
    wanted = min(max_events - len(events), consumer._max_read_size())
    columns = consumer._log.read_columns(partition, consumer._next_id[partition], wanted)
    if not columns:
        return False
    first, count = columns.first_id, len(columns)
    consumer._next_id[partition] = first + count
    metadata = None
    if not any(columns.data_sizes):  # records with data are made one by one from the buffer
        try:
            metadata = serializer.deserialize_packed(columns.metadata, columns.metadata_sizes)
        except Exception:  # noqa: BLE001 - the record path raises it on the record's turn
            metadata = None
    if metadata is None:
        consumer._buffers[partition].extend(columns.records())
        return True
    events.extend(
        make_events(
            metadata,
            first,
            consumer._partition_info[partition],
            partition,
            consumer._acknowledge,
            EMPTY_VIEW,
        )
    )
    return True
