"""Broken end of stream and positions: the memory backend with one bug in completion,
seeking or acknowledged positions each."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from broken_clients import DelegatingConsumer, WrappingHandle, full_level_driver
from scaffolding import BrokenBackend, memory_driver, shared_state

from diaspora_stream.api import AppendRecord, StoredRecord
from diaspora_stream.backend.full import ConsumerInterface
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic
from diaspora_stream.positions import PartitionPositions

__all__ = ["POSITION_BUGS"]


class SeekOffByOneHandle(WrappingHandle):
    """A seek to an event id starts one event later (the id taken as "the last one read")."""

    def wrap_consumer(self, consumer: ConsumerInterface) -> ConsumerInterface:
        class SeekOffByOne(DelegatingConsumer):
            def seek(self, positions: PartitionPositions) -> None:
                self.inner.seek(
                    {p: t + 1 if isinstance(t, int) else t for p, t in positions.items()}
                )

        return SeekOffByOne(consumer)


class EndRecordedAtLastEventTopic(MemoryTopic):
    """mark_complete records the partition's end as its last event's id instead of the count:
    reads stop there, so the sentinel comes before the last event (which is never read)."""

    def _ends(self) -> list[int | None]:
        return shared_state(self, "meta_ends", lambda: [None] * self.num_partitions)  # type: ignore[no-any-return]

    def mark_complete(self, partition: int) -> None:
        """Mark, noting the end one event too early."""
        self._ends()[partition] = self.event_count(partition) - 1
        super().mark_complete(partition)

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Read, stopping at the recorded end of a completed partition."""
        end = self._ends()[partition]
        records = super().read(partition, start, max_count)
        return records if end is None else [r for r in records if r.event_id < end]


class CompletionNeverReportedTopic(MemoryTopic):
    """mark_complete is stored (pushes are refused) but is_complete always answers False:
    consumers never get the sentinel."""

    def is_complete(self, partition: int) -> bool:
        """Never complete."""
        return False


class PushAfterCompleteAcceptedTopic(MemoryTopic):
    """The completed flag is only read by consumers: appends to a completed partition are
    stored."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append whether or not the partition is complete."""
        stored = self._partition(partition)
        with self._store.lock:
            complete, stored.complete = stored.complete, False
        try:
            return super().append(partition, records)
        finally:
            with self._store.lock:
                stored.complete = stored.complete or complete


class AcknowledgementOverwrittenTopic(MemoryTopic):
    """An acknowledgement overwrites the stored position, so acknowledging during a replay
    moves the name's position back."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Store the position, even below the stored one."""
        stored = self._partition(partition)
        with self._store.lock:
            stored.acknowledged[consumer_name] = event_id


class ReplayAbsentButSeekingDriver(MemoryDriver):
    """Declares replay absent, yet its consumers start anywhere and seek."""

    capabilities = dataclasses.replace(MemoryDriver.capabilities, replay=False)


def _replay_absent_but_seeking() -> type:
    """The driver above behind the adapter, handing its handles a replay capability."""
    from diaspora_stream.backend.log_adapter import LogDriverAdapter, LogTopicHandle

    class Driver(LogDriverAdapter):
        __doc__ = ReplayAbsentButSeekingDriver.__doc__

        def __init__(self) -> None:
            super().__init__(ReplayAbsentButSeekingDriver())

        @classmethod
        def create(cls, options: dict) -> Driver:  # type: ignore[type-arg]
            MemoryDriver.create(options)
            return cls()

        def open_topic(self, name: str) -> LogTopicHandle:
            plain = super().open_topic(name)
            assert isinstance(plain, LogTopicHandle)
            return LogTopicHandle(plain.log_topic, MemoryDriver.capabilities)

    Driver.__name__ = Driver.__qualname__ = "ReplayAbsentButSeekingDriver"
    return Driver


#: The bugs of this module, as the meta-tests run them.
POSITION_BUGS: tuple[BrokenBackend, ...] = (
    BrokenBackend(
        "meta-seek-off-by-one",
        "a seek to an event id starts one event later",
        (
            "PositionRules::test_seek_back_and_forward",
            "PositionRules::test_start_at_event_ids_per_partition",
            "CapabilityTests::test_replay",
        ),
        full_level_driver(SeekOffByOneHandle),
    ),
    BrokenBackend(
        "meta-sentinel-before-last-event",
        "the end of a completed partition is recorded at its last event: the sentinel comes "
        "before it",
        (
            "EndOfStreamRules::test_sentinel_after_last_event",
            "CapabilityTests::test_end_of_stream",
        ),
        memory_driver(EndRecordedAtLastEventTopic),
    ),
    BrokenBackend(
        "meta-sentinel-never-delivered",
        "completion is stored but never reported to consumers",
        (
            "EndOfStreamRules::test_sentinel_after_last_event",
            "CapabilityTests::test_end_of_stream",
        ),
        memory_driver(CompletionNeverReportedTopic),
    ),
    BrokenBackend(
        "meta-push-after-complete-accepted",
        "appends to a completed partition are stored",
        ("EndOfStreamRules::test_push_to_completed_partition_fails",),
        memory_driver(PushAfterCompleteAcceptedTopic),
    ),
    BrokenBackend(
        "meta-acknowledgement-moves-back",
        "an acknowledgement overwrites the stored position, even with an older event",
        ("PositionRules::test_acknowledgements_after_seek",),
        memory_driver(AcknowledgementOverwrittenTopic),
    ),
    BrokenBackend(
        "meta-replay-absent-but-seeking",
        "declares replay absent but its consumers start anywhere and seek",
        ("CapabilityTests::test_replay_absent",),
        _replay_absent_but_seeking(),
    ),
)
