"""Deliberately broken backends for the meta-tests of the conformance suite.

Each backend is the built-in ``memory`` backend (:class:`MemoryDriver`, :class:`MemoryTopic`)
with ONE realistic bug, registered by name with :func:`diaspora_stream.api.register_driver` when
this module is imported. The suite reaches them from a pytest subprocess (and from the child
processes of its capability checks) as ``"NAME:broken_backends"``, with this directory on
``PYTHONPATH``.

:data:`BROKEN_BACKENDS` lists them with the bug in one sentence and the suite tests known to
catch it (:mod:`test_meta` runs the whole suite on each and checks that it fails in one of
them). :data:`CORRECT_BACKEND` is the memory backend without a bug, registered the same way, on
which the suite must pass: it proves that the failures come from the bugs, not from the
harness.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import queue
import struct
import threading
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from broken_batches import BATCH_BUGS
from broken_clients import CLIENT_BUGS
from broken_failures import FAILURE_BUGS
from broken_persistent import PERSISTENT_BUGS
from broken_positions import POSITION_BUGS
from broken_storage import STORAGE_BUGS
from scaffolding import (
    MODULE,
    BrokenBackend,
    backend_name,
    memory_driver,
    shared_state,
)

from diaspora_stream.api import (
    AppendRecord,
    LogTopic,
    StoredRecord,
    TopicConfig,
    register_driver,
)
from diaspora_stream.backend.full import ConsumerInterface, DataAllocator, DataSelector
from diaspora_stream.backend.log_adapter import LogDriverAdapter, LogTopicHandle
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic
from diaspora_stream.buffers import scatter
from diaspora_stream.thread_pool import ThreadPool

__all__ = [
    "BROKEN_BACKENDS",
    "CORRECT_BACKEND",
    "MODULE",
    "STATEFUL_TEST",
    "BrokenBackend",
    "backend_name",
]


class _BatchTrackingTopic(MemoryTopic):
    """Remembers the first id of every ``append`` call (the batch boundaries)."""

    def _batch_starts(self, partition: int) -> set[int]:
        """The first ids of the appends to ``partition`` (shared by the topic's handles)."""
        starts: list[set[int]] = shared_state(
            self, "meta_batch_starts", lambda: [set() for _ in range(self.num_partitions)]
        )
        return starts[partition]

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append as the memory backend does, remembering where the batch starts."""
        starts = self._batch_starts(partition)
        first_id = super().append(partition, records)
        with self._store.lock:
            starts.add(first_id)
        return first_id


# ------------------------------------------------------------------------------ the bugs


class LostAtBatchBoundaryTopic(_BatchTrackingTopic):
    """A read that crosses from one appended batch into the next skips the next batch's first
    record (an off-by-one when stepping from batch to batch)."""

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Read as the memory backend does, then drop records that start a later batch."""
        records = super().read(partition, start, max_count)
        shared = self._batch_starts(partition)
        with self._store.lock:
            starts = set(shared)
        return [r for r in records if r.event_id == start or r.event_id not in starts]


class IdsOffByOneAfterReopenTopic(MemoryTopic):
    """A handle opened on a non-empty partition recovers its next id as ``count + 1``: push
    futures of events appended through it give ids one too high."""

    def __init__(self, name: str, store: Any) -> None:
        """Open the handle, noting which partitions already hold events."""
        super().__init__(name, store)
        with store.lock:
            self._reopened = [bool(partition.metadata) for partition in store.partitions]

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append; the id returned is one too high on partitions non-empty at open time."""
        first_id = super().append(partition, records)
        return first_id + 1 if self._reopened[partition] else first_id


class ReorderedAcrossBatchesTopic(_BatchTrackingTopic):
    """A read spanning several appended batches returns the batches last-first, numbering the
    records in the order returned (ids stay dense, contents are out of push order)."""

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Read, then return the batches of the result last-first, renumbered from ``start``."""
        records = list(super().read(partition, start, max_count))
        shared = self._batch_starts(partition)
        with self._store.lock:
            starts = set(shared)
        groups: list[list[StoredRecord]] = []
        for record in records:
            if not groups or record.event_id in starts:
                groups.append([])
            groups[-1].append(record)
        reordered = [record for group in reversed(groups) for record in group]
        return [
            StoredRecord(start + n, record.metadata, record.data_size, record.locator)
            for n, record in enumerate(reordered)
        ]

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the selected bytes of the record stored at ``record.locator``."""
        data = memoryview(self._partition(partition).data[record.locator])
        scatter([data[offset : offset + size] for offset, size in segments], destination)


class AcknowledgementIgnoredTopic(MemoryTopic):
    """``store_acknowledgement`` does nothing (while acknowledgements are declared)."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Forget the acknowledgement."""
        return None


class AcknowledgementWrongPartitionTopic(MemoryTopic):
    """Acknowledgements are stored under the next partition (a 1-based index in the table)."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Store the acknowledgement under the next partition."""
        super().store_acknowledgement(
            consumer_name, (partition + 1) % self.num_partitions, event_id
        )


class AcknowledgementsSharedByNamesTopic(MemoryTopic):
    """Acknowledged positions are kept per partition only: every consumer name shares them."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Store the position under one name shared by every consumer."""
        super().store_acknowledgement("", partition, event_id)

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """Load the position shared by every consumer."""
        return super().load_acknowledgements("")


class DuplicateAfterRestartTopic(MemoryTopic):
    """``load_acknowledgements`` gives the position before the acknowledged event, so a
    consumer re-created with the same name gets the acknowledged event again."""

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """The acknowledged positions, each one event too early."""
        return {
            p: event_id - 1 for p, event_id in super().load_acknowledgements(consumer_name).items()
        }


class StridedReadsGapTopic(MemoryTopic):
    """``read_data`` given several segments reads one contiguous span from the first offset
    (a "coalescing" optimization that forgets the gaps)."""

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Read one span from the first offset instead of each segment."""
        if len(segments) > 1:
            segments = [(segments[0][0], sum(size for _, size in segments))]
        super().read_data(partition, record, segments, destination)


class ComposedViewsMisreadTopic(MemoryTopic):
    """``read_data`` takes the offsets of the second and later segments as relative to the first
    segment's offset instead of as offsets in the event's data."""

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Read the later segments at the first offset plus their own offset."""
        if len(segments) > 1:
            base = segments[0][0]
            segments = [segments[0], *((base + offset, size) for offset, size in segments[1:])]
        super().read_data(partition, record, segments, destination)


_LENGTH = struct.Struct("<Q")


class MetadataLastKeyDroppedTopic(MemoryTopic):
    """Rewrites metadata objects on read (to strip its own bookkeeping) with an off-by-one
    that drops their last key. Only the default serializer's format is rewritten."""

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Read, rewriting each metadata blob with :meth:`_rewrite`."""
        records = super().read(partition, start, max_count)
        for record in records:
            record.metadata = self._rewrite(bytes(record.metadata))
        return records

    @staticmethod
    def _rewrite(blob: bytes) -> bytes:
        """Re-encode a default-serializer object without its last key."""
        if len(blob) < _LENGTH.size:
            return blob
        (length,) = _LENGTH.unpack_from(blob)
        try:
            value = json.loads(blob[_LENGTH.size : _LENGTH.size + length])
        except ValueError:
            return blob
        if not isinstance(value, dict) or len(value) < 2:
            return blob
        keys = list(value)
        text = json.dumps({key: value[key] for key in keys[: len(keys) - 1]}).encode()
        return _LENGTH.pack(len(text)) + text


class ValidatorDroppedDriver(MemoryDriver):
    """``create_topic`` stores the topic configuration without its validator: events the
    validator would reject are stored."""

    def create_topic(self, name: str, config: TopicConfig) -> None:
        """Create the topic, storing its configuration without the validator."""
        super().create_topic(name, dataclasses.replace(config, validator=None))


class SerializerLostOnReopenDriver(MemoryDriver):
    """The first handle of a topic has its serializer; every later ``open_topic`` returns the
    configuration without it, so reopened topics deserialize with the default serializer."""

    def open_topic(self, name: str) -> LogTopic:
        """Open the topic; every open after the first loses the serializer."""
        topic = super().open_topic(name)
        assert isinstance(topic, MemoryTopic)
        opens = shared_state(topic, "meta_opens", itertools.count)
        if next(opens) > 0:
            topic.config = dataclasses.replace(topic.config, serializer=None)
        return topic


class DataTruncatedToItemCountTopic(MemoryTopic):
    """Sizes each data segment as ``len()`` of the object that exported it (its item count,
    not its byte count) to hand the original object to storage: typed arrays are cut short."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append each segment cut to its exporter's item count."""
        cut = []
        for record in records:
            segments = tuple(segment[: _item_count(segment)] for segment in record.data)
            cut.append(AppendRecord(record.metadata, segments, sum(s.nbytes for s in segments)))
        return super().append(partition, cut)


def _item_count(segment: memoryview) -> int:
    """``len()`` of the object that exported ``segment`` (at most its byte count)."""
    exporter: Any = segment.obj
    try:
        return min(len(exporter), segment.nbytes)
    except TypeError:
        return segment.nbytes


class EmptySegmentEndsDataTopic(MemoryTopic):
    """Takes an empty data segment as the end of the segment list: the segments after it
    are lost."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append each event's segments up to the first empty one."""
        cut = []
        for record in records:
            segments = tuple(itertools.takewhile(lambda s: s.nbytes > 0, record.data))
            cut.append(AppendRecord(record.metadata, segments, sum(s.nbytes for s in segments)))
        return super().append(partition, cut)


class FlushBeforeWriteTopic(MemoryTopic):
    """``append`` reserves ids and returns at once; a background writer stores the records
    0.2 s later, and ``sync`` does not wait for it: a completed flush does not mean visible."""

    DELAY_S: ClassVar[float] = 0.2

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Reserve ids and queue the records for the late writer; return at once."""
        copies = [
            AppendRecord(record.metadata, (memoryview(b"".join(record.data)),), record.data_size)
            for record in records
        ]
        reserved: list[int] = shared_state(self, "meta_reserved", lambda: [0] * self.num_partitions)
        writer: queue.Queue[tuple[float, int, list[AppendRecord]]] = shared_state(
            self, "meta_writer", self._start_writer
        )
        with self._store.lock:
            first_id = reserved[partition]
            reserved[partition] += len(copies)
            writer.put((time.monotonic() + self.DELAY_S, partition, copies))
        return first_id

    def _start_writer(self) -> queue.Queue[tuple[float, int, list[AppendRecord]]]:
        """Start the store's writer thread and return its queue."""
        pending: queue.Queue[tuple[float, int, list[AppendRecord]]] = queue.Queue()
        store = self._store

        def write() -> None:
            """Store each queued batch once its delay has passed."""
            while True:
                due, partition, records = pending.get()
                time.sleep(max(0.0, due - time.monotonic()))
                stored = store.partitions[partition]
                with store.lock:
                    stored.metadata.extend(bytes(record.metadata) for record in records)
                    stored.data.extend(bytes(record.data[0]) for record in records)

        threading.Thread(target=write, name="meta-late-writer", daemon=True).start()
        return pending


class PartialRecordVisibleTopic(MemoryTopic):
    """``append`` publishes the metadata first and the data 0.1 s later: a concurrent reader
    sees records whose data is still empty."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Publish the metadata, wait, then fill in the data."""
        stored = self._partition(partition)
        with self._store.lock:
            first_id = len(stored.metadata)
            stored.metadata.extend(bytes(record.metadata) for record in records)
            stored.data.extend(b"" for _ in records)
        time.sleep(0.1)
        with self._store.lock:
            for n, record in enumerate(records):
                stored.data[first_id + n] = b"".join(record.data)
        return first_id


class TopicWideIdsTopic(MemoryTopic):
    """Ids come from one sequence per topic instead of one per partition."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append with ids taken from the topic-wide sequence."""
        counter: list[int] = shared_state(self, "meta_topic_ids", lambda: [0])
        ids: list[list[int]] = shared_state(
            self, "meta_ids", lambda: [[] for _ in range(self.num_partitions)]
        )
        stored = self._partition(partition)
        with self._store.lock:
            first_id = counter[0]
            counter[0] += len(records)
            ids[partition].extend(range(first_id, first_id + len(records)))
            stored.metadata.extend(bytes(record.metadata) for record in records)
            stored.data.extend(b"".join(record.data) for record in records)
        return first_id

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Records of ``partition`` whose (topic-wide) id is ``start`` or more."""
        ids: list[list[int]] = shared_state(
            self, "meta_ids", lambda: [[] for _ in range(self.num_partitions)]
        )
        stored = self._partition(partition)
        with self._store.lock:
            chosen = [(n, i) for n, i in enumerate(ids[partition]) if i >= start][:max_count]
            return [
                StoredRecord(event_id, stored.metadata[n], len(stored.data[n]), n)
                for n, event_id in chosen
            ]

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the selected bytes of the record stored at ``record.locator``."""
        data = memoryview(self._partition(partition).data[record.locator])
        scatter([data[offset : offset + size] for offset, size in segments], destination)


class NewestTopicUnlistedDriver(MemoryDriver):
    """``list_topics`` leaves out the most recently created topic (an off-by-one in paging)."""

    def list_topics(self) -> dict[str, dict[str, Any]]:
        """Every topic but the most recently created one."""
        listed = super().list_topics()
        if listed:
            del listed[list(listed)[-1]]
        return listed


class TopicExistsAlwaysDriver(MemoryDriver):
    """``topic_exists`` answers True for any name."""

    def topic_exists(self, name: str) -> bool:
        """Always True."""
        return True


class DuplicateCreateReplacesDriver(MemoryDriver):
    """Creating a topic that exists silently replaces it (its events are lost)."""

    def create_topic(self, name: str, config: TopicConfig) -> None:
        """Replace any topic of that name by a new, empty one."""
        with self._lock:
            self._topics.pop(name, None)
        super().create_topic(name, config)


class AcknowledgementsAbsentButWorkingDriver(MemoryDriver):
    """Declares ``acknowledgements`` absent but still records them (half-working)."""

    capabilities = dataclasses.replace(MemoryDriver.capabilities, acknowledgements=False)


class ClaimsPersistentTopicsDriver(MemoryDriver):
    """Declares ``persistent_topics`` while topics live in the driver object only."""

    capabilities = dataclasses.replace(MemoryDriver.capabilities, persistent_topics=True)


# -------------------------------------------------------------- a full-level wrapper


class TargetsIgnoredHandle(LogTopicHandle):
    """A topic handle whose consumers read every partition, whatever their ``targets``."""

    def make_consumer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        thread_pool: ThreadPool,
        data_selector: DataSelector | None,
        data_allocator: DataAllocator | None,
        targets: Sequence[int] | None,
        options: dict[str, Any],
    ) -> ConsumerInterface:
        """A consumer of every partition: ``targets`` is dropped."""
        return super().make_consumer(
            name,
            batch_size,
            max_num_batches,
            thread_pool,
            data_selector,
            data_allocator,
            None,
            options,
        )


