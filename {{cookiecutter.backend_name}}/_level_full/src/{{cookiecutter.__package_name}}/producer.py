"""Producers of the ``{{ cookiecutter.backend_name }}`` backend: batching and sending, owned here.

``push`` prepares the event in the calling thread (validator, partition selector and
serializer, with diaspora-stream's :class:`~diaspora_stream.backend.preparation.EventPreparer`,
so components behave as on every backend) and adds it to the open batch of its partition. A
batch is sealed when it holds ``batch_size`` events (with ``AdaptiveBatchSize``: as soon as the
sender is idle, so it grows while the engine is busy), when ``flush`` is called, or when someone
waits on the future of one of its events. Sealed batches and flush markers go, in order, into
one queue that a sender thread empties: it sends each batch to the engine (the transport) and
completes the batch's futures with the first id the engine gave. A flush marker completes once
every batch sealed before it was answered, raising ``EventsNotStored`` (diaspora-stream's
:class:`~diaspora_stream.backend.losses.LossLedger` keeps the count) if any was not stored.

All the events of a batch share one :class:`~diaspora_stream.futures.Completion`; an event's
future only stores its position in the batch, which keeps ``push`` cheap.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from diaspora_stream.api import ClosedError
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.backend.full import ProducerInterface
from diaspora_stream.backend.losses import FlushTally, LossLedger
from diaspora_stream.backend.preparation import EventPreparer
from diaspora_stream.constants import AdaptiveBatchSize, MaxNumBatchesInfinity
from diaspora_stream.futures import Completion, FutureFlushed, FutureUint

if TYPE_CHECKING:
    from .topic import {{ cookiecutter.title }}Topic

__all__ = ["{{ cookiecutter.title }}Producer"]


class _Batch:
    """Events of one partition sent together; their futures share ``completion``."""

    __slots__ = ("completion", "data", "metadata", "partition")

    def __init__(self, partition: int, on_wait: Callable[[_Batch], None]) -> None:
        self.partition = partition
        # A caller waiting on the future of an event of an open batch has it sent at once.
        self.completion = Completion(on_wait=lambda: on_wait(self))
        self.metadata: list[bytes] = []
        self.data: list[tuple[memoryview, ...]] = []


class _FlushMarker:
    """A flush, queued behind the batches it covers."""

    __slots__ = ("completion", "last", "tally")

    def __init__(self, tally: FlushTally, last: bool = False) -> None:
        self.tally = tally
        self.completion = Completion()
        self.last = last  # the close: the sender stops after it


class {{ cookiecutter.title }}Producer(ProducerInterface):
    """A producer of one topic, with a sender thread of its own."""

    def __init__(
        self,
        topic: {{ cookiecutter.title }}Topic,
        name: str,
        batch_size: int,
        max_num_batches: int,
        options: dict[str, Any],
    ) -> None:
        self.topic = topic
        self.name = name
        # CHANGE ME: check producer options with diaspora_stream.backend.options.parse_options if
        # your engine takes some (compression, acknowledgement level...); none as generated.
        self._log = topic.log
        self._prepare = EventPreparer(topic, topic.num_partitions).prepare
        self._adaptive = batch_size == AdaptiveBatchSize or batch_size <= 0
        self._batch_size = batch_size
        #: Sealed batches allowed to wait for the sender before ``push`` blocks (None: no limit).
        self._max_batches = (
            None
            if max_num_batches == MaxNumBatchesInfinity or max_num_batches <= 0
            else max_num_batches
        )
        self._cond = threading.Condition()
        self._open: list[_Batch | None] = [None] * topic.num_partitions
        self._queue: deque[_Batch | _FlushMarker] = deque()
        self._queued_batches = 0
        self._sending = False
        self._losses = LossLedger()
        self._closed = False
        self._closing: Completion | None = None
        self._sender = threading.Thread(
            target=self._send_loop, name=f"{{ cookiecutter.backend_name }}-producer-{name}", daemon=True
        )
        self._sender.start()

    # ------------------------------------------------------------------ push

    def push(
        self, metadata: Any, data: tuple[memoryview, ...], data_size: int, partition: int | None
    ) -> FutureUint:
        if self._closed:
            raise ClosedError(f"Producer {self.name!r} is closed; create a new producer to push")
        try:
            index, blob = self._prepare(metadata, data, partition)
        except DiasporaException as error:
            return FutureUint(Completion.failed(error))  # not sent, so not a loss of a flush
        with self._cond:
            if self._closed:
                raise ClosedError(f"Producer {self.name!r} is closed")
            batch = self._open[index]
            if batch is None:
                batch = self._open[index] = _Batch(index, self._send_now)
            position = len(batch.metadata)
            batch.metadata.append(blob)
            batch.data.append(data)
            if self._adaptive:
                if not self._queue and not self._sending:
                    self._seal(index)
            elif len(batch.metadata) >= self._batch_size:
                self._seal(index)
                limit = self._max_batches
                while limit is not None and self._queued_batches > limit and not self._closed:
                    self._cond.wait()  # back-pressure: the sender is max_num_batches behind
            return FutureUint(batch.completion, position)

    def _send_now(self, batch: _Batch) -> None:
        with self._cond:
            if self._open[batch.partition] is batch:
                self._seal(batch.partition)

    def _seal(self, partition: int) -> None:
        """Queue the open batch of ``partition`` for the sender (lock held)."""
        batch = self._open[partition]
        if batch is not None:
            self._open[partition] = None
            self._queue.append(batch)
            self._queued_batches += 1
            self._cond.notify_all()

    def _seal_all(self) -> None:
        for partition in range(len(self._open)):
            self._seal(partition)

    # ---------------------------------------------------------------- sender

    def _send_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                item = self._queue.popleft()
                self._sending = True
            if isinstance(item, _FlushMarker):
                error = self._losses.close_flush(item.tally)
                if error is None:
                    item.completion.set_result(True)
                else:
                    item.completion.set_error(error)
            else:
                self._send(item)
            with self._cond:
                self._sending = False
                if isinstance(item, _Batch):
                    self._queued_batches -= 1
                if self._adaptive and not self._queue:
                    self._seal_all()  # what was pushed while this batch was being stored
                self._cond.notify_all()
                if isinstance(item, _FlushMarker) and item.last:
                    return

    def _send(self, batch: _Batch) -> None:
        """Send ``batch`` to the engine and complete its events' futures, counting a failure
        as a loss that the next flush reports."""
        try:
            first = self._store(batch.partition, batch.metadata, batch.data)
        except Exception as error:  # noqa: BLE001 - given to the futures and the next flush
            failure = DiasporaException(
                f"Storing {len(batch.metadata)} event(s) in partition {batch.partition} of "
                f"topic {self.topic.name!r} failed: {error}"
            )
            self._losses.lost(len(batch.metadata), failure)
            batch.completion.set_error(failure)
        else:
            batch.completion.set_result(first)

    def _store(
        self, partition: int, metadata: list[bytes], data: list[tuple[memoryview, ...]]
    ) -> int:
        """Store one batch (serialized metadata and data segments of each event) at the end of
        ``partition``; return the id of its first event."""
        # CHANGE ME: send the batch with your engine's client (one request, or one produce
        # call per event if the client batches by itself). What the replacement must guarantee:
        # * The batch's events get consecutive ids in its partition, in push order, and the
        #   engine says which id the first one got (or each event's id, if your engine reports
        #   ids per event: complete each future with its own Completion then).
        # * Each batch is stored at most once (retries must not duplicate it), and batches of
        #   one partition are stored in the order they were sealed.
        # * On a failure, raise: the batch's futures raise it (wrapped with what failed), and
        #   the next flush raises EventsNotStored counting these events.
        # * The data segments are the user's buffers: copy them before returning (or before the
        #   engine acknowledges the batch), they may be reused once the batch is stored.
        return self._log.append(partition, metadata, data)

    # ----------------------------------------------------------- flush/close

    def flush(self) -> FutureFlushed:
        if self._closed:
            raise ClosedError(f"Producer {self.name!r} is closed")
        return FutureFlushed(self._queue_flush(last=False))

    def _queue_flush(self, last: bool) -> Completion:
        with self._cond:
            self._seal_all()
            marker = _FlushMarker(self._losses.open_flush(), last)
            self._queue.append(marker)
            self._cond.notify_all()
        return marker.completion

    def close(self, wait: bool = True) -> None:
        with self._cond:
            if self._closing is None:
                self._closed = True
                self._closing = self._queue_flush(last=True)
        if wait:
            try:
                self._closing.wait(-1)
            except DiasporaException:
                pass  # the push futures and earlier flushes reported the lost events
            if self._sender is not threading.current_thread():
                self._sender.join()
