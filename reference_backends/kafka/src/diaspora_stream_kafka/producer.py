"""Producers: one Kafka record per event, ids from the broker's delivery reports.

``push`` validates, chooses the partition and serializes in the calling thread (the API
package's :class:`~diaspora_stream.backend.preparation.EventPreparer`), then hands the record
to librdkafka, which batches it (``batch_size`` → ``batch.num.messages``, ``max_num_batches`` →
produce requests in flight, ``push`` blocks while its queue is full) and sends it with
``acks=all`` and idempotence, so retries never duplicate or reorder. The push future completes
from the delivery report with the record's offset. Producers with the same settings share one
librdkafka instance (:mod:`.clients`); a pushing thread serves the reports that arrived between
its pushes, the instance's background thread those that arrive while nobody pushes.

Delivery reports of one partition come in produce order (idempotent producer), so each
partition keeps a FIFO of the completions of its records in flight (and one of their push
numbers): no per-record callback object is needed, and ``flush()`` completes once every record
pushed before it was reported.

With the built-in partition selector and serializer and no validator (nothing of the user's
runs before the record is handed over), ``push`` serializes the metadata and chooses the
partition in place and writes the record header in one ``struct`` call, and ``push_many``
prepares and encodes the whole call with a few C-level calls
(:meth:`~diaspora_stream.backend.preparation.EventPreparer.prepare_texts`), then hands its
records to librdkafka a chunk at a time under one acquisition of the producer's lock. A refused
event goes through the per-event preparation, which names the component that refused it.

Completed partitions (:mod:`.completion`): a push to a partition known complete fails at once;
a flush covering records delivered since the last check completes only after the completion
group was read once more (on a background thread, in flush order), and reports the records
that landed after a marker.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from itertools import count, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, KafkaException, Message
from diaspora_stream.backend.batching import collector_paused, push_each
from diaspora_stream.backend.full import ProducerInterface
from diaspora_stream.backend.losses import FlushTally, LossLedger
from diaspora_stream.backend.options import Option, parse_options
from diaspora_stream.backend.preparation import EventPreparer
from diaspora_stream.batches import BatchEvent, BatchEvents, BatchFuture, batch_error
from diaspora_stream.constants import AdaptiveBatchSize, MaxNumBatchesInfinity
from diaspora_stream.exceptions import ClosedError, InvalidArgument
from diaspora_stream.exceptions import Exception as DiasporaException
from diaspora_stream.futures import Completion, FutureFlushed, FutureUint
from diaspora_stream.json_codec import dumps_metadata

from .clients import shared_producer
from .completion import completed, partition_completed, read_completion
from .config import RECORD_FORMATS
from .errors import diaspora_error
from .json_records import json_value
from .records import encode, encode_text, encode_texts

if TYPE_CHECKING:
    from .topic import KafkaTopicHandle

__all__ = ["KafkaProducer", "producer_settings"]

_RECORD_FORMAT_HELP = "'octopus' (the event layout) or 'json' (plain JSON records, no data)"
_BACKOFF_S = 0.005
#: librdkafka's own cap on ``batch.num.messages``.
_MAX_BATCH = 1_000_000
#: ``push`` serves the delivery reports that arrived every ``_SERVE_EVERY + 1`` records.
_SERVE_EVERY = 127
#: Records of a ``push_many`` encoded and handed over together.
_SEND_CHUNK = 256
_metadata_of = itemgetter(0)
_data_of = itemgetter(1)
_data_size_of = itemgetter(2)


def producer_settings(
    topic: KafkaTopicHandle, batch_size: int, max_num_batches: int, options: dict[str, Any]
) -> dict[str, Any]:
    """librdkafka settings of a producer: the driver's and the producer's own ``kafka``
    options, batching from ``batch_size``/``max_num_batches``, idempotence and ``acks=all``."""
    config = topic.driver.config
    settings: dict[str, Any] = {
        "message.max.bytes": str(config.max_event_bytes + 1024),
        "message.timeout.ms": str(config.delivery_timeout_ms),
    }
    if batch_size != AdaptiveBatchSize and batch_size > 0:
        # Batches of at most batch_size records, sent without lingering: a full one at once,
        # a partial one as soon as a produce request can carry it.
        settings["batch.num.messages"] = str(min(batch_size, _MAX_BATCH))
        settings["linger.ms"] = "0"
    if max_num_batches != MaxNumBatchesInfinity and max_num_batches > 0:
        # Batches being stored at once: produce requests in flight (at most 5 with idempotence).
        settings["max.in.flight.requests.per.connection"] = str(min(max_num_batches, 5))
    settings.update(config.client_settings(options, "kafka producer"))
    # Forced, as Octopus does: no duplicates or reordering on retries, stored by all replicas.
    settings["enable.idempotence"] = "true"
    settings["acks"] = "all"
    return settings


def _future_of(completions: list[Completion]) -> BatchFuture:
    """The future of a batch whose records have these completions (one each)."""
    return BatchFuture(list(zip(completions, repeat(0), repeat(1))))


class _FlushMarker:
    __slots__ = ("completion", "sequence", "tally")

    def __init__(self, sequence: int, tally: FlushTally, wake: Callable[[], None]) -> None:
        self.sequence = sequence
        self.tally = tally
        self.completion = Completion(wake)


class _Checks:
    """The process's thread that checks for completed partitions before flushes complete."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` after the jobs submitted before it."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="diaspora-kafka-completion-checks", daemon=True
                )
                self._thread.start()
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            self._jobs.get()()


