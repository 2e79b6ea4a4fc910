"""Consumers: a consumer group per name, partitions assigned (not subscribed), commits on ack.

A consumer named ``N`` reads with ``group.id = N``; it is *assigned* its targeted partitions
(all by default), starting after the offsets group ``N`` committed, so ``targets`` are honoured
and no group rebalance delays it. ``event.acknowledge()`` commits that event's offset + 1
synchronously: a consumer created again with the same name resumes after it.

Delivery is round robin over the targeted partitions, each in offset order, as on every
backend: the next event comes from the first partition, from the one after the previous
event's, that has one. librdkafka prefetches records of every partition; before a partition is
passed over, its high watermark is checked, so an event already stored there is never
overtaken by one of a later partition.

The buffers hold librdkafka's message objects as fetched (a batch of up to ``batch_size`` at a
time); a record is decoded only when its turn comes, and a pull whose event is already fetched
returns a completed future at once. ``pull_many`` takes the same events in the same order,
several under one acquisition of the lock and without a future each: it decodes the buffered
records in one loop, parsing the metadata of the built-in serializers in place, with Python's
cyclic garbage collector paused meanwhile (the events of a batch all stay alive until it is
returned, so collections midway would only scan them again and again).

The data selection is cut out of the fetched record value without copying it when the
consumer has no allocator (``event.data`` is a read-only view of the record).

End of stream: Octopus's marker record (:mod:`.completion`) gives the partition's sentinel
(``event_id`` None); what the partition holds after it is never delivered, and once every
targeted partition gave its sentinel, each pull gives one at once. ``seek`` assigns the
partitions again at the offsets asked for (event ids are offsets); acknowledgements only move
the name's committed offset forward.

A record that is not an event costs only itself (:mod:`.bad_records`): it keeps its place in
the delivery order, and the pull whose turn it is raises (or skips it, with
``skip_bad_records``). A pull that waits while the cluster cannot be reached raises once that
has lasted the driver's ``timeout_ms`` (:mod:`.reachability`). ``close()`` wakes the threads
waiting in a pull: they raise ``ClosedError``, as on every backend.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from diaspora_stream.backend.batching import PullResult, collector_paused
from diaspora_stream.backend.full import ConsumerInterface, DataAllocator, DataSelector
from diaspora_stream.backend.options import Option, parse_options
from diaspora_stream.backend.pulls import pull_future
from diaspora_stream.backend.selection import copy_segments, select_event_data
from diaspora_stream.components.serializers import prefixed_json_loads
from diaspora_stream.constants import AdaptiveBatchSize, MaxNumBatchesInfinity, NoMoreEvents
from diaspora_stream.event import FULL_DATA_ALLOCATOR, Event
from diaspora_stream.exceptions import ClosedError, InvalidArgument
from diaspora_stream.exceptions import Exception as DiasporaException
from diaspora_stream.futures import Completion, FutureEvent
from diaspora_stream.positions import PartitionPositions, Position

from .bad_records import NotAnEvent, pass_over
from .completion import completed, read_completion
from .errors import diaspora_error
from .fetching import fetch_available, position
from .json_records import NOT_JSON, JsonRecordEvent, document_of
from .naming import check_consumer_name
from .reachability import Reachability
from .records import HEADER_SIZE, JSON_HEAD, CorruptRecord, decode

if TYPE_CHECKING:
    from .topic import KafkaTopicHandle

__all__ = ["CONSUMER_OPTIONS", "KafkaConsumer", "consumer_settings"]

#: Records fetched from librdkafka's queue at once.
DEFAULT_FETCH = 1024
_WAIT_SLICE_S = 0.1
_unpack_head = JSON_HEAD.unpack_from
_HEAD_SIZE = JSON_HEAD.size
#: No metadata read yet (``None`` is a metadata value).
_UNREAD = object()
#: Consumers not closed yet: closed at exit, while the interpreter can still run the callbacks
#: librdkafka makes when a consumer is destroyed.
_open_consumers: weakref.WeakSet[KafkaConsumer] = weakref.WeakSet()

#: What ``topic.consumer(options=...)`` accepts on Kafka (other names are passed over).
CONSUMER_OPTIONS: dict[str, Option] = {
    "kafka": Option(dict, {}, "librdkafka settings of this consumer, over the driver's"),
    "skip_bad_records": Option(
        bool, False, "skip records that are not events with a logged warning instead of raising"
    ),
    "shared_group": Option(
        bool,
        False,
        "consumers of the same name share the partitions (Kafka's group rebalancing, as Octopus)",
    ),
}
_JSON_RECORDS_HELP = "deliver plain JSON records as events (default: the driver's json_records)"


def consumer_settings(
    topic: KafkaTopicHandle, name: str, batch_size: int, max_num_batches: int, options: dict
) -> dict[str, Any]:
    """librdkafka settings of a consumer: the driver's and the consumer's own ``kafka``
    options, record size limits, no automatic commits, and ``group.id`` = the name."""
    check_consumer_name(name)
    config = topic.driver.config
    limit = str(config.max_event_bytes + 1024)
    settings: dict[str, Any] = {
        "auto.offset.reset": "earliest",
        "enable.partition.eof": "false",
        "fetch.max.bytes": limit,
        # A fetch waiting for records holds up the commits behind it on the connection.
        "fetch.wait.max.ms": "20",
        "max.partition.fetch.bytes": limit,
        "receive.message.max.bytes": str(config.max_event_bytes + 2 * 2**20),
        "topic.metadata.refresh.interval.ms": "10000",
    }
    if batch_size != AdaptiveBatchSize and batch_size > 0:
        if max_num_batches != MaxNumBatchesInfinity and max_num_batches > 0:
            settings["queued.min.messages"] = str(min(batch_size * max_num_batches, 10_000_000))
    settings.update(config.client_settings(options, "kafka consumer"))
    # Forced: acknowledgements are the only commits, and the name is the group.
    settings["enable.auto.commit"] = "false"
    settings["enable.auto.offset.store"] = "false"
    settings["group.id"] = name
    return settings


class _Record:
    """The part of a fetched record an event's data is read from: its value, and where the
    data starts in it (the ``record`` given to :func:`select_event_data`)."""

    __slots__ = ("data_offset", "value")

    def __init__(self, value: bytes, data_offset: int) -> None:
        self.value = value
        self.data_offset = data_offset


def _not_an_event(value: bytes, problem: CorruptRecord, json_records: bool) -> tuple[Any, str]:
    """``(document, reason)`` of a value that is not in the event layout: its JSON document
    (reason unused) when ``json_records`` and it holds one, else :data:`NOT_JSON` and why it
    is not an event."""
    document = document_of(value) if json_records else NOT_JSON
    reason = str(problem)
    if json_records:
        reason += "; nor is it a JSON document"
    return document, reason


class KafkaConsumer(ConsumerInterface):
    """A consumer of one topic; one librdkafka consumer instance each."""

    def __init__(
        self,
        topic: KafkaTopicHandle,
        name: str,
        batch_size: int,
        max_num_batches: int,
        data_selector: DataSelector | None,
        data_allocator: DataAllocator | None,
        targets: Sequence[int] | None,
        options: dict[str, Any],
    ) -> None:
        self.topic = topic
        self.name = name
        self.data_selector = data_selector
        self.data_allocator = data_allocator
        #: ``event.data`` of an event without data when no selector or allocator function is
        #: called for it: worked out once (a copy per event).
        self._no_data: list[Any] | None = None
        if data_selector is None and data_allocator in (None, FULL_DATA_ALLOCATOR):
            self._no_data = list(select_event_data(None, 0, None, data_allocator, self, 0, None, 0))
        accepted = {
            **CONSUMER_OPTIONS,
            "json_records": Option(bool, topic.driver.config.json_records, _JSON_RECORDS_HELP),
        }
        values = parse_options(options, accepted, "kafka consumer", allow_unknown=True)
        self._skip_bad_records = values["skip_bad_records"]
        if values["shared_group"] and targets:
            raise InvalidArgument(
                f"Consumer {name!r}: a consumer of a shared group (shared_group) reads the "
                "partitions the group gives it; it cannot also have targets"
            )
        #: With shared_group, the partitions the group gave this consumer (None: all targets).
        self._owned: set[int] | None = set() if values["shared_group"] else None
        self._json_records = values["json_records"]
        self._bootstrap = topic.driver.config.bootstrap_servers
        self._kafka_topic = topic.kafka_topic
        self._deserialize = topic.serializer.deserialize
        #: How pull_many parses metadata in place (None: it cannot, :meth:`_take`).
        self._loads_metadata = prefixed_json_loads(topic.serializer)
        self._partition_info = topic.partitions
        self._targets = list(targets) if targets else list(range(topic.num_partitions))
        self._fetch = (
            DEFAULT_FETCH
            if batch_size == AdaptiveBatchSize or batch_size <= 0
            else min(batch_size, 100_000)
        )
        self._timeout_s = topic.driver.config.timeout_ms / 1000
        self._lock = threading.RLock()
        self._closed = False
        self._buffers: dict[int, deque[Message]] = {p: deque() for p in self._targets}
        self._cursor = 0
        #: Targeted partitions whose end-of-stream marker was delivered.
        self._ended: set[int] = set()
        #: Per partition, the offset the name committed (as far as this consumer knows).
        self._acked: dict[int, int] = {}
        settings = consumer_settings(topic, name, batch_size, max_num_batches, options)
        self._reachability = Reachability(
            self._timeout_s,
            self._ask_cluster,
            f"Consumer {name!r} of topic {topic.name!r}",
            self._bootstrap,
            chained=settings.get("error_cb"),
        )
        settings["error_cb"] = self._reachability.on_error
        try:
            self._client = Consumer(settings)
            self._released = False
            # Learn the partitions' leader now: after assign() alone, librdkafka's periodic
            # metadata timer would find it only up to a second later.
            self._client.list_topics(self._kafka_topic, timeout=self._timeout_s)
            if self._owned is None:
                self._next_offset = self._start_offsets()
                self._assign()
            else:
                self._next_offset = {}
                self._client.subscribe(
                    [self._kafka_topic], on_assign=self._on_assign, on_revoke=self._on_revoke
                )
        except KafkaException as error:
            raise diaspora_error(error, f"Creating consumer {name!r}", self._bootstrap) from None
        _open_consumers.add(self)

    def _ask_cluster(self, timeout_s: float) -> None:
        """A metadata request: raises ``KafkaException`` if the cluster does not answer."""
        self._client.list_topics(self._kafka_topic, timeout=timeout_s)

    def _assign(self) -> None:
        """Fetch every targeted partition from its next offset (librdkafka drops what it
        fetched ahead)."""
        self._client.assign(
            [TopicPartition(self._kafka_topic, p, o) for p, o in self._next_offset.items()]
        )

    def _on_assign(self, client: Consumer, partitions: list[TopicPartition]) -> None:
        """The group gave this consumer ``partitions``: fetch them from the group's offsets."""
        assert self._owned is not None
        given = [tp.partition for tp in partitions]
        offsets = self._committed(given)
        fresh = [p for p in given if p not in offsets]
        if fresh:
            admin = self.topic.driver.admin
            offsets.update(admin.partition_offsets(self._kafka_topic, fresh, earliest=True))
        for partition in given:
            self._next_offset[partition] = offsets[partition]
            self._buffers[partition].clear()
            self._owned.add(partition)
        client.assign([TopicPartition(self._kafka_topic, p, offsets[p]) for p in given])

    def _on_revoke(self, client: Consumer, partitions: list[TopicPartition]) -> None:
        """The group takes ``partitions`` back: what was fetched of them is another member's
        to deliver now (from the group's committed offsets)."""
        assert self._owned is not None
        for tp in partitions:
            self._owned.discard(tp.partition)
            self._buffers[tp.partition].clear()
            self._next_offset.pop(tp.partition, None)
        client.unassign()

    def _committed(self, partitions: Sequence[int]) -> dict[int, int]:
        """The offsets the group committed in ``partitions`` (absent: never)."""
        wanted = [TopicPartition(self._kafka_topic, p) for p in partitions]
        # Retried: a broker that just started answers "not coordinator" for a while.
        committed = self.topic.driver.admin.retrying(
            lambda: self._client.committed(wanted, timeout=self._timeout_s)
        )
        offsets = {tp.partition: tp.offset for tp in committed if tp.offset >= 0}
        for partition, offset in offsets.items():
            self._acked[partition] = max(offset, self._acked.get(partition, 0))
        return offsets

    def _start_offsets(self) -> dict[int, int]:
        """Where the group committed each targeted partition (its first stored offset if
        never): explicit offsets, which librdkafka starts fetching from at once."""
        offsets = self._committed(self._targets)
        fresh = [p for p in self._targets if p not in offsets]
        if fresh:
            admin = self.topic.driver.admin
            offsets.update(admin.partition_offsets(self._kafka_topic, fresh, earliest=True))
        return offsets

    # ------------------------------------------------------------------ seek

    def seek(self, positions: PartitionPositions) -> None:
        with self._lock:
            if self._closed:
                raise ClosedError(f"Consumer {self.name!r} is closed")
            if self._owned is not None:
                raise InvalidArgument(
                    f"Consumer {self.name!r} shares its group's partitions (shared_group): "
                    "they move between the group's members, so it cannot seek or start "
                    "elsewhere than at the acknowledged position"
                )
            try:
                offsets = self._offsets_of(positions)
            except KafkaException as error:
                raise diaspora_error(
                    error, f"Seeking consumer {self.name!r}", self._bootstrap
                ) from None
            for partition, offset in offsets.items():
                self._next_offset[partition] = offset
                self._buffers[partition].clear()
                self._ended.discard(partition)
            try:
                self._assign()
            except KafkaException as error:
                raise diaspora_error(
                    error, f"Seeking consumer {self.name!r}", self._bootstrap
                ) from None

    def _offsets_of(self, positions: PartitionPositions) -> dict[int, int]:
        """The next offset of each partition of ``positions``; raises for an id that is not
        (or no longer) stored."""
        admin = self.topic.driver.admin
        partitions = sorted(positions)
        low = admin.partition_offsets(self._kafka_topic, partitions, earliest=True)
        high = admin.partition_offsets(self._kafka_topic, partitions)
        if any(position is Position.ACKNOWLEDGED for position in positions.values()):
            acknowledged = self._committed(partitions)
        # A completed partition's end is its marker, delivered again as the sentinel.
        markers = completed.of(self._bootstrap, self._kafka_topic)
        if any(position is Position.END for position in positions.values()):
            markers = {**markers, **read_completion(admin, self._kafka_topic, partitions)}
        offsets: dict[int, int] = {}
        for partition, target in positions.items():
            if target is Position.BEGINNING:
                offsets[partition] = low[partition]
            elif target is Position.END:
                offsets[partition] = min(high[partition], markers.get(partition, high[partition]))
            elif target is Position.ACKNOWLEDGED:
                offsets[partition] = acknowledged.get(partition, low[partition])
            else:
                assert isinstance(target, int)
                if target > high[partition]:
                    raise DiasporaException(
                        f"Cannot seek partition {partition} of topic {self.topic.name!r} to "
                        f"event {target}: its last event id is {high[partition] - 1}; give "
                        f"an id up to {high[partition]} (Position.END)"
                    )
                if target < low[partition]:
                    raise DiasporaException(
                        f"Cannot seek partition {partition} of topic {self.topic.name!r} to "
                        f"event {target}: Kafka no longer stores it (retention); its first "
                        f"stored event is {low[partition]} (Position.BEGINNING)"
                    )
                offsets[partition] = target
        return offsets

    # ------------------------------------------------------------------ pull

    def pull(self) -> FutureEvent:
        if self._closed:
            raise ClosedError(f"Consumer {self.name!r} is closed; create a new consumer to pull")
        # The common case first: the event whose turn it is is already fetched.
        with self._lock:
            if not self._closed and self._buffers[self._targets[self._cursor]]:
                try:
                    event = self._deliver(self._cursor)
                except Exception as error:  # noqa: BLE001 - raised by wait, as pull_future
                    return FutureEvent(Completion.failed(error))
                if event is not None:
                    return FutureEvent(Completion.resolved(event))
        return pull_future(self._claim)

    def _claim(self, deadline: float | None) -> Event | None:
        """The next event in round-robin order, fetching until ``deadline`` (None: forever).

        The lock is taken for one slice of the wait at a time, so that ``close()`` (which
        marks the consumer closed first) gets it and the waiting threads see the mark.
        """
        while True:
            with self._lock:
                if self._closed:
                    raise ClosedError(f"Consumer {self.name!r} is closed")
                if len(self._ended) == len(self._targets):
                    partition = self._targets[0]
                    return Event(None, [], NoMoreEvents, self._partition_info[partition], partition)
                slot = self._next_slot()
                if slot is not None:
                    event = self._deliver(slot)
                    if event is not None:
                        return event
                    continue  # a bad record was skipped
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._reachability.check()
                self._fetch_records(_WAIT_SLICE_S if remaining is None else min(remaining, 1.0))

    def pull_many(self, max_events: int, deadline: float | None) -> PullResult:
        """Up to ``max_events`` events, the very ones ``pull`` would give in turn: claimed
        several under one acquisition of the lock, without a future each, fetching (as
        :meth:`_claim` does) until ``deadline`` when fewer are buffered."""
        events: list[Event] = []
        try:
            if self._closed:
                raise ClosedError(
                    f"Consumer {self.name!r} is closed; create a new consumer to pull"
                )
            while True:
                with self._lock:
                    if self._closed:
                        raise ClosedError(f"Consumer {self.name!r} is closed")
                    with collector_paused():
                        done = self._take(events, max_events)
                    if done:
                        return events, None
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return events, None
                    self._reachability.check()
                    self._fetch_records(_WAIT_SLICE_S if remaining is None else min(remaining, 1.0))
        except Exception as error:  # noqa: BLE001 - raised by the public layer in its turn
            return events, error

    def _take(self, events: list[Event], most: int) -> bool:
        """Append to ``events`` the events already fetched, in turn, up to ``most`` in all
        (lock held); whether the batch is done: full, or ended by a sentinel.

        A record in the event layout whose metadata the built-in serializer would read is
        decoded here in one go (header, length prefix, ``orjson.loads`` of the text in place);
        any other (a marker, a record that is not an event, another serializer's metadata,
        JSON that does not parse) is delivered by :meth:`_deliver`, as ``pull`` delivers it.
        """
        targets = self._targets
        if len(self._ended) == len(targets):
            partition = targets[0]
            events.append(Event(None, [], NoMoreEvents, self._partition_info[partition], partition))
            return True
        buffers, info, count = self._buffers, self._partition_info, len(targets)
        deliver, append, acknowledge = self._deliver, events.append, self._acknowledge
        no_data, loads = self._no_data, self._loads_metadata
        selector, allocator = self.data_selector, self.data_allocator
        taken = len(events)
        while taken < most:
            slot = self._cursor
            partition = targets[slot]
            buffer = buffers[partition]
            if not buffer:
                found = self._next_slot()
                if found is None:
                    return False
                slot = found
                partition = targets[slot]
                buffer = buffers[partition]
            message = buffer[0]
            value: bytes = message.value() or b""
            metadata: Any = _UNREAD
            if loads is not None and len(value) >= _HEAD_SIZE:
                metadata_size, data_size, text_size = _unpack_head(value)
                data_offset = HEADER_SIZE + metadata_size
                if data_offset + data_size == len(value) and text_size + 8 == metadata_size:
                    try:
                        metadata = loads(value[_HEAD_SIZE:data_offset])
                    except ValueError:
                        pass  # deserialize raises it, in _deliver
            if metadata is _UNREAD:
                event = deliver(slot)
                if event is None:
                    continue  # a bad record was skipped
                append(event)
                taken += 1
                if event.event_id is None:
                    return True
            else:
                offset: int = message.offset()  # type: ignore[assignment]
                if not data_size and no_data is not None:
                    data = no_data.copy()
                else:
                    data = select_event_data(
                        metadata,
                        data_size,
                        selector,
                        allocator,
                        self,
                        partition,
                        _Record(value, data_offset),
                        offset,
                    )
                buffer.popleft()
                self._cursor = (slot + 1) % count
                append(Event(metadata, data, offset, info[partition], partition, acknowledge))
                taken += 1
        return True

    def _next_slot(self) -> int | None:
        """The index in the targets of the partition the next event comes from, or None if a
        partition must be waited for (nothing buffered, or an event stored before the buffered
        ones in round-robin order)."""
        buffers, targets, cursor = self._buffers, self._targets, self._cursor
        if buffers[targets[cursor]]:
            return cursor  # its turn, and an event is there
        self._fetch_records(0)
        count = len(targets)
        order = [(cursor + step) % count for step in range(count)]
        first = next((step for step, slot in enumerate(order) if buffers[targets[slot]]), None)
        if first is None:
            return None
        ended = self._ended
        owned = self._owned
        passed_over = [
            targets[slot]
            for slot in order[:first]
            if targets[slot] not in ended and (owned is None or targets[slot] in owned)
        ]
        if passed_over and self._has_unfetched(passed_over):
            return None  # an event is stored in a partition that comes first
        return order[first]

    def _has_unfetched(self, partitions: list[int]) -> bool:
        """Whether one of ``partitions`` holds events this consumer has not fetched yet.

        The high watermarks of the last fetch responses answer first; the others are asked
        for on the driver's admin connection, which no long-polling fetch holds up.
        """
        for partition in partitions:
            tp = TopicPartition(self._kafka_topic, partition)
            _low, high = self._client.get_watermark_offsets(tp, cached=True)
            if high > self._next_offset[partition]:
                return True
        latest = self.topic.driver.admin.partition_offsets(self._kafka_topic, partitions)
        return any(latest[p] > self._next_offset[p] for p in partitions)

    def _fetch_records(self, timeout_s: float) -> None:
        """Move the records librdkafka fetched (waiting up to ``timeout_s``) to the buffers.

        The buffers hold librdkafka's message objects themselves: a record is only looked
        into when its turn comes (:meth:`_deliver`).
        """
        try:
            messages = fetch_available(self._client, self._fetch, timeout_s)
        except KafkaException as error:
            raise diaspora_error(error, f"Consumer {self.name!r}", self._bootstrap) from None
        if not messages:
            return
        buffers, next_offset, ended = self._buffers, self._next_offset, self._ended
        # Buffered even if not an event: it is reported on its turn, and the records fetched
        # with it are delivered after it. Records after a marker are never delivered.
        open_buffers = {
            p: buffer for p, buffer in buffers.items() if p in next_offset and p not in ended
        }
        sizes = {p: len(buffer) for p, buffer in open_buffers.items()}
        #: The last record of each partition that is not buffered (ended).
        last: dict[int, Message] = {}
        try:
            for message in messages:
                problem = message.error()
                if problem is not None:
                    if problem.fatal():
                        raise diaspora_error(KafkaException(problem), "Consuming", self._bootstrap)
                    continue  # transient: librdkafka retries by itself
                partition: int = message.partition()  # type: ignore[assignment]
                buffer = open_buffers.get(partition)
                if buffer is not None:
                    buffer.append(message)
                elif partition in ended and partition in next_offset and partition in buffers:
                    last[partition] = message
        finally:  # what was buffered is fetched, even if a later record raised
            for partition, buffer in open_buffers.items():
                if len(buffer) > sizes[partition]:
                    last[partition] = buffer[-1]
            for partition, message in last.items():
                next_offset[partition] = position(message)[1] + 1

    def _deliver(self, slot: int) -> Event | None:
        """The event of the first buffered record of partition ``slot``; ``None`` if that
        record is not an event and is skipped (it raises :class:`NotAnEvent` otherwise)."""
        targets = self._targets
        partition = targets[slot]
        buffer = self._buffers[partition]
        message = buffer[0]
        value: bytes = message.value() or b""
        offset: int = message.offset()  # type: ignore[assignment]
        try:
            data_offset, data_size = decode(value)
        except CorruptRecord as problem:
            return self._deliver_other(slot, value, offset, message.key(), problem)
        if data_size < 0:  # Octopus's end-of-stream marker
            buffer.clear()
            self._ended.add(partition)
            completed.add(self._bootstrap, self._kafka_topic, {partition: offset})
            self._cursor = (slot + 1) % len(targets)
            return Event(None, [], NoMoreEvents, self._partition_info[partition], partition)
        return self._deliver_event(slot, value, offset, data_offset, data_size)

    def _deliver_event(
        self, slot: int, value: bytes, offset: int, data_offset: int, data_size: int
    ) -> Event | None:
        """The event of the first buffered record of partition ``slot``, in the event layout
        (``value`` at ``offset``, its data at ``data_offset``); ``None`` if its metadata cannot
        be deserialized and it is skipped (it raises :class:`NotAnEvent` otherwise)."""
        targets = self._targets
        partition = targets[slot]
        # A bytes slice of the small metadata part is cheaper than a view when there is no
        # data to keep the value alive for.
        blob = memoryview(value)[HEADER_SIZE:data_offset] if data_size else value[HEADER_SIZE:]
        try:
            metadata = self._deserialize(blob)
        except DiasporaException as error:
            problem_text = f"its metadata cannot be deserialized ({error})"
            return self._pass_over(slot, problem_text, offset)
        if not data_size and self._no_data is not None:
            data = self._no_data.copy()
        else:
            data = select_event_data(
                metadata,
                data_size,
                self.data_selector,
                self.data_allocator,
                self,
                partition,
                _Record(value, data_offset),
                offset,
            )
        self._buffers[partition].popleft()
        self._cursor = (slot + 1) % len(targets)
        return Event(
            metadata,
            data,
            offset,
            self._partition_info[partition],
            partition,
            self._acknowledge,
        )

    def _deliver_other(
        self, slot: int, value: bytes, offset: int, key: bytes | None, problem: CorruptRecord
    ) -> Event | None:
        """The first buffered record of partition ``slot`` is not in the event layout: the
        event of its JSON document (``json_records``), else it is passed over."""
        partition = self._targets[slot]
        document, reason = _not_an_event(value, problem, self._json_records)
        if document is NOT_JSON:
            return self._pass_over(slot, reason, offset)
        data = select_event_data(
            document,
            0,
            self.data_selector,
            self.data_allocator,
            self,
            partition,
            _Record(value, len(value)),
            offset,
        )
        self._buffers[partition].popleft()
        self._cursor = (slot + 1) % len(self._targets)
        return JsonRecordEvent(
            document,
            data,
            offset,
            self._partition_info[partition],
            partition,
            self._acknowledge,
            key,
        )

    def _pass_over(self, slot: int, reason: str, offset: int) -> Event | None:
        """Drop the first buffered record of partition ``slot``, which is not an event: raise
        :class:`NotAnEvent` (or log it and return, with ``skip_bad_records``)."""
        partition = self._targets[slot]
        self._buffers[partition].popleft()
        self._cursor = (slot + 1) % len(self._targets)
        problem = NotAnEvent(
            reason,
            topic=self.topic.name,
            kafka_topic=self._kafka_topic,
            partition=partition,
            offset=offset,
            acknowledge=self._acknowledge,
        )
        pass_over(problem, self._skip_bad_records)
        return None

    # ------------------------------------------------ DataSource of the events

    def read_selected(
        self,
        partition: int,
        record: _Record,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy selected bytes out of the fetched record."""
        data = memoryview(record.value)[record.data_offset :]
        copy_segments(data, segments, destination)

    def read_whole(self, partition: int, record: _Record) -> memoryview:
        """The data part of the fetched record, without a copy (read-only)."""
        return memoryview(record.value)[record.data_offset :]

    # ------------------------------------------------------------ acknowledge

    def _acknowledge(self, partition: int, event_id: int) -> None:
        if self._closed:
            raise ClosedError(f"Consumer {self.name!r} is closed; cannot acknowledge")
        offsets = [TopicPartition(self._kafka_topic, partition, event_id + 1)]
        try:
            with self._lock:
                if self._acked.get(partition, 0) > event_id:
                    return  # behind the name's position (a replay): it never moves back
                self._client.commit(offsets=offsets, asynchronous=False)
                self._acked[partition] = event_id + 1
        except KafkaException as error:
            raise diaspora_error(
                error, f"Acknowledging event {event_id} of partition {partition}", self._bootstrap
            ) from None

    def __del__(self) -> None:
        # librdkafka consumers destroyed without close() can abort the process (the garbage
        # collector may do it in any thread): close it first.
        if not getattr(self, "_released", True):
            try:
                self.close()
            except Exception:  # noqa: BLE001 - never raise from a finalizer
                pass

    def close(self) -> None:
        # Marked closed before the lock is taken: a thread waiting in a pull holds the lock a
        # slice of its wait at a time, sees the mark, and raises ClosedError.
        self._closed = True
        with self._lock:
            if self._released:
                return
            self._released = True
            _open_consumers.discard(self)
            self._buffers.clear()
            self._client.close()


@atexit.register
def _close_consumers_at_exit() -> None:
    for consumer in list(_open_consumers):
        try:
            consumer.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
