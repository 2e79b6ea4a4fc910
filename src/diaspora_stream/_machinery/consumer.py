"""The generic consumer that the API package runs on top of a log-level backend.

A consumer reads the partitions it targets round-robin (one event from the partition after the
one that gave the previous event, as the C++ reference does), each in id order, starting after
the position its name acknowledged last. Records are read ahead in batches (``batch_size``
records per read; adaptive: growing while a partition has a backlog, up to ``max_num_batches``
batches buffered); data is read per event, only the bytes the data selector asks for, straight
into the memory the data allocator returns.

``pull()`` claims the next available event at once if there is one. Otherwise it returns a
pending future: ``wait(timeout_ms)`` polls the backend until an event arrives (it is then
claimed by that future) or the timeout expires (``None``; the future can be waited on again).
Nothing is claimed by a future nobody waits on, so dropping a timed-out future loses nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..allocators import ByteArrayAllocator
from ..backend.full import ConsumerInterface, DataAllocator, DataSelector
from ..backend.log import LogTopic, StoredRecord
from ..buffers import as_destination
from ..constants import AdaptiveBatchSize
from ..data_descriptor import DataDescriptor
from ..event import FULL_DATA_ALLOCATOR, Event
from ..exceptions import ClosedError
from ..exceptions import Exception as DiasporaException
from ..futures import Completion, FutureEvent, _timeout_seconds
from ..thread_pool import ThreadPool

if TYPE_CHECKING:
    from ..backend.log_adapter import LogTopicHandle

__all__ = ["LogConsumer"]

ADAPTIVE_FIRST_READ = 64
ADAPTIVE_MAX_READ = 4096
#: Most data bytes fetched at once for consumers that read whole events.
READ_AHEAD_BYTES = 4 * 1024 * 1024
#: Most events whose selections are prepared and fetched at once.
SELECT_AHEAD_EVENTS = 256
_EMPTY_VIEW = memoryview(bytearray())
_MAX_POLL_INTERVAL = 0.02


class _PullCompletion(Completion):
    """A pull that found nothing yet: ``wait`` polls the consumer until an event arrives."""

    __slots__ = ("_consumer",)

    def __init__(self, consumer: LogConsumer) -> None:
        super().__init__()
        self._consumer = consumer

    def wait(self, timeout_ms: Any) -> bool:
        if self._done:
            return super().wait(timeout_ms)
        timeout = _timeout_seconds(timeout_ms)
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = 0.0005
        while True:
            try:
                event = self._consumer._claim()
            except Exception as error:  # noqa: BLE001 - raised by wait, like the reference
                self.set_error(error)
                return super().wait(0)
            if event is not None:
                self.set_result(event)
                return True
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return False
            pause = interval if deadline is None else min(interval, deadline - now)
            time.sleep(pause)
            interval = min(interval * 2, _MAX_POLL_INTERVAL)


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
        self._buffers: dict[int, deque[StoredRecord]] = {p: deque() for p in self._targets}
        self._read_size = dict.fromkeys(self._targets, self._first_read_size())
        self._cursor = 0
        self._lock = threading.RLock()
        self._closed = False
        self._acknowledger = self._acknowledge
        # Backends that fetch the selections of a batch at once get them a batch at a time.
        # Only with the library's allocators: a user's allocator is called at pull time, as
        # documented (whole-data reads with the default allocator use _read_ahead already).
        self._batched_selection = (
            (data_allocator is FULL_DATA_ALLOCATOR or data_allocator is ByteArrayAllocator)
            and not (data_selector is None and data_allocator is FULL_DATA_ALLOCATOR)
            and type(log).read_selected_data is not LogTopic.read_selected_data
        )

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
            return FutureEvent(_PullCompletion(self))
        return FutureEvent(Completion.resolved(event))

    def _claim(self) -> Event | None:
        """Take the next available event, round-robin over the targeted partitions."""
        with self._lock:
            if self._closed:
                raise ClosedError(f"Consumer {self.name!r} is closed")
            targets = self._targets
            count = len(targets)
            for step in range(count):
                slot = (self._cursor + step) % count
                partition = targets[slot]
                buffer = self._buffers[partition]
                if not buffer and not self._refill(partition, buffer):
                    continue
                record = buffer[0]
                event = self._make_event(partition, record)
                buffer.popleft()
                self._cursor = (slot + 1) % count
                return event
            return None

    def _refill(self, partition: int, buffer: deque[StoredRecord]) -> bool:
        size = self._read_size[partition]
        records = self._log.read(partition, self._next_id[partition], size)
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
            if record.selection is not None:
                prepared_metadata, prepared_data = record.selection
                return Event(
                    prepared_metadata,
                    prepared_data,
                    record.event_id,
                    self._partition_info[partition],
                    partition,
                    self._acknowledger,
                )
        metadata = self._deserialize(record.metadata)
        data_size = record.data_size
        selector = self.data_selector
        allocator = self.data_allocator
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
            data: Any = []
        elif allocator is FULL_DATA_ALLOCATOR:
            if descriptor is None and data_size:
                if record.data is None:
                    self._read_ahead(partition)
                data = [record.data]
            elif selected_size:
                buffer = bytearray(selected_size)
                self._read(partition, record, descriptor, [memoryview(buffer)])
                data = [memoryview(buffer)]
            else:
                data = [_EMPTY_VIEW]
        else:
            data = allocator(
                metadata, descriptor if descriptor is not None else DataDescriptor("", data_size)
            )
            if selected_size:
                self._read(partition, record, descriptor, as_destination(data))
        return Event(
            metadata,
            data,
            record.event_id,
            self._partition_info[partition],
            partition,
            self._acknowledger,
        )

    def _select_ahead(self, partition: int) -> None:
        """Select and allocate for the next buffered records of ``partition``, then fetch all
        their selections with one :meth:`~LogTopic.read_selected_data` call.

        Stops before a record whose metadata, selector or selection fails: that record is then
        made the ordinary way and raises on its turn.
        """
        chosen: list[tuple[StoredRecord, Any, Any, list[tuple[int, int]], list[memoryview]]] = []
        total = 0
        selector = self.data_selector
        allocator = self.data_allocator
        for record in self._buffers[partition]:
            if record.selection is not None:
                break
            size = record.data_size
            try:
                metadata = self._deserialize(record.metadata)
                if selector is None:
                    descriptor = None
                    segments = [(0, size)] if size else []
                    selected = size
                else:
                    descriptor = selector(metadata, DataDescriptor("", size))
                    if descriptor is None:
                        descriptor = DataDescriptor()
                    elif not isinstance(descriptor, DataDescriptor):
                        break
                    selected = descriptor.size
                    segments = []
                    if selected:
                        segments = [piece for piece in descriptor.flatten() if piece[1]]
                        if any(offset + length > size for offset, length in segments):
                            break
                if chosen and (
                    total + selected > READ_AHEAD_BYTES or len(chosen) >= SELECT_AHEAD_EVENTS
                ):
                    break
                if allocator is FULL_DATA_ALLOCATOR:
                    buffer = memoryview(bytearray(selected))
                    chunks: Any = [buffer if selected else _EMPTY_VIEW]
                    destination = [buffer]
                else:  # ByteArrayAllocator, inlined
                    array = bytearray(selected)
                    chunks = [array]
                    destination = [memoryview(array)]
            except Exception:  # noqa: BLE001 - raised again when the record's turn comes
                break
            chosen.append((record, metadata, chunks, segments, destination))
            total += selected
        requests = [(record, segments, dest) for record, _, _, segments, dest in chosen if segments]
        if requests:
            self._log.read_selected_data(partition, requests)
        for record, metadata, chunks, _, _ in chosen:
            record.selection = (metadata, chunks)

    def _read_ahead(self, partition: int) -> None:
        """Fetch the whole data of the next buffered records of ``partition`` in one call."""
        chosen: list[StoredRecord] = []
        total = 0
        for record in self._buffers[partition]:
            if record.data is not None or (chosen and total + record.data_size > READ_AHEAD_BYTES):
                break
            chosen.append(record)
            total += record.data_size
        views = self._log.read_full_data(partition, chosen)
        for record, view in zip(chosen, views, strict=True):
            record.data = view

    def _read(
        self,
        partition: int,
        record: StoredRecord,
        descriptor: DataDescriptor | None,
        destination: list[memoryview],
    ) -> None:
        if descriptor is None:
            segments = [(0, record.data_size)]
            needed = record.data_size
        else:
            segments = [piece for piece in descriptor.flatten() if piece[1]]
            needed = descriptor.size
            for offset, size in segments:
                if offset + size > record.data_size:
                    raise DiasporaException(
                        f"Requested segment [{offset}, {offset + size}) exceeds data size "
                        f"{record.data_size} of event {record.event_id} (partition {partition})"
                    )
        capacity = sum(view.nbytes for view in destination)
        if capacity < needed:
            raise DiasporaException(
                f"DataView has insufficient capacity for descriptor segments: the allocator "
                f"returned {capacity} bytes for a selection of {needed} bytes"
            )
        self._log.read_data(partition, record, segments, destination)

    # -------------------------------------------------------- acknowledge

    def _acknowledge(self, partition: int, event_id: int) -> None:
        if self._closed:
            raise ClosedError(f"Consumer {self.name!r} is closed; cannot acknowledge")
        self._log.store_acknowledgement(self.name, partition, event_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._buffers.clear()