class TargetsIgnoredDriver(LogDriverAdapter):
    """A full-level backend (the memory backend behind the full interface) whose consumers
    ignore ``targets``."""

    def __init__(self) -> None:
        """Wrap a new memory driver."""
        super().__init__(MemoryDriver())

    @classmethod
    def create(cls, options: dict[str, Any]) -> TargetsIgnoredDriver:
        """Create the driver (checks options as the memory backend does)."""
        MemoryDriver.create(options)
        return cls()

    def open_topic(self, name: str) -> LogTopicHandle:
        """Open ``name`` with a :class:`TargetsIgnoredHandle`."""
        plain = super().open_topic(name)
        assert isinstance(plain, LogTopicHandle)
        return TargetsIgnoredHandle(plain.log_topic, self.capabilities)


class CorrectMemoryDriver(MemoryDriver):
    """The memory backend, unchanged: the control of the meta-tests."""


# ------------------------------------------------------------------------- registry

_ACK = "AcknowledgementRules::test_acknowledge_then_resume_by_name"
_ACK_PARTITION = "AcknowledgementRules::test_acknowledgement_is_per_partition"
_ACK_CAPABILITY = "CapabilityTests::test_acknowledgements"
#: The model-based test; the only one that catches bugs no catalogue test is written for.
STATEFUL_TEST = "StatefulTests::test_random_programs_match_the_model"
_VIEWS = (
    "SelectionRules::test_select_strided_view",
    "SelectionRules::test_select_unstructured_view",
    "SelectionRules::test_composed_views_select_relative_bytes",
    "CapabilityTests::test_partial_data_reads",
)

