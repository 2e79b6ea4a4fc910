"""The generic consumer that the API package runs on top of a log-level backend.

A consumer reads the partitions it targets round-robin (one event from the partition after the
one that gave the previous event, as the C++ reference does), each in id order, starting after
the position its name acknowledged last (through ``LogTopic.read_for_consumer``, which tells the
backend the consumer's ``batch_size`` and ``max_num_batches``). Records are read ahead in batches
(``batch_size`` records per read; adaptive: growing while a partition has a backlog, up to
``max_num_batches`` batches buffered); data is read per event, only the bytes the data selector
asks for, straight into the memory the data allocator returns.

``pull()`` claims the next available event at once if there is one. Otherwise it returns a
pending future: ``wait(timeout_ms)`` polls the backend until an event arrives (it is then
claimed by that future) or the timeout expires (``None``; the future can be waited on again).
Nothing is claimed by a future nobody waits on, so dropping a timed-out future loses nothing.

End of stream: when a targeted partition has no record left and was marked complete (checked
before the read that came back empty, so no record appended before the mark is missed), the
consumer delivers one sentinel event for it (``event_id is None``); once every targeted partition
gave its sentinel, each pull gets a sentinel at once. ``seek`` moves the read position of a
partition and drops what was read ahead of it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..allocators import ByteArrayAllocator, FullDataSelector
from ..backend.batching import PullResult
from ..backend.full import ConsumerInterface, DataAllocator, DataSelector
from ..backend.log import LogTopic, ReadSettings, StoredRecord
from ..backend.pulls import PendingPull
from ..backend.selection import EMPTY_VIEW, SelectionPlan, plan_selection, select_event_data
from ..constants import AdaptiveBatchSize, NoMoreEvents
from ..event import FULL_DATA_ALLOCATOR, Event
from ..exceptions import ClosedError, UnsupportedError
from ..exceptions import Exception as DiasporaException
from ..futures import Completion, FutureEvent
from ..logs import get_logger
from ..positions import PartitionPositions, Position
from ..thread_pool import ThreadPool
from .batch_pull import claim_many
from .buffer_pool import BufferPool

if TYPE_CHECKING:
    from ..backend.log_adapter import LogTopicHandle

__all__ = ["LogConsumer"]

_LOGGER = get_logger("consumer")

ADAPTIVE_FIRST_READ = 64
ADAPTIVE_MAX_READ = 4096
#: Most events whose selections are prepared and fetched at once.
SELECT_AHEAD_EVENTS = 256
#: Bytes of event buffers a consumer keeps for reuse, in read-ahead runs (see BufferPool).
POOL_RUNS = 4
_MAX_POLL_INTERVAL = 0.02


class _UnreadableRecord(DiasporaException):
    """A stored record whose metadata the topic's serializer cannot read."""


