"""Broken log-level storage: the memory backend with one realistic storage bug each.

The bugs of a first engine's storage layer: data taken from the buffer behind a view, caller
buffers kept instead of copied, chunks misread at their boundaries, batches cut at a fixed
size, appends that race, names folded into others, ids cached per handle.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from scaffolding import BrokenBackend, memory_driver, shared_state

from diaspora_stream.api import AppendRecord, LogTopic, StoredRecord, TopicConfig
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic
from diaspora_stream.buffers import scatter

__all__ = ["STORAGE_BUGS"]


class ExporterBytesTopic(MemoryTopic):
    """Stores each data segment as the whole buffer of the object that exported it (a
    "zero-copy" path that hands storage the original object): views store their base."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append each segment replaced by its exporter's whole buffer."""
        widened = []
        for record in records:
            segments = tuple(_exporter_view(segment) for segment in record.data)
            widened.append(AppendRecord(record.metadata, segments, sum(s.nbytes for s in segments)))
        return super().append(partition, widened)


def _exporter_view(segment: memoryview) -> memoryview:
    """A byte view of the whole object behind ``segment`` when it has one, else ``segment``."""
    exporter: Any = segment.obj
    try:
        whole = memoryview(exporter)
    except TypeError:
        return segment
    if not whole.contiguous:
        return segment
    return whole.cast("B") if whole.ndim else segment


class KeepsCallerBuffersTopic(MemoryTopic):
    """Keeps the caller's data segments by reference instead of copying them (saves a copy):
    a caller that reuses its buffer after the flush changes stored events."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append, keeping each record's segments to read its data from later."""
        first_id = super().append(partition, records)
        kept: dict[tuple[int, int], tuple[memoryview, ...]] = shared_state(
            self, "meta_kept_segments", dict
        )
        with self._store.lock:
            for n, record in enumerate(records):
                kept[(partition, first_id + n)] = record.data
        return first_id

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the selected bytes from the caller's buffers as they are now."""
        kept = shared_state(self, "meta_kept_segments", dict)
        data = memoryview(b"".join(kept[(partition, record.event_id)]))
        scatter([data[offset : offset + size] for offset, size in segments], destination)

    def read_full_data(self, partition: int, records: Sequence[StoredRecord]) -> list[memoryview]:
        """Whole data read from the caller's buffers as they are now."""
        return LogTopic.read_full_data(self, partition, records)


class ChunkBoundaryTopic(MemoryTopic):
    """Keeps data in 1 MiB chunks; a read that crosses into the next chunk resumes one byte
    too far (an off-by-one in the chunk arithmetic)."""

    CHUNK = 1 << 20

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy each segment chunk by chunk, skipping a byte at every chunk boundary."""
        data = memoryview(self._partition(partition).data[record.event_id])
        pieces = []
        for offset, size in segments:
            piece = bytearray()
            position, end = offset, offset + size
            while position < end:
                chunk_end = min(end, (position // self.CHUNK + 1) * self.CHUNK)
                piece += data[position:chunk_end]
                position = chunk_end + (1 if chunk_end < end else 0)
            pieces.append(memoryview(bytes(piece.ljust(size, b"\0"))))
        scatter(pieces, destination)

    def read_full_data(self, partition: int, records: Sequence[StoredRecord]) -> list[memoryview]:
        """Whole data read through :meth:`read_data` (so whole reads cross chunks too)."""
        return LogTopic.read_full_data(self, partition, records)


class BatchCappedTopic(MemoryTopic):
    """Stores at most 4096 records of one append (a fixed-size batch header): the rest of a
    larger batch is silently dropped."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append the first 4096 records."""
        return super().append(partition, records[:4096])


