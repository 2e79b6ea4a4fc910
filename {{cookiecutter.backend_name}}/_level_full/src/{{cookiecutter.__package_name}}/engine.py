"""Where the ``{{ cookiecutter.backend_name }}`` backend keeps its events: an in-process stand-in.

CHANGE ME: this module plays your engine's part, the server side that a real engine (a broker,
a Mofka-like service) runs elsewhere: it stores topics, appends a producer's batches and hands
records to consumers. ``driver.py``, ``topic.py``, ``producer.py`` and ``consumer.py`` reach it
only through :class:`Engine` and :class:`TopicLog`, in their ``CHANGE ME`` blocks; once those
call your engine's client library instead, delete this module.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.api import TopicConfig

__all__ = ["Engine", "StoredEvent", "TopicLog"]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as the engine keeps it: serialized metadata and the whole data."""

    metadata: bytes
    data: bytes


@dataclass
class _Partition:
    events: list[StoredEvent] = field(default_factory=list)
    #: Last acknowledged event id of each consumer name.
    acknowledged: dict[str, int] = field(default_factory=dict)


class TopicLog:
    """One topic on the engine's side, shared by every handle, producer and consumer of it."""

    def __init__(self, config: TopicConfig) -> None:
        self.config = config
        self._partitions = [_Partition() for _ in range(config.num_partitions)]
        # One condition for the whole topic: appends and wake-ups notify consumers waiting for
        # events (a real engine pushes records to its consumers, or answers a long poll).
        self._changed = threading.Condition()
        self._version = 0

    @property
    def version(self) -> int:
        """A number that changes on every append (and :meth:`wake`)."""
        return self._version

    def append(
        self,
        partition: int,
        metadata: Sequence[bytes],
        data: Sequence[Sequence[bytes | memoryview]],
    ) -> int:
        """Store one batch at the end of ``partition``, all at once; return its first event id.

        ``data[i]`` holds the segments of event ``i``'s data: they are copied here (the
        producer's buffers belong to the user again once the batch is stored).
        """
        events = [
            StoredEvent(blob, b"".join(segments))
            for blob, segments in zip(metadata, data, strict=True)
        ]
        with self._changed:
            log = self._partitions[partition].events
            first = len(log)
            log.extend(events)
            self._version += 1
            self._changed.notify_all()
        return first

    def fetch(self, partition: int, start: int, max_count: int) -> list[StoredEvent]:
        """Up to ``max_count`` events of ``partition`` from id ``start`` (none if there are none
        yet)."""
        with self._changed:
            return self._partitions[partition].events[start : start + max_count]

    def wait_for_change(self, seen: int, timeout: float | None) -> None:
        """Return when :attr:`version` is no longer ``seen``, or after ``timeout`` seconds
        (``None``: no limit)."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != seen, timeout)

    def wake(self) -> None:
        """Wake every consumer waiting in :meth:`wait_for_change` (one is closing)."""
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def acknowledge(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Record that ``consumer_name`` processed ``partition`` up to ``event_id`` (a position
        never moves backwards)."""
        with self._changed:
            acknowledged = self._partitions[partition].acknowledged
            if event_id > acknowledged.get(consumer_name, -1):
                acknowledged[consumer_name] = event_id

    def acknowledged(self, consumer_name: str) -> dict[int, int]:
        """``{partition: last acknowledged event id}`` of ``consumer_name`` (maybe empty)."""
        with self._changed:
            return {
                index: partition.acknowledged[consumer_name]
                for index, partition in enumerate(self._partitions)
                if consumer_name in partition.acknowledged
            }


class Engine:
    """The topics of one driver (so they live as long as the driver object)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[str, TopicLog] = {}

    def create_topic(self, name: str, config: TopicConfig) -> None:
        """Create topic ``name``; raise if it exists (and change nothing then)."""
        with self._lock:
            if name in self._topics:
                raise DiasporaException(
                    f"Topic already exists: {name}; open it with open_topic or choose another name"
                )
            self._topics[name] = TopicLog(config)

    def find_topic(self, name: str) -> TopicLog | None:
        """Topic ``name``, or ``None`` if there is none."""
        with self._lock:
            return self._topics.get(name)

    def topics(self) -> dict[str, TopicLog]:
        """Every topic, by name."""
        with self._lock:
            return dict(self._topics)
