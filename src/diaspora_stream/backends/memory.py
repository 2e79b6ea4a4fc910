"""The built-in in-memory backend (``memory``, also registered as ``simple``).

The smallest complete log-level backend: every topic lives in the driver object. It is the
model the conformance suite compares other backends against, so it favours obviousness over
speed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ..backend.capabilities import Capabilities
from ..backend.log import AppendRecord, LogDriver, LogTopic, StoredRecord, TopicConfig
from ..backend.log_adapter import topic_description
from ..backend.options import check_topic_name, parse_options
from ..buffers import scatter
from ..exceptions import ClosedError, PartitionCompleted
from ..exceptions import Exception as DiasporaException

__all__ = ["MemoryDriver", "MemoryTopic"]


class _Partition:
    def __init__(self) -> None:
        self.metadata: list[bytes] = []
        self.data: list[bytes] = []
        self.acknowledged: dict[str, int] = {}
        self.complete = False


class _Store:
    """The state of one topic, shared by every handle opened on it."""

    def __init__(self, config: TopicConfig) -> None:
        self.config = config
        self.partitions = [_Partition() for _ in range(config.num_partitions)]
        self.lock = threading.Lock()


class MemoryTopic(LogTopic):
    """A handle on an in-memory topic."""

    def __init__(self, name: str, store: _Store) -> None:
        super().__init__(name, store.config)
        self._store = store
        self._closed = False

    def _partition(self, partition: int) -> _Partition:
        if self._closed:
            raise ClosedError(f"Topic {self.name!r} is closed")
        return self._store.partitions[partition]

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        stored = self._partition(partition)
        metadata = [bytes(record.metadata) for record in records]
        data = [b"".join(record.data) for record in records]
        with self._store.lock:
            if stored.complete:
                raise PartitionCompleted(
                    f"Partition {partition} of topic {self.name!r} is complete: it takes no more "
                    "events (push to another partition or topic)"
                )
            first_id = len(stored.metadata)
            stored.metadata.extend(metadata)
            stored.data.extend(data)
        return first_id

    def event_count(self, partition: int) -> int:
        return len(self._partition(partition).metadata)

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        stored = self._partition(partition)
        with self._store.lock:
            end = min(len(stored.metadata), start + max_count)
            return [
                StoredRecord(
                    event_id, stored.metadata[event_id], len(stored.data[event_id]), event_id
                )
                for event_id in range(start, end)
            ]

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        data = memoryview(self._partition(partition).data[record.event_id])
        scatter([data[offset : offset + size] for offset, size in segments], destination)

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        stored = self._partition(partition)
        with self._store.lock:
            if event_id > stored.acknowledged.get(consumer_name, -1):
                stored.acknowledged[consumer_name] = event_id

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        with self._store.lock:
            return {
                index: partition.acknowledged[consumer_name]
                for index, partition in enumerate(self._store.partitions)
                if consumer_name in partition.acknowledged
            }

    def consumer_names(self) -> list[str]:
        with self._store.lock:
            return sorted({name for p in self._store.partitions for name in p.acknowledged})

    def mark_complete(self, partition: int) -> None:
        stored = self._partition(partition)
        with self._store.lock:
            stored.complete = True

    def is_complete(self, partition: int) -> bool:
        return self._partition(partition).complete

    def close(self) -> None:
        self._closed = True


class MemoryDriver(LogDriver):
    """Keeps topics in memory, for the lifetime of the driver object. Takes no options."""

    capabilities = Capabilities(
        persistent_topics=False,
        acknowledgements=True,
        persistent_acknowledgements=False,
        multi_process_producers=False,
        partial_data_reads=True,
        durable_flush=False,
        end_of_stream=True,
        replay=True,
        consumer_positions=True,
    )

    def __init__(self) -> None:
        self._topics: dict[str, _Store] = {}
        self._lock = threading.Lock()

    @classmethod
    def create(cls, options: dict[str, Any]) -> MemoryDriver:
        parse_options(options, {}, "memory driver")
        return cls()

    def create_topic(self, name: str, config: TopicConfig) -> None:
        check_topic_name(name)
        with self._lock:
            if name in self._topics:
                raise DiasporaException(f"Topic already exists: {name}")
            self._topics[name] = _Store(config)

    def open_topic(self, name: str) -> LogTopic:
        with self._lock:
            store = self._topics.get(name)
        if store is None:
            raise DiasporaException(f'Could not find topic "{name}"')
        return MemoryTopic(name, store)

    def topic_exists(self, name: str) -> bool:
        with self._lock:
            return name in self._topics

    def list_topics(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            topics = dict(self._topics)
        return {name: topic_description(name, store.config) for name, store in topics.items()}