class UnlockedAppendTopic(MemoryTopic):
    """Takes the next id and stores the records in two steps without a lock (the I/O in
    between lets concurrent appends to one partition take the same ids)."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Read the partition's length, write, then extend it: a race between appends."""
        stored = self._partition(partition)
        first_id = len(stored.metadata)
        time.sleep(0.002)  # the write of the records' bytes
        with self._store.lock:
            for n, record in enumerate(records):
                position = first_id + n
                metadata, data = bytes(record.metadata), b"".join(record.data)
                if position < len(stored.metadata):
                    stored.metadata[position], stored.data[position] = metadata, data
                else:
                    stored.metadata.append(metadata)
                    stored.data.append(data)
        return first_id


class HandleCachesNextIdTopic(MemoryTopic):
    """Each handle counts the events of a partition once, when it first appends, and gives
    ids from its own counter after that: ids given through one handle name events that
    another handle appended."""

    def __init__(self, name: str, store: Any) -> None:
        """Open the handle with an empty id cache."""
        super().__init__(name, store)
        self._next: dict[int, int] = {}
        self._lock = threading.Lock()

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append, answering with this handle's cached next id."""
        real_first = super().append(partition, records)
        with self._lock:
            first_id = self._next.get(partition, real_first)
            self._next[partition] = first_id + len(records)
        return first_id


class MetadataLength16BitsTopic(MemoryTopic):
    """Keeps each record's metadata length in 16 bits: metadata of 64 KiB or more is cut to
    its length modulo 65,536."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append each record's metadata cut as a 16-bit length field would cut it."""
        cut = [
            AppendRecord(
                bytes(record.metadata)[: len(record.metadata) % 65_536],
                record.data,
                record.data_size,
            )
            for record in records
        ]
        return super().append(partition, cut)


class TwoDigitPartitionsTopic(MemoryTopic):
    """Names partitions' storage with two decimal digits: partition 100 shares partition 0's
    storage (and 101 shares 1's, ...)."""

    def _partition(self, partition: int) -> Any:
        return super()._partition(partition % 100)


def _sanitized(name: str) -> str:
    """``name`` with every character but letters, digits and ``-`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9-]", "_", name)


class SanitizedConsumerNamesTopic(MemoryTopic):
    """Keeps acknowledged positions under a sanitized consumer name (as a file name would
    be): names differing only in punctuation share a position."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Store under the sanitized name."""
        super().store_acknowledgement(_sanitized(consumer_name), partition, event_id)

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """Load from the sanitized name."""
        return super().load_acknowledgements(_sanitized(consumer_name))


class CaseFoldedConsumerNamesTopic(MemoryTopic):
    """Keeps acknowledged positions under the lower-cased consumer name (a case-insensitive
    store): names differing only in case share a position."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Store under the lower-cased name."""
        super().store_acknowledgement(consumer_name.lower(), partition, event_id)

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """Load from the lower-cased name."""
        return super().load_acknowledgements(consumer_name.lower())


_POSITIONS_BY_NAME: dict[tuple[str, int], int] = {}


class PositionsSharedAcrossTopicsTopic(MemoryTopic):
    """Keeps acknowledged positions in one table keyed by consumer name and partition, for
    every topic: one name used on two topics shares one position."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Store in the process-wide table."""
        _POSITIONS_BY_NAME[(consumer_name, partition)] = event_id

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """Load from the process-wide table."""
        return {
            partition: event_id
            for (name, partition), event_id in _POSITIONS_BY_NAME.items()
            if name == consumer_name and partition < self.num_partitions
        }


class SanitizedTopicNamesDriver(MemoryDriver):
    """Keeps topics under sanitized names (as directory names would be) and lists those:
    topic names differing only in punctuation are folded into one."""

    def create_topic(self, name: str, config: TopicConfig) -> None:
        """Create the topic under its sanitized name."""
        super().create_topic(_sanitized(name), config)

    def open_topic(self, name: str) -> Any:
        """Open the topic stored under the sanitized name."""
        topic = super().open_topic(_sanitized(name))
        topic.name = name
        return topic

    def topic_exists(self, name: str) -> bool:
        """Whether a topic is stored under the sanitized name."""
        return super().topic_exists(_sanitized(name))