_SUITE_BUGS: tuple[BrokenBackend, ...] = (
    BrokenBackend(
        "meta-lost-at-batch-boundary",
        "a read crossing into the next appended batch skips that batch's first event",
        (
            "ThreadRules::test_ids_exact_with_concurrent_producers",
            "ThreadRules::test_concurrent_producer_and_consumer",
            "CapabilityTests::test_multi_process_producers_absent",
        ),
        memory_driver(LostAtBatchBoundaryTopic),
    ),
    BrokenBackend(
        "meta-ids-off-by-one-after-reopen",
        "a handle opened on a non-empty partition gives push ids one too high",
        ("ElsewhereRules::test_handles_of_one_topic_never_give_another_writers_id", STATEFUL_TEST),
        memory_driver(IdsOffByOneAfterReopenTopic),
    ),
    BrokenBackend(
        "meta-reordered-across-batches",
        "a read spanning several appended batches returns them last-first",
        (
            "ConsumingRules::test_consume_events_in_push_order",
            "ThreadRules::test_ids_exact_with_concurrent_producers",
            "ThreadRules::test_strict_ordering_with_thread_pool",
        ),
        memory_driver(ReorderedAcrossBatchesTopic),
    ),
    BrokenBackend(
        "meta-acknowledgement-ignored",
        "store_acknowledgement does nothing",
        (_ACK, _ACK_PARTITION, _ACK_CAPABILITY),
        memory_driver(AcknowledgementIgnoredTopic),
    ),
    BrokenBackend(
        "meta-acknowledgement-wrong-partition",
        "acknowledgements are stored under the next partition",
        (_ACK_PARTITION, _ACK_CAPABILITY),
        memory_driver(AcknowledgementWrongPartitionTopic),
    ),
    BrokenBackend(
        "meta-acknowledgements-shared-by-names",
        "acknowledged positions ignore the consumer name",
        (_ACK,),
        memory_driver(AcknowledgementsSharedByNamesTopic),
    ),
    BrokenBackend(
        "meta-duplicate-after-restart",
        "load_acknowledgements returns the position before the acknowledged event",
        (_ACK, _ACK_PARTITION, _ACK_CAPABILITY),
        memory_driver(DuplicateAfterRestartTopic),
    ),
    BrokenBackend(
        "meta-strided-view-reads-gap",
        "read_data reads one contiguous span for several segments",
        _VIEWS,
        memory_driver(StridedReadsGapTopic),
    ),
    BrokenBackend(
        "meta-composed-views-misread",
        "read_data takes later segments' offsets relative to the first segment",
        _VIEWS,
        memory_driver(ComposedViewsMisreadTopic),
    ),
    BrokenBackend(
        "meta-metadata-last-key-dropped",
        "metadata objects lose their last key on read",
        (
            "ProducingRules::test_metadata_round_trip",
            "ProducingRules::test_str_metadata_is_json_text",
            "ProducingRules::test_push_ids_dense_per_partition",
        ),
        memory_driver(MetadataLastKeyDroppedTopic),
    ),
    BrokenBackend(
        "meta-validator-dropped",
        "create_topic stores the configuration without the validator",
        (
            "ComponentRules::test_python_components_survive_reopening",
            "BadInputTests::test_validator_rejecting",
            "BadInputTests::test_schema_validator_rejecting",
        ),
        ValidatorDroppedDriver,
    ),
    BrokenBackend(
        "meta-serializer-lost-on-reopen",
        "reopened topics lose their serializer and deserialize with the default one",
        ("ComponentRules::test_python_components_survive_reopening",),
        SerializerLostOnReopenDriver,
    ),
    BrokenBackend(
        "meta-data-truncated-to-item-count",
        "segments are sized by their exporter's item count, not bytes",
        ("InputViewRules::test_data_length_is_nbytes",),
        memory_driver(DataTruncatedToItemCountTopic),
    ),
    BrokenBackend(
        "meta-targets-ignored",
        "consumers read every partition whatever their targets (full level)",
        ("ConsumingRules::test_targets_restrict_partitions",),
        TargetsIgnoredDriver,
    ),
    BrokenBackend(
        "meta-empty-segment-ends-data",
        "an empty data segment ends the segment list: later segments are lost",
        ("ProducingRules::test_data_round_trip_buffers_and_segments",),
        memory_driver(EmptySegmentEndsDataTopic),
    ),
    BrokenBackend(
        "meta-flush-before-write",
        "append returns before storing and sync does not wait: flush completes too early",
        ("ConsumingRules::test_process_until_stop_event_processor",),
        memory_driver(FlushBeforeWriteTopic),
    ),
    BrokenBackend(
        "meta-partial-record-visible",
        "metadata is published before the data: readers see empty data",
        ("ThreadRules::test_producer_faster_than_consumer",),
        memory_driver(PartialRecordVisibleTopic),
    ),
    BrokenBackend(
        "meta-topic-wide-ids",
        "ids come from one sequence per topic, not per partition",
        (
            "ProducingRules::test_push_ids_dense_per_partition",
            _ACK_PARTITION,
            _ACK_CAPABILITY,
        ),
        memory_driver(TopicWideIdsTopic),
    ),
    BrokenBackend(
        "meta-newest-topic-unlisted",
        "list_topics leaves out the most recently created topic",
        (
            "TopicRules::test_created_topic_exists",
            "TopicRules::test_list_topics_describes_topics",
        ),
        NewestTopicUnlistedDriver,
    ),
    BrokenBackend(
        "meta-topic-exists-always",
        "topic_exists is True for any name",
        (
            "TopicRules::test_missing_topic_does_not_exist_and_open_raises",
            "CapabilityTests::test_persistent_topics_absent",
        ),
        TopicExistsAlwaysDriver,
    ),
    BrokenBackend(
        "meta-duplicate-create-replaces",
        "creating an existing topic replaces it instead of raising",
        ("TopicRules::test_duplicate_create_raises",),
        DuplicateCreateReplacesDriver,
    ),
    BrokenBackend(
        "meta-acknowledgements-absent-but-working",
        "declares acknowledgements absent but records them anyway",
        ("CapabilityTests::test_acknowledgements_absent",),
        AcknowledgementsAbsentButWorkingDriver,
    ),
    BrokenBackend(
        "meta-claims-persistent-topics",
        "declares persistent_topics but keeps topics in the driver object",
        (
            "CapabilityTests::test_persistent_topics",
            "ComponentRules::test_python_components_survive_reopening",
            "CapabilityTests::test_durable_flush_absent",
        ),
        ClaimsPersistentTopicsDriver,
    ),
)

#: Every broken backend: the bugs above, then those of each rule family's module.
BROKEN_BACKENDS: tuple[BrokenBackend, ...] = (
    *_SUITE_BUGS,
    *STORAGE_BUGS,
    *CLIENT_BUGS,
    *PERSISTENT_BUGS,
    *FAILURE_BUGS,
    *POSITION_BUGS,
    *BATCH_BUGS,
)

#: The memory backend without a bug, reached exactly like the broken ones.
CORRECT_BACKEND = BrokenBackend("meta-correct-memory", "none", (), CorrectMemoryDriver)

for _backend in (*BROKEN_BACKENDS, CORRECT_BACKEND):
    register_driver(_backend.name, _backend.driver)
