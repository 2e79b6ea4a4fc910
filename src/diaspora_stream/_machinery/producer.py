"""The generic producer that the API package runs on top of a log-level backend.

Pipeline of one ``push``: validate → select the partition → serialize (on the producer's thread
pool, or inline with a 0-thread pool) → append to the partition's open batch → the thread that
sealed a batch (fixed batch size) or a sender thread (adaptive) appends sealed batches to the
backend, in order, and completes their futures with the real ids. With a threaded pool, ``push``
only queues the event and a pool task prepares the queued events in chunks
(:mod:`.pool_push`).

Batching:

* a fixed ``batch_size`` N seals a partition's batch when it holds N events, on ``flush()``, on
  ``close()``, or when someone waits on the future of one of its events; a sealed batch is
  stored at once by the thread that sealed it (the pushing thread with a 0-thread pool, a pool
  thread otherwise);
* ``AdaptiveBatchSize`` seals the open batches whenever the sender is idle, so an event is sent
  at once when the backend keeps up and batches grow while it is busy (up to a cap);
* ``max_num_batches`` bounds the sealed batches not yet stored: ``push`` blocks beyond it.

A backend whose ``LogTopic.appends_in_flight`` is above 1 gets up to that many batches in flight
(``start_append``: the sender starts the next batch without waiting for the previous one's
answer; a completer thread completes their futures in order). A batch then counts against
``max_num_batches`` until it was handed to the backend.

With ``Ordering.Strict`` events reach the batches in ``push`` order even when a multi-threaded
pool prepares them in parallel (a reorder buffer keyed by push sequence numbers).
"""

from __future__ import annotations

import atexit
import itertools
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from ..backend.full import ProducerInterface
from ..backend.log import AppendRecord, LogTopic
from ..backend.losses import FlushTally, LossLedger
from ..backend.preparation import EventPreparer, component_error
from ..batches import BatchEvent, BatchFuture
from ..constants import AdaptiveBatchSize, Ordering
from ..exceptions import ClosedError
from ..exceptions import Exception as DiasporaException
from ..futures import Completion, FutureFlushed, FutureUint
from ..thread_pool import ThreadPool
from .batch_push import push_batch
from .columns import PendingColumns
from .pool_push import PoolPushes

if TYPE_CHECKING:
    from ..backend.log_adapter import LogTopicHandle

__all__ = ["LogProducer"]

#: Largest adaptive batch, in events and in data bytes, before it is sealed regardless.
ADAPTIVE_MAX_EVENTS = 8192
ADAPTIVE_MAX_BYTES = 64 * 1024 * 1024
#: With pipelined appends, adaptive batches are sealed while fewer than this are in flight.
ADAPTIVE_IN_FLIGHT = 2
#: Fewest pushes that may wait for a threaded pool before ``push`` blocks (at least as many as
#: ``max_num_batches`` batches hold).
MIN_QUEUED_PUSHES = 8192

_live_producers: weakref.WeakSet[LogProducer] = weakref.WeakSet()
#: Closed producers whose sender thread is still storing batches.
_draining: set[LogProducer] = set()


class _Batch:
    __slots__ = (
        "columns",
        "completion",
        "data_bytes",
        "listeners",
        "partition",
        "producer",
        "records",
    )

    def __init__(self, partition: int, producer: LogProducer) -> None:
        self.partition = partition
        self.producer = producer
        self.records: list[AppendRecord] = []
        # Once push_many added to the batch, every record is kept there instead of in records.
        self.columns: PendingColumns | None = None
        # Waiting on the future of an event of an unsent batch sends that batch.
        self.completion = Completion(self._send_now)
        self.listeners: list[tuple[Completion, int]] = []
        self.data_bytes = 0

    def _send_now(self) -> None:
        self.producer._seal_if_open(self)

    def size(self) -> int:
        """How many records the batch holds."""
        return len(self.records) if self.columns is None else len(self.columns)

    def all_records(self) -> list[AppendRecord]:
        """The batch's records as :class:`AppendRecord` objects."""
        return self.records if self.columns is None else self.columns.records()

    def finish(self, first_id: int) -> None:
        self.records = []
        self.columns = None
        self.completion.set_result(first_id)
        for completion, position in self.listeners:
            completion.set_result(first_id + position)

    def fail(self, error: BaseException) -> None:
        self.producer._losses.lost(self.size(), error)
        self.records = []
        self.columns = None
        self.completion.set_error(error)
        for completion, _ in self.listeners:
            completion.set_error(error)