_NAMES = "NameRules::test_consumer_names_differing_only_in_form_keep_their_own_positions"
_TOPIC_NAMES = "NameRules::test_topic_names_differing_only_in_form_are_distinct"
_BIG = "BoundaryRules::test_big_event_whole_and_across_every_power_of_two"
_HANDLES = "ElsewhereRules::test_handles_of_one_topic_never_give_another_writers_id"

#: The storage bugs and the suite tests that must catch them.
STORAGE_BUGS: tuple[BrokenBackend, ...] = (
    BrokenBackend(
        "meta-stores-view-exporter",
        "a data segment given as a view is stored as the whole buffer behind the view",
        ("InputViewRules::test_data_given_as_views_stores_the_viewed_bytes",),
        memory_driver(ExporterBytesTopic),
    ),
    BrokenBackend(
        "meta-keeps-caller-buffers",
        "data is kept by reference to the caller's buffers, not copied",
        ("InputViewRules::test_buffers_changed_after_flush_do_not_change_stored_events",),
        memory_driver(KeepsCallerBuffersTopic),
    ),
    BrokenBackend(
        "meta-chunk-boundary-off-by-one",
        "data kept in 1 MiB chunks; a read crossing a chunk boundary skips one byte",
        (_BIG, "BoundaryRules::test_large_event_round_trip"),
        memory_driver(ChunkBoundaryTopic),
    ),
    BrokenBackend(
        "meta-batch-capped-at-4096",
        "an append of more than 4096 records stores the first 4096 only",
        (
            "BoundaryRules::test_batches_around_every_power_of_two",
            "BoundaryRules::test_ten_thousand_events_in_one_batch",
        ),
        memory_driver(BatchCappedTopic),
    ),
    BrokenBackend(
        "meta-metadata-length-16-bits",
        "metadata lengths are kept in 16 bits: metadata of 64 KiB or more is cut",
        ("BoundaryRules::test_big_metadata_round_trip",),
        memory_driver(MetadataLength16BitsTopic),
    ),
    BrokenBackend(
        "meta-two-digit-partitions",
        "partitions' storage is named with two digits: partition 100 shares partition 0's",
        ("BoundaryRules::test_many_partitions_keep_their_own_events",),
        memory_driver(TwoDigitPartitionsTopic),
    ),
    BrokenBackend(
        "meta-unlocked-append",
        "appends take the next id and store the records without a lock between the two",
        (
            "ThreadRules::test_one_producer_shared_by_eight_threads",
            "ThreadRules::test_ids_exact_with_concurrent_producers",
        ),
        memory_driver(UnlockedAppendTopic),
    ),
    BrokenBackend(
        "meta-handle-caches-next-id",
        "each topic handle gives ids from its own counter, blind to other handles' appends",
        (_HANDLES,),
        memory_driver(HandleCachesNextIdTopic),
    ),
    BrokenBackend(
        "meta-consumer-names-sanitized",
        "acknowledged positions are kept under sanitized consumer names",
        (_NAMES,),
        memory_driver(SanitizedConsumerNamesTopic),
    ),
    BrokenBackend(
        "meta-consumer-names-case-folded",
        "acknowledged positions are kept under lower-cased consumer names",
        (_NAMES,),
        memory_driver(CaseFoldedConsumerNamesTopic),
    ),
    BrokenBackend(
        "meta-positions-shared-across-topics",
        "acknowledged positions are keyed by consumer name and partition, not by topic",
        ("NameRules::test_one_consumer_name_on_two_topics_keeps_two_positions",),
        memory_driver(PositionsSharedAcrossTopicsTopic),
    ),
    BrokenBackend(
        "meta-topic-names-sanitized",
        "topics are kept under sanitized names: names differing in punctuation are folded",
        (_TOPIC_NAMES,),
        SanitizedTopicNamesDriver,
    ),
)
