"""Broken persistent storage: the files backend with one cache that other drivers, handles
or processes do not see.

Persistence is only half the rule: a Driver, a topic handle or a consumer that already existed
when another one (in this process or another) changed the topic must see the change. Each bug
here is a cache filled once and never refreshed from the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scaffolding import BrokenBackend

from diaspora_stream.api import AppendRecord, StoredRecord, TopicConfig
from diaspora_stream_files.driver import FilesDriver
from diaspora_stream_files.topic import FilesTopic

__all__ = ["PERSISTENT_BUGS"]

_FILES_OPTIONS = {"root_path": "{tmp}"}


class TopicListCachedDriver(FilesDriver):
    """Lists the topic directories once and answers list_topics and topic_exists from that
    list, adding only the topics this driver creates."""

    _cache: dict[str, dict[str, Any]] | None = None

    def _cached(self) -> dict[str, dict[str, Any]]:
        if self._cache is None:
            self._cache = super().list_topics()
        return self._cache

    def create_topic(self, name: str, config: TopicConfig) -> None:
        """Create the topic and add it to the cached list."""
        super().create_topic(name, config)
        self._cached()[name] = {"name": name}

    def list_topics(self) -> dict[str, dict[str, Any]]:
        """The cached list."""
        return dict(self._cached())

    def topic_exists(self, name: str) -> bool:
        """Whether the cached list holds ``name``."""
        return name in self._cached()


class CountAtOpenTopic(FilesTopic):
    """Reads stop at the number of events each partition had when the handle was opened,
    plus those appended through this handle (the index size is read once)."""

    def _known(self, partition: int) -> int:
        known: dict[int, int] = self.__dict__.setdefault("_known_counts", {})
        if partition not in known:
            known[partition] = super().event_count(partition)
        return known[partition]

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append and count the records in this handle's known size."""
        known = self._known(partition)
        first_id = super().append(partition, records)
        self.__dict__["_known_counts"][partition] = max(known, first_id + len(records))
        return first_id

    def event_count(self, partition: int) -> int:
        """The known count."""
        return self._known(partition)

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Records below the known count only."""
        return super().read(
            partition, start, max(0, min(max_count, self._known(partition) - start))
        )


class CountAtOpenDriver(FilesDriver):
    """Opens topics as :class:`CountAtOpenTopic` handles."""

    __doc__ = CountAtOpenTopic.__doc__

    def open_topic(self, name: str) -> FilesTopic:
        """Open ``name`` with a count cached at open."""
        topic = super().open_topic(name)
        topic.__class__ = CountAtOpenTopic
        return topic


_ACKNOWLEDGED: dict[tuple[str, str, int], int] = {}


class AcknowledgementsCachedTopic(FilesTopic):
    """Stores acknowledgements in the files but loads them from a cache of this process,
    filled from the files once per consumer name."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Store in the files and in the process's cache."""
        super().store_acknowledgement(consumer_name, partition, event_id)
        _ACKNOWLEDGED[(self.path, consumer_name, partition)] = event_id

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """The process's cache when it knows the name, else the files."""
        cached = {
            partition: event_id
            for (path, name, partition), event_id in _ACKNOWLEDGED.items()
            if path == self.path and name == consumer_name
        }
        return cached or super().load_acknowledgements(consumer_name)


class AcknowledgementsCachedDriver(FilesDriver):
    """Opens topics as :class:`AcknowledgementsCachedTopic` handles."""

    __doc__ = AcknowledgementsCachedTopic.__doc__

    def open_topic(self, name: str) -> FilesTopic:
        """Open ``name`` with acknowledgements cached in the process."""
        topic = super().open_topic(name)
        topic.__class__ = AcknowledgementsCachedTopic
        return topic


_PROCESS = "ElsewhereRules::test_existing_driver_sees_what_another_process_did"

#: The persistence bugs and the suite tests that must catch them.
PERSISTENT_BUGS: tuple[BrokenBackend, ...] = (
    BrokenBackend(
        "meta-topic-list-cached",
        "a driver lists topics once and never sees topics created elsewhere",
        ("ElsewhereRules::test_existing_driver_sees_what_another_driver_did", _PROCESS),
        TopicListCachedDriver,
        _FILES_OPTIONS,
    ),
    BrokenBackend(
        "meta-count-cached-at-open",
        "a topic handle reads only the events that existed when it was opened (or it wrote)",
        (_PROCESS, "ElsewhereRules::test_handles_of_one_topic_never_give_another_writers_id"),
        CountAtOpenDriver,
        _FILES_OPTIONS,
    ),
    BrokenBackend(
        "meta-acknowledgements-cached-in-process",
        "acknowledged positions are loaded from a cache of the process, blind to other processes",
        ("ElsewhereRules::test_acknowledged_positions_seen_from_another_process",),
        AcknowledgementsCachedDriver,
        _FILES_OPTIONS,
    ),
)