class _FlushMarker:
    __slots__ = ("completion", "tally", "then")

    def __init__(self, tally: FlushTally, then: Callable[[], None] | None = None) -> None:
        self.completion = Completion()
        self.tally = tally  # the events lost before the flush completes
        self.then = then  # run once the flush completed (successfully or not)


class LogProducer(ProducerInterface):
    """Producer over a :class:`~diaspora_stream.backend.log.LogTopic`."""

    def __init__(
        self,
        topic: LogTopicHandle,
        name: str,
        batch_size: int,
        max_num_batches: int,
        ordering: int,
        thread_pool: ThreadPool,
        options: dict[str, Any],
    ) -> None:
        self.topic = topic
        self.name = name
        self.batch_size = batch_size
        self.max_num_batches = max_num_batches
        self._max_unfinished = max(1, max_num_batches)
        self.ordering = Ordering(int(ordering))
        self.thread_pool = thread_pool
        self.options = options
        self._log = topic.log_topic
        self._num_partitions = topic.log_topic.num_partitions
        self._preparer = EventPreparer(topic, self._num_partitions)
        self._prepare = self._preparer.prepare
        self._adaptive = batch_size == AdaptiveBatchSize
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._open: list[_Batch | None] = [None] * self._num_partitions
        self._queue: deque[_Batch | _FlushMarker] = deque()
        self._unfinished_batches = 0  # sealed, not yet stored
        self._sender_busy = False
        self._sender: threading.Thread | None = None
        self._closed = False
        self._close_future: FutureFlushed | None = None
        self._inline = thread_pool.thread_count == 0
        # A fixed batch size stores batches in the thread that seals them, like the reference:
        # no thread hand-off per batch. Adaptive batching needs the sender.
        self._synchronous = not self._adaptive
        self._pushes: PoolPushes | None = None
        if not self._inline:
            per_batch = ADAPTIVE_MAX_EVENTS if self._adaptive else max(1, batch_size)
            limit = max(MIN_QUEUED_PUSHES, per_batch * self._max_unfinished)
            self._pushes = PoolPushes(self, thread_pool, limit)
        self._next_commit = 0  # pushes added to the batches (in push order: the first ones)
        self._waiting_flushes: list[tuple[int, _FlushMarker]] = []
        # Pipelined appends (backends with appends_in_flight > 1): started, not yet completed.
        self._window = max(1, self._log.appends_in_flight)
        # Whether the backend stores column batches itself (else they become AppendRecords).
        self._columnar = type(self._log).append_columns is not LogTopic.append_columns
        # Flush markers queue there too (waiter None): run once the appends before them ended.
        self._in_flight: deque[tuple[_Batch | _FlushMarker, Callable[[], int] | None]] = deque()
        # Batches and flushes stored by the threads that seal them join the window in the
        # order they were sealed: a thread waiting for room must not be overtaken by a later one.
        self._turns = itertools.count()
        self._next_turn = 0
        self._completer: threading.Thread | None = None
        self._losses = LossLedger()
        _live_producers.add(self)

    # ---------------------------------------------------------------- push

    def push(
        self, metadata: Any, data: tuple[memoryview, ...], data_size: int, partition: int | None
    ) -> FutureUint:
        if self._closed:
            raise ClosedError(f"Producer {self.name!r} is closed; create a new producer to push")
        pushes = self._pushes
        if pushes is not None:
            if self._unfinished_batches >= self._max_unfinished:
                self._wait_for_room()
            return pushes.push(metadata, data, data_size, partition)
        try:
            index, blob = self._prepare(metadata, data, partition)
        except DiasporaException as error:
            return FutureUint(Completion.failed(error))
        with self._lock:
            batch, position = self._add_record(index, AppendRecord(blob, data, data_size))
        return FutureUint(batch.completion, position)

    def push_many(self, events: Sequence[BatchEvent], partition: int | None) -> BatchFuture:
        if self._closed:
            raise ClosedError(f"Producer {self.name!r} is closed; create a new producer to push")
        return push_batch(self, events, partition)

    def _wait_for_room(self) -> None:
        """Back-pressure in the pushing thread: block while ``max_num_batches`` sealed batches
        are not stored yet (adaptive batching, whose sender stores them)."""
        with self._cond:
            while self._unfinished_batches >= self._max_unfinished and not self._closed:
                self._cond.wait()

    def _add_record(
        self, index: int, record: AppendRecord, listener: Completion | None = None
    ) -> tuple[_Batch, int]:
        """Append a prepared event to its partition's open batch (lock held); the batch and
        the event's position in it. ``listener`` completes with the event's own id."""
        batch = self._open[index]
        if batch is None:
            batch = self._open[index] = _Batch(index, self)
        columns = batch.columns
        if columns is None:
            records = batch.records
            position = len(records)
            records.append(record)
        else:
            position = len(columns)
            columns.add(record)
        if listener is not None:
            batch.listeners.append((listener, position))
        if self._adaptive:
            batch.data_bytes += record.data_size
            if (
                self._backend_idle()
                or position + 1 >= ADAPTIVE_MAX_EVENTS
                or batch.data_bytes >= ADAPTIVE_MAX_BYTES
            ):
                self._seal(index)
        elif position + 1 >= self.batch_size:
            self._seal(index)
        return batch, position

    # ------------------------------------------------------------- sealing

    def _seal(self, index: int) -> None:
        """Move partition ``index``'s open batch to the send queue (lock held; may block)."""
        batch = self._open[index]
        if batch is None or (not batch.records and batch.columns is None):
            return
        if self._synchronous:
            self._open[index] = None
            self._store(batch, locked=True, turn=next(self._turns))
            return
        if threading.current_thread() is not self._sender:
            while self._unfinished_batches >= self._max_unfinished and not self._closed:
                self._cond.wait()
            if self._open[index] is not batch:  # sealed by another thread meanwhile
                return
        self._open[index] = None
        self._unfinished_batches += 1
        self._queue.append(batch)
        self._ensure_sender()
        self._cond.notify_all()

    def _backend_idle(self) -> bool:
        """Whether an adaptive batch should be sent now (lock held): the sender is idle and,
        with pipelined appends, fewer than ``ADAPTIVE_IN_FLIGHT`` are in flight (so batches
        grow while the backend is busy)."""
        return not self._sender_busy and len(self._in_flight) < ADAPTIVE_IN_FLIGHT

    def _seal_all(self) -> None:
        for index in range(self._num_partitions):
            self._seal(index)

    def _seal_if_open(self, batch: _Batch) -> None:
        with self._cond:
            if self._open[batch.partition] is batch:
                self._seal(batch.partition)

    def _release_flushes(self) -> None:
        """Queue the flush markers whose pushes are all committed (lock held)."""
        while self._waiting_flushes and self._waiting_flushes[0][0] <= self._next_commit:
            _, marker = self._waiting_flushes.pop(0)
            self._seal_all()
            if self._synchronous:
                self._sync(marker, locked=True, turn=next(self._turns))
                continue
            self._queue.append(marker)
            self._ensure_sender()
            self._cond.notify_all()

    # --------------------------------------------------------------- sender

    def _ensure_sender(self) -> None:
        if self._sender is None:
            self._sender = threading.Thread(
                target=self._send_loop,
                name=f"diaspora-producer-{self.name or id(self)}",
                daemon=True,
            )
            self._sender.start()

    def _send_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    if self._closed:
                        self._sender = None
                        return
                    self._cond.wait()
                item = self._queue.popleft()
                self._sender_busy = True
            if isinstance(item, _Batch):
                self._store(item)
            else:
                self._sync(item)
            with self._cond:
                if isinstance(item, _Batch):
                    self._unfinished_batches -= 1
                self._sender_busy = False
                if self._adaptive and not self._queue and self._backend_idle():
                    self._seal_all()
                self._cond.notify_all()

    def _store(self, batch: _Batch, locked: bool = False, turn: int | None = None) -> None:
        """Append a sealed batch to the backend and complete its futures (``locked``: the
        caller holds the producer's lock; ``turn``: its place in the sealing order)."""
        if self._window > 1:
            self._start(batch, locked, turn)
            return
        try:
            first_id = self._append(batch)
        except Exception as error:  # noqa: BLE001 - reported through the futures
            batch.fail(component_error("Storing the batch", error))
        else:
            batch.finish(first_id)

    def _append(self, batch: _Batch) -> int:
        """Append a batch's records to the backend; its first id."""
        columns = batch.columns
        if columns is None:
            return self._log.append(batch.partition, batch.records)
        if self._columnar:
            return self._log.append_columns(batch.partition, columns.columns())
        return self._log.append(batch.partition, columns.records())

    def _guard(self, locked: bool) -> AbstractContextManager[Any]:
        return nullcontext() if locked else self._cond

    def _start(self, batch: _Batch, locked: bool, turn: int | None) -> None:
        """Start a pipelined append once fewer than the window are in flight (and, with a
        ``turn``, once every batch or flush sealed before it joined the window)."""
        with self._guard(locked):
            while len(self._in_flight) >= self._window or not self._my_turn(turn):
                self._cond.wait()
        try:
            waiter = self._log.start_append(batch.partition, batch.all_records())
        except Exception as error:  # noqa: BLE001 - reported through the futures
            failure = error

            def waiter() -> int:
                raise failure

        self._enqueue(batch, waiter, locked, turn)

    def _my_turn(self, turn: int | None) -> bool:
        return turn is None or turn == self._next_turn

    def _enqueue(
        self,
        item: _Batch | _FlushMarker,
        waiter: Callable[[], int] | None,
        locked: bool,
        turn: int | None = None,
    ) -> None:
        with self._guard(locked):
            while not self._my_turn(turn):
                self._cond.wait()
            if turn is not None:
                self._next_turn += 1
            self._in_flight.append((item, waiter))
            if self._completer is None:
                self._completer = threading.Thread(
                    target=self._complete_loop,
                    name=f"diaspora-completer-{self.name or id(self)}",
                    daemon=True,
                )
                self._completer.start()
            self._cond.notify_all()

    def _complete_loop(self) -> None:
        """Wait for the started appends in order and complete their futures."""
        while True:
            with self._cond:
                while not self._in_flight:
                    if self._closed:
                        self._completer = None
                        return
                    self._cond.wait()
                item, waiter = self._in_flight[0]
            if waiter is None:
                assert isinstance(item, _FlushMarker)
                self._sync_partitions(item)
            else:
                assert isinstance(item, _Batch)
                try:
                    first_id = waiter()
                except Exception as error:  # noqa: BLE001 - reported through the futures
                    item.fail(component_error("Storing the batch", error))
                else:
                    item.finish(first_id)
            with self._cond:
                self._in_flight.popleft()
                if (
                    self._adaptive
                    and not self._queue
                    and self._backend_idle()
                    and self._unfinished_batches < self._max_unfinished
                ):
                    self._seal_all()  # the backend caught up: send what accumulated
                self._cond.notify_all()

    def _sync(self, marker: _FlushMarker, locked: bool = False, turn: int | None = None) -> None:
        """Complete a flush: at once, or, with appends in flight, once they completed."""
        if self._window > 1:
            self._enqueue(marker, None, locked, turn)
        else:
            self._sync_partitions(marker)

    def _sync_partitions(self, marker: _FlushMarker) -> None:
        """Make every partition durable (as the backend can) and complete a flush."""
        try:
            for index in range(self._num_partitions):
                self._log.sync(index)
        except Exception as error:  # noqa: BLE001 - reported through the future
            synced: BaseException | None = component_error("Flush", error)
        else:
            synced = None
        failure = self._losses.close_flush(marker.tally) or synced
        if failure is None:
            marker.completion.set_result(True)
        else:
            marker.completion.set_error(failure)
        if marker.then is not None:
            marker.then()

    # ---------------------------------------------------------- flush/close

    def flush(self) -> FutureFlushed:
        if self._closed:
            raise ClosedError(f"Producer {self.name!r} is closed")
        return FutureFlushed(self._queue_flush(_FlushMarker(self._losses.open_flush())))

    def _queue_flush(self, marker: _FlushMarker) -> Completion:
        with self._lock:
            issued = 0 if self._pushes is None else self._pushes.issued()
            self._waiting_flushes.append((issued, marker))
            self._release_flushes()
        return marker.completion

    def close(self, wait: bool = True) -> None:
        if not self._closed:
            # Kept alive (and waited for at exit) until everything pushed is stored, even when
            # the last reference was dropped and work is still queued on a pool or the sender.
            _draining.add(self)
            marker = _FlushMarker(self._losses.open_flush(), then=lambda: _draining.discard(self))
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            _live_producers.discard(self)
            self._close_future = FutureFlushed(self._queue_flush(marker))
        if wait and self._close_future is not None:
            try:
                self._close_future.wait(-1)
            except DiasporaException:
                pass
            sender = self._sender
            if sender is not None and sender is not threading.current_thread():
                sender.join()


@atexit.register
def _drain_producers_at_exit() -> None:
    """Store what live producers still hold when the interpreter exits (no lost data)."""
    for producer in [*_live_producers, *_draining]:
        try:
            producer.close(wait=True)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