_checks = _Checks()


class KafkaProducer(ProducerInterface):
    """A producer of one topic (producers with the same settings share a librdkafka
    instance)."""

    def __init__(
        self,
        topic: KafkaTopicHandle,
        name: str,
        batch_size: int,
        max_num_batches: int,
        options: dict[str, Any],
    ) -> None:
        self.topic = topic
        self.name = name
        self._kafka_topic = topic.kafka_topic
        self._bootstrap = topic.driver.config.bootstrap_servers
        preparer = EventPreparer(topic, topic.num_partitions)
        self._prepare = preparer.prepare
        self._prepare_many = preparer.prepare_many
        self._prepare_texts = preparer.prepare_texts
        accepted = {
            "record_format": Option(
                str, topic.driver.config.record_format, _RECORD_FORMAT_HELP, RECORD_FORMATS
            )
        }
        self._json = (
            parse_options(options, accepted, "kafka producer", allow_unknown=True)["record_format"]
            == "json"
        )
        # The built-in selector and serializer, no validator: ``push`` runs them in place.
        self._select: Callable[[Any, int | None], int] | None = None
        if preparer.prepares_in_bulk and not self._json:
            self._select = topic.partition_selector.select_partition_for
        try:
            shared = shared_producer(producer_settings(topic, batch_size, max_num_batches, options))
        except KafkaException as error:
            raise diaspora_error(error, f"Creating producer {name!r}", self._bootstrap) from None
        self._client = shared.client
        self._produce = self._client.produce
        self._serve_here = shared.serve_here
        self._wait_for_room = shared.wait_for_room
        self._wake = shared.wake
        self._lock = threading.Lock()
        self._next_sequence = 0
        # Per partition, the push number and the completion of each record not yet reported
        # (two FIFOs: numbers are not objects the garbage collector tracks).
        self._sequences: list[deque[int]] = [deque() for _ in range(topic.num_partitions)]
        self._waiting: list[deque[Completion]] = [deque() for _ in range(topic.num_partitions)]
        self._flushes: deque[_FlushMarker] = deque()
        self._losses = LossLedger()
        # Partitions known complete (shared by the process), and per partition (first offset,
        # last offset, count) of the records delivered since the completion group was read.
        self._completed = completed.of(self._bootstrap, self._kafka_topic)
        self._unchecked: dict[int, list[int]] = {}
        self._checking = 0
        # In the background: creating a producer never waits for the cluster.
        _checks.submit(self._learn_completion)
        self._closed = False
        self._closing: Completion | None = None
        self._on_delivery = self._delivered

    # ------------------------------------------------------------------ push

    def push(
        self, metadata: Any, data: tuple[memoryview, ...], data_size: int, partition: int | None
    ) -> FutureUint:
        if self._closed:
            raise ClosedError(f"Producer {self.name!r} is closed; create a new producer to push")
        select = self._select
        if select is not None:
            # Serialized before the partition is chosen: a refused event reaches the per-event
            # path below with the round robin untouched, and that path (selector first, then
            # serializer) names the component that refused it, as it always did.
            try:
                text = dumps_metadata(metadata)
                index = select(metadata, partition)
            except Exception:  # noqa: BLE001 - named by the per-event path
                pass
            else:
                marker = self._completed.get(index)
                if marker is not None:
                    return self._refuse(index, marker)
                return FutureUint(self._send(index, encode_text(text, data, data_size)))
        return self._push_prepared(metadata, data, data_size, partition)

    def _push_prepared(
        self, metadata: Any, data: tuple[memoryview, ...], data_size: int, partition: int | None
    ) -> FutureUint:
        """``push`` through the topic's components, whatever they are."""
        try:
            index, blob = self._prepare(metadata, data, partition)
        except DiasporaException as error:
            return FutureUint(Completion.failed(error))
        marker = self._completed.get(index)
        if marker is not None:
            return self._refuse(index, marker)
        if not self._json:
            value = encode(blob, data, data_size)
        elif data_size:
            return FutureUint(
                Completion.failed(
                    InvalidArgument(
                        f"Producer {self.name!r} writes plain JSON records (record_format "
                        f"'json'), which carry no data, but the event has {data_size} bytes of "
                        "data; push it without data, or use record_format 'octopus'"
                    )
                )
            )
        else:
            value = json_value(metadata)
        return FutureUint(self._send(index, value))

    def push_many(self, events: Sequence[BatchEvent], partition: int | None) -> BatchFuture:
        """Prepare every event (validator, partition selector, serializer) before the first is
        handed to librdkafka, so that a refused one leaves nothing of the call stored; then
        send them as ``push`` does, without a future each. Events for a partition known
        complete fail as ``push`` makes them fail; plain JSON records go the generic way (a
        ``push`` each)."""
        if self._closed:
            raise ClosedError(f"Producer {self.name!r} is closed; create a new producer to push")
        if self._select is not None:
            sent = self._push_many_in_bulk(events, partition)
            if sent is not None:
                return sent
        prepared, refused = self._prepare_many(events, partition)
        if refused is not None:
            return BatchFuture.failed(batch_error(len(prepared), refused), len(events))
        if self._json:
            return push_each(self, events, partition)
        indices = [index for index, _ in prepared]
        values = [
            encode(blob, data, data_size)
            for (_, blob), (_, data, data_size) in zip(prepared, events, strict=True)
        ]
        return self._send_batch(indices, values)

    def _push_many_in_bulk(
        self, events: Sequence[BatchEvent], partition: int | None
    ) -> BatchFuture | None:
        """``push_many`` prepared and encoded with a few C-level calls, or ``None`` when some
        event is refused (the per-event path then names it; nothing was chosen or sent).

        The whole call is prepared before anything is sent; records are then encoded and
        handed over ``_SEND_CHUNK`` at a time, so that librdkafka copies them while they are
        still in the processor's cache."""
        with collector_paused():
            if isinstance(events, BatchEvents):
                metadata, data, sizes = events.metadata, None, None
            else:
                metadata = list(map(_metadata_of, events))
                sizes = list(map(_data_size_of, events))
                data = list(map(_data_of, events)) if any(sizes) else None
            prepared = self._prepare_texts(metadata, partition)
        if prepared is None:
            return None
        indices, texts = prepared
        if self._reaches_completed(indices):
            return self._send_batch(indices, encode_texts(texts, data, sizes))
        completions: list[Completion] = []
        for start in range(0, len(texts), _SEND_CHUNK):
            chunk = slice(start, start + _SEND_CHUNK)
            with collector_paused():
                values = encode_texts(
                    texts[chunk],
                    None if data is None else data[chunk],
                    None if sizes is None else sizes[chunk],
                )
            completions += self._send_all(indices[chunk], values)
        return _future_of(completions)

    def _reaches_completed(self, indices: list[int]) -> bool:
        """Whether some of the partitions ``indices`` is known complete."""
        completed = self._completed
        return bool(completed) and not completed.keys().isdisjoint(indices)

    def _send_batch(self, indices: list[int], values: list[bytes]) -> BatchFuture:
        """Send ``values[i]`` to partition ``indices[i]`` for each ``i``, in order (a refusal
        for each record of a partition known complete); the future of their ids."""
        if self._reaches_completed(indices):
            completed = self._completed
            completions = [
                self._refused(index, completed[index])
                if index in completed
                else self._send(index, value)
                for index, value in zip(indices, values, strict=True)
            ]
        else:
            completions = self._send_all(indices, values)
        return _future_of(completions)

    def _send(self, index: int, value: bytes) -> Completion:
        """Hand the record ``value`` to librdkafka for partition ``index``; the completion of
        its id (failed at once if librdkafka refuses it)."""
        completion = Completion(self._wake)
        lock = self._lock
        while True:
            # acquire/release rather than ``with``: half the cost, on every record.
            lock.acquire()
            try:
                # Positional arguments: librdkafka's binding parses them faster.
                self._produce(self._kafka_topic, value, None, index, self._on_delivery)
            except BufferError:
                pass  # librdkafka's queue is full: wait for room below
            except KafkaException as error:
                self._not_sent(completion, error)
                return completion
            else:
                # The report waits for the lock: queued before it can be taken.
                sequence = self._next_sequence
                self._sequences[index].append(sequence)
                self._waiting[index].append(completion)
                self._next_sequence = sequence + 1
                break
            finally:
                lock.release()
            self._wait_for_room(_BACKOFF_S)
        if not sequence & _SERVE_EVERY:
            self._serve_here()
        return completion

    def _send_all(self, indices: list[int], values: list[bytes]) -> list[Completion]:
        """:meth:`_send` each record, in order, under one acquisition of the lock for as many
        records as librdkafka's queue takes, with the garbage collector paused (the records'
        completions all stay alive until they are reported)."""
        with collector_paused():
            completions = list(map(Completion, repeat(self._wake, len(values))))
        sent = 0
        while True:
            with collector_paused(), self._lock:
                sent = self._send_from(sent, indices, values, completions)
            if sent == len(values):
                self._serve_here()
                return completions
            self._wait_for_room(_BACKOFF_S)  # librdkafka's queue is full: wait for room

    def _send_from(
        self, start: int, indices: list[int], values: list[bytes], completions: list[Completion]
    ) -> int:
        """Hand the records from ``start`` on to librdkafka until its queue is full (lock
        held); return the position of the first record not handed over."""
        produce, topic, on_delivery = self._produce, self._kafka_topic, self._on_delivery
        sequences, waiting = self._sequences, self._waiting
        sequence = self._next_sequence
        position = start
        try:
            for position, index, value, completion in zip(  # noqa: B007 - read on BufferError
                count(start), indices[start:], values[start:], completions[start:]
            ):
                try:
                    produce(topic, value, None, index, on_delivery)
                except KafkaException as error:
                    self._next_sequence = sequence
                    self._not_sent(completion, error)
                    sequence = self._next_sequence
                else:
                    sequences[index].append(sequence)
                    waiting[index].append(completion)
                    sequence += 1
            position = len(values)
        except BufferError:
            pass
        finally:
            self._next_sequence = sequence
        return position

    def _not_sent(self, completion: Completion, error: KafkaException) -> None:
        """librdkafka refused a record (lock held): fail its completion, and number it like a
        sent record, so only the flushes after it report it."""
        failure = diaspora_error(error, "Pushing the event", self._bootstrap)
        sequence = self._next_sequence
        self._next_sequence = sequence + 1
        self._losses.lost(1, failure, sequence)
        completion.set_error(failure)

    def _refuse(self, partition: int, marker: int) -> FutureUint:
        """A push to a completed partition: failed, and reported by the next flush."""
        return FutureUint(self._refused(partition, marker))

    def _refused(self, partition: int, marker: int) -> Completion:
        """The failed completion of a push to a completed partition, which the next flush
        reports."""
        failure = partition_completed(self.topic.name, partition, marker)
        with self._lock:
            sequence = self._next_sequence
            self._next_sequence = sequence + 1
            self._losses.lost(1, failure, sequence)
        return Completion.failed(failure)

    # ----------------------------------------------------- delivery reports

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        partition, offset = message.partition(), message.offset()
        assert partition is not None
        if error is not None or offset is None:
            self._not_delivered(partition, error)
            return
        lock = self._lock
        lock.acquire()
        try:
            sequence = self._sequences[partition].popleft()
            # The event's future completes before any flush that waits for it.
            self._waiting[partition].popleft().set_result(offset)
            span = self._unchecked.get(partition)
            if span is None:
                self._unchecked[partition] = [offset, offset, 1]
            else:
                span[1] = offset
                span[2] += 1
            # Records pushed after the oldest pending flush complete none.
            if self._flushes and sequence < self._flushes[0].sequence:
                self._complete_flushes()
        finally:
            lock.release()

    def _not_delivered(self, partition: int, error: KafkaError | None) -> None:
        """The report of a record librdkafka could not store: its future fails, and the
        flushes covering it report it."""
        failure = diaspora_error(
            KafkaException(error),
            f"Storing the event in partition {partition} of topic {self.topic.name!r}",
            self._bootstrap,
        )
        with self._lock:
            sequence = self._sequences[partition].popleft()
            self._losses.lost(1, failure, sequence)
            self._waiting[partition].popleft().set_error(failure)
            if self._flushes:
                self._complete_flushes()

    def _complete_flushes(self) -> None:
        """Complete the flushes whose records were all reported (lock held)."""
        oldest = min((queue[0] for queue in self._sequences if queue), default=None)
        while self._flushes and (oldest is None or oldest >= self._flushes[0].sequence):
            marker = self._flushes.popleft()
            if self._unchecked or self._checking:
                # Completed after a check of the partitions written to, in flush order.
                spans, self._unchecked = self._unchecked, {}
                self._checking += 1
                _checks.submit(partial(self._check_then_complete, marker, spans))
            else:
                self._complete(marker)

    def _learn_completion(self) -> None:
        """Read which partitions are complete (pushes made before the answer are checked by
        the flush covering them)."""
        try:
            read_completion(self.topic.driver.admin, self._kafka_topic, range(len(self._sequences)))
        except DiasporaException:
            pass  # the cluster cannot say yet: the flushes check

    def _complete(self, marker: _FlushMarker) -> None:
        lost = self._losses.close_flush(marker.tally)
        if lost is None:
            marker.completion.set_result(True)
        else:
            marker.completion.set_error(lost)

    def _check_then_complete(self, marker: _FlushMarker, spans: dict[int, list[int]]) -> None:
        """Read the completion group for the partitions of ``spans``, report the records
        delivered after a marker, then complete the flush (on the checks' thread)."""
        try:
            markers = (
                read_completion(self.topic.driver.admin, self._kafka_topic, sorted(spans))
                if spans
                else {}
            )
        except DiasporaException:
            # Unknown yet: the next flush checks these partitions again.
            with self._lock:
                for partition, span in spans.items():
                    self._unchecked.setdefault(partition, span)
            markers = {}
        for partition, at in markers.items():
            first, last, count = spans[partition]
            if last > at:
                after = count if first > at else 1
                self._losses.lost(after, partition_completed(self.topic.name, partition, at))
        with self._lock:
            self._checking -= 1
            self._complete(marker)

    # ----------------------------------------------------------- flush/close

    def flush(self) -> FutureFlushed:
        if self._closed:
            raise ClosedError(f"Producer {self.name!r} is closed")
        return FutureFlushed(self._queue_flush())

    def _queue_flush(self) -> Completion:
        with self._lock:
            marker = _FlushMarker(
                self._next_sequence, self._losses.open_flush(self._next_sequence), self._wake
            )
            self._flushes.append(marker)
            self._complete_flushes()
        return marker.completion

    def close(self, wait: bool = True) -> None:
        if self._closing is None:
            self._closed = True
            self._closing = self._queue_flush()
        if wait:
            self._closing.wait(-1)