class _FailedSelection:
    """``record.selection`` of a record whose selection failed while planned ahead: the error,
    raised on the record's turn."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


class LogConsumer(ConsumerInterface):
    """Consumer over a :class:`~diaspora_stream.backend.log.LogTopic`."""

    def __init__(
        self,
        topic: LogTopicHandle,
        name: str,
        batch_size: int,
        max_num_batches: int,
        thread_pool: ThreadPool,
        data_selector: DataSelector | None,
        data_allocator: DataAllocator | None,
        targets: Sequence[int] | None,
        options: dict[str, Any],
    ) -> None:
        self.topic = topic
        self.name = name
        self.batch_size = batch_size
        self.max_num_batches = max_num_batches
        self.thread_pool = thread_pool
        self.data_selector = data_selector
        self.data_allocator = data_allocator
        self.options = options
        log = topic.log_topic
        self._log = log
        self._deserialize = topic.serializer.deserialize
        self._targets = list(targets) if targets else list(range(log.num_partitions))
        self._partition_info = [log.partition_info(p) for p in range(log.num_partitions)]
        acknowledged = log.load_acknowledgements(name)
        self._next_id = {p: acknowledged.get(p, -1) + 1 for p in self._targets}
        resumed = {p: start for p, start in self._next_id.items() if start}
        if resumed:
            _LOGGER.info(
                "Consumer %r of topic %r resumes after its acknowledged events, at event %s",
                name,
                log.name,
                ", ".join(f"{start} of partition {p}" for p, start in sorted(resumed.items())),
            )
        self._buffers: dict[int, deque[StoredRecord]] = {p: deque() for p in self._targets}
        self._read_size = dict.fromkeys(self._targets, self._first_read_size())
        self._settings = ReadSettings(batch_size, max_num_batches)
        self._cursor = 0
        self._lock = threading.RLock()
        self._closed = False
        self._watch_completion = topic.capabilities.end_of_stream
        #: Targeted partitions whose end-of-stream sentinel was delivered.
        self._ended: set[int] = set()
        # Backends that fetch the selections of a batch at once get them a batch at a time.
        # Only with the library's allocators: a user's allocator is called at pull time, as
        # documented (whole-data reads with the default allocator use _read_ahead already),
        # and so is a user's selector when the backend asks for it (selects_ahead).
        reads_selections = type(log).read_selected_data is not LogTopic.read_selected_data
        self._batched_selection = (
            (data_allocator is FULL_DATA_ALLOCATOR or data_allocator is ByteArrayAllocator)
            and not (data_selector is None and data_allocator is FULL_DATA_ALLOCATOR)
            and reads_selections
            and (log.selects_ahead or data_selector is None or data_selector is FullDataSelector)
        )
        #: Most data bytes fetched at once (whole data, or selections planned ahead).
        self._read_ahead_bytes = log.read_ahead_bytes
        # Such backends read into the consumer's buffers: those of dropped events are reused.
        self._pool = BufferPool(POOL_RUNS * self._read_ahead_bytes) if reads_selections else None
        self._new_buffer = bytearray if self._pool is None else self._pool.take
        self._whole_data = data_selector is None and data_allocator is FULL_DATA_ALLOCATOR
        self._selects_whole = data_selector is None or data_selector is FullDataSelector

    def _first_read_size(self) -> int:
        if self.batch_size == AdaptiveBatchSize or self.batch_size <= 0:
            return ADAPTIVE_FIRST_READ
        return self.batch_size

    def _max_read_size(self) -> int:
        if self.batch_size == AdaptiveBatchSize or self.batch_size <= 0:
            return ADAPTIVE_MAX_READ
        return self.batch_size * max(1, min(self.max_num_batches, 64))

    # ----------------------------------------------------------------- pull

    def pull(self) -> FutureEvent:
        if self._closed:
            raise ClosedError(f"Consumer {self.name!r} is closed; create a new consumer to pull")
        try:
            event = self._claim()
        except Exception as error:  # noqa: BLE001 - raised by wait
            return FutureEvent(Completion.failed(error))
        if event is None:
            return FutureEvent(PendingPull(self._claim_until))
        return FutureEvent(Completion.resolved(event))

    def pull_many(self, max_events: int, deadline: float | None) -> PullResult:
        if self._closed:
            raise ClosedError(f"Consumer {self.name!r} is closed; create a new consumer to pull")
        return claim_many(self, max_events, deadline)

    def _claim_until(self, deadline: float | None) -> Event | None:
        """Claim the next event, polling the backend with a growing pause until ``deadline``."""
        interval = 0.0005
        while True:
            event = self._claim()
            if event is not None:
                return event
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return None
            time.sleep(interval if deadline is None else min(interval, deadline - now))
            interval = min(interval * 2, _MAX_POLL_INTERVAL)

    def _claim(self) -> Event | None:
        """Take the next available event, round-robin over the targeted partitions."""
        with self._lock:
            if self._closed:
                raise ClosedError(f"Consumer {self.name!r} is closed")
            targets = self._targets
            count = len(targets)
            if len(self._ended) == count:
                return self._sentinel(targets[0])
            for step in range(count):
                slot = (self._cursor + step) % count
                partition = targets[slot]
                buffer = self._buffers[partition]
                if not buffer:
                    if partition in self._ended:
                        continue
                    complete = self._watch_completion and self._log.is_complete(partition)
                    if not self._refill(partition, buffer):
                        if not complete:
                            continue
                        self._ended.add(partition)
                        self._cursor = (slot + 1) % count
                        return self._sentinel(partition)
                record = buffer[0]
                try:
                    event = self._make_event(partition, record)
                except _UnreadableRecord:
                    # Stored metadata never becomes readable: the record costs itself only.
                    buffer.popleft()
                    self._cursor = (slot + 1) % count
                    raise
                buffer.popleft()
                # The event owns its data now. The backend may still hold the record (a pushed
                # batch not handed out whole): it must not keep the data alive with it.
                record.data = record.selection = None
                self._cursor = (slot + 1) % count
                return event
            return None

    def _sentinel(self, partition: int) -> Event:
        """The end-of-stream event of ``partition`` (the reference's ``NoMoreEvents``)."""
        return Event(None, [], NoMoreEvents, self._partition_info[partition], partition)

    def seek(self, positions: PartitionPositions) -> None:
        if not self.topic.capabilities.replay:
            raise UnsupportedError(
                "This backend cannot move consumers: it does not declare the replay capability"
            )
        with self._lock:
            if self._closed:
                raise ClosedError(f"Consumer {self.name!r} is closed")
            acknowledged: dict[int, int] | None = None
            next_ids: dict[int, int] = {}
            for partition, target in positions.items():
                count = self._log.event_count(partition)
                if target is Position.BEGINNING:
                    next_ids[partition] = 0
                elif target is Position.END:
                    next_ids[partition] = count
                elif target is Position.ACKNOWLEDGED:
                    if acknowledged is None:
                        acknowledged = self._log.load_acknowledgements(self.name)
                    next_ids[partition] = acknowledged.get(partition, -1) + 1
                else:
                    assert isinstance(target, int)
                    if target > count:
                        raise DiasporaException(
                            f"Cannot seek partition {partition} of topic {self._log.name!r} to "
                            f"event {target}: it holds {count} event(s); give an id up to "
                            f"{count} (Position.END)"
                        )
                    next_ids[partition] = target
            for partition, next_id in next_ids.items():
                self._next_id[partition] = next_id
                self._buffers[partition].clear()
                self._read_size[partition] = self._first_read_size()
                self._ended.discard(partition)

    def _refill(self, partition: int, buffer: deque[StoredRecord]) -> bool:
        size = self._read_size[partition]
        records = self._log.read_for_consumer(
            partition, self._next_id[partition], size, self._settings
        )
        if not records:
            return False
        buffer.extend(records)
        self._next_id[partition] = records[-1].event_id + 1
        if len(records) >= size:  # a backlog: read more at once next time
            self._read_size[partition] = min(size * 2, self._max_read_size())
        return True

    def _make_event(self, partition: int, record: StoredRecord) -> Event:
        if self._batched_selection:
            if record.selection is None:
                self._select_ahead(partition)
            if type(record.selection) is _FailedSelection:
                error, record.selection = record.selection.error, None
                raise error
            if record.selection is not None:
                metadata, data = record.selection
                return self._event(partition, record, metadata, data)
        metadata = self._deserialize_stored(partition, record)
        if not self._whole_data:
            data = select_event_data(
                metadata,
                record.data_size,
                self.data_selector,
                self.data_allocator,
                self,
                partition,
                record,
                record.event_id,
            )
        elif not record.data_size:  # what select_event_data gives, without planning
            data = [EMPTY_VIEW]
        else:
            data = [record.data if record.data is not None else self.read_whole(partition, record)]
        return self._event(partition, record, metadata, data)

    def _event(self, partition: int, record: StoredRecord, metadata: Any, data: Any) -> Event:
        """The event of ``record``, with its metadata and data."""
        return Event(
            metadata,
            data,
            record.event_id,
            self._partition_info[partition],
            partition,
            self._acknowledge,
        )

    def _deserialize_stored(self, partition: int, record: StoredRecord) -> Any:
        """The record's metadata; a plain library error says where the record is stored."""
        try:
            return self._deserialize(record.metadata)
        except DiasporaException as error:
            if type(error) is not DiasporaException:
                raise
            where = self._log.locate(partition, record)
            raise _UnreadableRecord(
                f"{error} (stored at {where}); the consumer moves past this record"
            ) from None

    def _select_ahead(self, partition: int) -> None:
        """Plan the selections of the next buffered records of ``partition``, then fetch them
        all with one :meth:`~LogTopic.read_selected_data` call.

        The first record is the one being made: its errors are raised now, as they would be
        on its own. The batch stops before a later record whose metadata, selector or
        selection fails: that record raises on its turn (a selection error is kept for then,
        so the selector is called once per attempt, as for a record made on its own).
        """
        chosen: list[tuple[StoredRecord, Any, SelectionPlan]] = []
        total = 0
        for record in self._buffers[partition]:
            if record.selection is not None or len(chosen) >= SELECT_AHEAD_EVENTS:
                break
            if not chosen:
                metadata = self._deserialize_stored(partition, record)
                plan = self._plan(partition, record, metadata, None)
            else:
                if self._selects_whole and total + record.data_size > self._read_ahead_bytes:
                    break  # no room: known without deserializing
                try:
                    metadata = self._deserialize(record.metadata)
                except Exception:  # noqa: BLE001 - raised when the record's turn comes
                    break
                try:
                    plan = self._plan(partition, record, metadata, self._read_ahead_bytes - total)
                except Exception as error:  # noqa: BLE001 - raised on the record's turn
                    record.selection = _FailedSelection(error)
                    break
            if plan is None or plan.whole:  # no room left, or read by read_whole
                break
            chosen.append((record, metadata, plan))
            total += sum(size for _, size in plan.segments)
        requests = [(r, plan.segments, plan.destination) for r, _, plan in chosen if plan.segments]
        if requests:
            self._log.read_selected_data(partition, requests)
        for record, metadata, plan in chosen:
            record.selection = (metadata, plan.data)

    def _plan(
        self, partition: int, record: StoredRecord, metadata: Any, room: int | None
    ) -> SelectionPlan | None:
        """:func:`plan_selection` of ``record`` for this consumer (buffers from its pool)."""
        return plan_selection(
            metadata,
            record.data_size,
            self.data_selector,
            self.data_allocator,
            partition,
            record.event_id,
            room=room,
            new_buffer=self._new_buffer,
        )

    # ------------------------------------------------- DataSource of the events

    def read_selected(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Read selected bytes of a buffered record from the backend."""
        self._log.read_data(partition, record, segments, destination)

    def read_whole(self, partition: int, record: StoredRecord) -> memoryview:
        """The whole data of a buffered record, read ahead with the next ones."""
        if record.data is None:
            self._read_ahead(partition, record)
        data = record.data
        if data is None:  # never: _read_ahead always reads ``record``
            raise RuntimeError("the consumer's read-ahead did not read the record asked for")
        return data

    def _read_ahead(self, partition: int, first: StoredRecord) -> None:
        """Fetch the whole data of ``first`` and of the buffered records of ``partition``
        after it (up to the read-ahead bound, and the first already read) in one call.

        ``first`` is not always the oldest buffered record: a batch pull reads the data of
        a run of records before it takes them out of the buffer.
        """
        chosen = [first]
        total = first.data_size
        records = iter(self._buffers[partition])
        for record in records:
            if record is first:
                break
        for record in records:
            if record.data is not None or total + record.data_size > self._read_ahead_bytes:
                break
            chosen.append(record)
            total += record.data_size
        if self._pool is None:
            views = self._log.read_full_data(partition, chosen)
        else:
            views = self._read_into_buffers(partition, chosen)
        for record, view in zip(chosen, views, strict=True):
            record.data = view

    def _read_into_buffers(self, partition: int, records: list[StoredRecord]) -> list[memoryview]:
        """The whole data of ``records``, each in a buffer of its own from the pool, fetched
        with one :meth:`~LogTopic.read_selected_data` call."""
        assert self._pool is not None
        take = self._pool.take
        views = [memoryview(take(record.data_size)) for record in records]
        requests = [
            (record, ((0, record.data_size),), (view,))
            for record, view in zip(records, views, strict=True)
            if record.data_size
        ]
        if requests:
            self._log.read_selected_data(partition, requests)
        return views

    # -------------------------------------------------------- acknowledge

    def _acknowledge(self, partition: int, event_id: int) -> None:
        if self._closed:
            raise ClosedError(f"Consumer {self.name!r} is closed; cannot acknowledge")
        self._log.store_acknowledgement(self.name, partition, event_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._buffers.clear()
            if self._pool is not None:
                self._pool.clear()
