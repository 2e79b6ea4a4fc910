"""Pushes through a producer's threaded pool: ``push`` queues, a pool task prepares in chunks.

``push`` takes no lock: it appends the event to a queue (``deque.append`` is atomic) and returns
a :class:`QueuedFuture`. A pool task takes a chunk of the queued events (at most its share of
the queue, so every thread of the pool gets some), prepares the chunk without any lock, then
adds it to the batches under one acquisition of the producer's lock and points each future at
its batch. With the built-in components and no validator a chunk is prepared in a few C-level
calls and added column by column, as ``push_many`` adds a list; otherwise each event runs
through the topic's components, in push order, as ``push`` runs them.

With ``Ordering.Strict`` chunks prepared by several threads join the batches in push order;
with ``Ordering.Loose`` as soon as they are prepared. ``push`` blocks while ``limit`` events
wait for the pool (the queue's memory stays bounded), except in a thread of that same pool,
which would wait for itself.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..backend.batching import remaining_ms
from ..backend.log import AppendRecord
from ..backend.preparation import frame_texts
from ..batches import BatchEvent, BatchFuture
from ..constants import Ordering
from ..futures import Completion, FutureUint, _timeout_seconds
from ..thread_pool import ThreadPool
from .batch_push import PreparedRun, add_run

if TYPE_CHECKING:
    from .producer import LogProducer

__all__ = ["PREPARE_CHUNK", "PoolPushes", "QueuedFuture"]

#: Most queued pushes a pool task takes at once.
PREPARE_CHUNK = 1024

#: What the future of a queued push refers to until its event is in a batch (never completes).
NOT_ADDED = Completion()

#: A queued push: future, metadata, data, data size, partition argument, listener (a
#: per-event completion of ``push_many``, or ``None``).
_Job = tuple["QueuedFuture", Any, tuple[memoryview, ...], int, "int | None", "Completion | None"]


class QueuedFuture(FutureUint):
    """Future of an event pushed to a threaded pool.

    Until a pool task added the event to a batch, it refers to :data:`NOT_ADDED`; the task then
    points it at the batch (exactly the future of an event pushed without a pool: the batch's
    completion and the event's position in it), or at the preparation's error. Waiting on it
    before that marks the event to be sent as soon as it is added.
    """

    __slots__ = ("_pushes",)

    def __init__(self, pushes: PoolPushes) -> None:
        self._completion = NOT_ADDED
        self._position = 0
        self._pushes = pushes

    def wait(self, timeout_ms: int = -1) -> int | None:
        """Return the event's id, or ``None`` if it is not known within ``timeout_ms``."""
        if self._completion is NOT_ADDED:
            timeout = _timeout_seconds(timeout_ms)
            deadline = None if timeout is None else time.monotonic() + timeout
            if not self._pushes.wait_added(self, deadline):
                return None
            timeout_ms = remaining_ms(deadline)
        return FutureUint.wait(self, timeout_ms)

    def send(self) -> None:
        """Send the event's batch now (or as soon as the event is in one)."""
        self._pushes.send(self)


class PoolPushes:
    """The queue of a producer's pushes waiting for its threaded pool, and the pool tasks
    that prepare them (see the module's docstring)."""

    def __init__(self, producer: LogProducer, pool: ThreadPool, limit: int) -> None:
        self._producer = producer
        self._pool = pool
        self._threads = pool.thread_count
        self._limit = limit
        self._strict = producer.ordering != Ordering.Loose
        self._queue: deque[_Job] = deque()
        # Guards taking from the queue and the counters below; never held while taking the
        # producer's lock.
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._full = False  # a push waits for room in the queue
        self._tasks = 0  # pool tasks taking from the queue
        self._taken = 0  # pushes taken by tasks: sequence numbers 0 .. _taken - 1
        # Guarded by the producer's lock:
        self._ready: dict[int, tuple[int, _Prepared | None]] = {}  # Strict: chunks by first
        self._urgent: set[QueuedFuture] = set()  # to send as soon as they are added
        self._waiting = 0  # threads in wait_added

    # ------------------------------------------------------------ pushing

    def push(
        self,
        metadata: Any,
        data: tuple[memoryview, ...],
        data_size: int,
        partition: int | None,
    ) -> QueuedFuture:
        """Queue one event for the pool; its future."""
        future = QueuedFuture(self)
        self._enqueue((future, metadata, data, data_size, partition, None))
        return future

    def push_many(self, events: Sequence[BatchEvent], partition: int | None) -> BatchFuture:
        """Queue checked events one by one; the future of all their ids."""
        parts: list[tuple[Completion, int, int]] = []
        for metadata, data, size in events:
            future = QueuedFuture(self)
            listener = Completion(future.send)
            self._enqueue((future, metadata, data, size, partition, listener))
            parts.append((listener, 0, 1))
        return BatchFuture(parts)

    def _enqueue(self, job: _Job) -> None:
        queue = self._queue
        if len(queue) >= self._limit:
            self._wait_for_room()
        # A task decrements _tasks before it looks at the queue again: either it sees this
        # job, or this push sees fewer tasks than threads and starts one.
        queue.append(job)
        if self._tasks < self._threads:
            self._start_task()

    def _wait_for_room(self) -> None:
        if self._pool.runs_current_thread():
            return  # the pool's own thread would wait for itself
        with self._room:
            while len(self._queue) >= self._limit:
                self._full = True
                self._room.wait()

    def _start_task(self) -> None:
        with self._lock:
            if self._tasks >= self._threads:
                return
            self._tasks += 1
        try:
            self._pool.push_work(self._take_chunks)
        except RuntimeError:  # the pool was shut down: prepare in this thread, lose nothing
            self._take_chunks()

    def issued(self) -> int:
        """How many events were pushed so far (prepared or not)."""
        with self._lock:
            return self._taken + len(self._queue)

    # ---------------------------------------------------------- preparing

    def _take_chunks(self) -> None:
        """Pool task: prepare and add chunks of queued pushes until none is left."""
        producer = self._producer
        queue = self._queue
        while True:
            with self._lock:
                self._tasks -= 1
                if not queue:
                    return
                self._tasks += 1
                share = min(PREPARE_CHUNK, max(1, len(queue) // self._threads))
                take = queue.popleft
                jobs = [take() for _ in range(share)]
                first = self._taken
                self._taken += share
                if self._full and len(queue) <= self._limit // 2:
                    self._full = False
                    self._room.notify_all()
            prepared = self._prepare(jobs)
            with producer._lock:
                self._commit(first, share, prepared)

    def _prepare(self, jobs: list[_Job]) -> _Prepared:
        preparer = self._producer._preparer
        # A chunk with push_many's listeners, or several partition arguments, goes event by
        # event (rare: the common chunk is plain pushes without a partition argument).
        if preparer.prepares_in_bulk and [job[5] for job in jobs].count(None) == len(jobs):
            partition = jobs[0][4]
            partitions = [job[4] for job in jobs]
            if partitions.count(partition) == len(jobs):
                bulk = preparer.prepare_texts([job[1] for job in jobs], partition)
                if bulk is not None:
                    return _PreparedColumns(jobs, *bulk)
        return _PreparedEvents(jobs, preparer.prepare)

    def _commit(self, first: int, count: int, prepared: _Prepared) -> None:
        """Add a prepared chunk to the batches: in push order with ``Ordering.Strict``, at
        once with ``Ordering.Loose`` (the producer's lock held)."""
        producer = self._producer
        ready = self._ready
        if self._strict:
            ready[first] = (count, prepared)
        else:
            prepared.add(producer, self)
            ready[first] = (count, None)
        while producer._next_commit in ready:
            count, chunk = ready.pop(producer._next_commit)
            if chunk is not None:
                chunk.add(producer, self)
            producer._next_commit += count
        producer._release_flushes()
        if self._waiting:
            producer._cond.notify_all()

    # ------------------------------------------------------------ waiting

    def wait_added(self, future: QueuedFuture, deadline: float | None) -> bool:
        """Wait (until ``deadline``) for a pool task to add a queued event to a batch, marking
        it to be sent as soon as it is; whether it was added (or refused) in time."""
        cond = self._producer._cond
        with cond:
            if future._completion is not NOT_ADDED:
                return True
            self._urgent.add(future)
            self._waiting += 1
            try:
                while future._completion is NOT_ADDED:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    cond.wait(remaining)
            finally:
                self._waiting -= 1
            return True

    def send(self, future: QueuedFuture) -> None:
        """Seal the batch of a queued event, or mark it to be sealed once the event is added."""
        with self._producer._cond:
            if future._completion is NOT_ADDED:
                self._urgent.add(future)
            else:
                self.seal_batch_of(future)

    def seal_batch_of(self, future: QueuedFuture) -> None:
        """Seal the open batch an added event is in, if it is still open (the producer's lock
        held)."""
        producer = self._producer
        for index, batch in enumerate(producer._open):
            if batch is not None and batch.completion is future._completion:
                producer._seal(index)
                return


class _Prepared:
    """A prepared chunk of queued pushes, ready to join the batches."""

    __slots__ = ()

    def add(self, producer: LogProducer, pushes: PoolPushes) -> None:
        """Add the chunk's events to their batches and point their futures there; seal the
        batch of each event waited on meanwhile (the producer's lock held)."""
        raise NotImplementedError


class _PreparedEvents(_Prepared):
    """A chunk prepared event by event: a record, or the error that refused the event."""

    __slots__ = ("_events",)

    def __init__(self, jobs: list[_Job], prepare: Any) -> None:
        events: list[tuple[int, AppendRecord | BaseException, _Job]] = []
        append = events.append
        for job in jobs:
            _, metadata, data, data_size, partition, _ = job
            try:
                index, blob = prepare(metadata, data, partition)
            except Exception as error:  # noqa: BLE001 - reported through the future
                append((-1, error, job))
            else:
                append((index, AppendRecord(blob, data, data_size), job))
        self._events = events

    def add(self, producer: LogProducer, pushes: PoolPushes) -> None:
        add = producer._add_record
        urgent = pushes._urgent
        for index, record, job in self._events:
            future, listener = job[0], job[5]
            if type(record) is not AppendRecord:
                assert isinstance(record, BaseException)
                future._completion = Completion.failed(record)
                if listener is not None:
                    listener.set_error(record)
                urgent.discard(future)
                continue
            batch, position = add(index, record, listener)
            future._position = position
            future._completion = batch.completion
            if urgent and future in urgent:
                urgent.discard(future)
                pushes.seal_batch_of(future)


class _PreparedColumns(_Prepared):
    """A chunk prepared in bulk: the partition index and JSON text of each event."""

    __slots__ = ("_indices", "_jobs", "_texts")

    def __init__(self, jobs: list[_Job], indices: list[int], texts: list[bytes]) -> None:
        self._jobs = jobs
        self._indices = indices
        self._texts = texts

    def add(self, producer: LogProducer, pushes: PoolPushes) -> None:
        jobs, indices = self._jobs, self._indices
        first = indices[0]
        if indices.count(first) == len(indices):
            self._add_group(producer, first, jobs, self._texts)
        else:
            self._add_groups(producer, jobs, indices)
        urgent = pushes._urgent
        if urgent:
            for job in jobs:
                future = job[0]
                if future in urgent:
                    urgent.discard(future)
                    pushes.seal_batch_of(future)

    def _add_groups(self, producer: LogProducer, jobs: list[_Job], indices: list[int]) -> None:
        # Several partitions: each gets its events in push order, one run each.
        members: dict[int, list[int]] = {}
        for position, index in enumerate(indices):
            members.setdefault(index, []).append(position)
        texts = self._texts
        for index, positions in members.items():
            group = [jobs[position] for position in positions]
            self._add_group(producer, index, group, [texts[p] for p in positions])

    @staticmethod
    def _add_group(
        producer: LogProducer,
        index: int,
        jobs: list[_Job],
        texts: list[bytes],
    ) -> None:
        """Add the events of one partition, in push order, to its batches."""
        metadata, metadata_sizes = frame_texts(texts)
        run = PreparedRun(
            metadata, metadata_sizes, [job[2] for job in jobs], [job[3] for job in jobs]
        )
        parts: list[tuple[Completion, int, int]] = []
        add_run(producer, index, run, parts)
        event = 0
        for completion, start, count in parts:
            for position in range(start, start + count):
                future = jobs[event][0]
                event += 1
                future._position = position
                future._completion = completion
