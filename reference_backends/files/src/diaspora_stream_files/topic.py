"""``FilesTopic``: an open topic of the files backend (one handle, its own file descriptors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from diaspora_stream.backend.log import (
    AppendRecord,
    LogTopic,
    RecordColumns,
    StoredColumns,
    StoredRecord,
    TopicConfig,
)
from diaspora_stream.exceptions import ClosedError
from diaspora_stream.exceptions import Exception as DiasporaException

from .acknowledgements import AcknowledgementStore
from .partition import PartitionFiles

__all__ = ["FilesTopic"]


class FilesTopic(LogTopic):
    """An open topic: one :class:`PartitionFiles` per partition and the acknowledgements.

    Built by :meth:`FilesDriver.open_topic`; several handles of one topic (in one or several
    processes) may append and read at once.
    """

    #: A user's data selector is called at pull time (whole data is still read in batches).
    selects_ahead = False
    #: Runs of whole-data reads small enough that the buffers the kernel copies into, and the
    #: consumer's own state, stay in the CPU cache (a larger run saves only system calls).
    read_ahead_bytes = 256 * 1024

    def __init__(
        self,
        name: str,
        config: TopicConfig,
        path: str,
        partitions: Sequence[PartitionFiles],
        acknowledgements: AcknowledgementStore,
    ) -> None:
        """Wrap already opened partitions (see :meth:`FilesDriver.open_topic`)."""
        super().__init__(name, config)
        self.path = path
        self._partitions = tuple(partitions)
        self._acknowledgements = acknowledgements
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._partitions)} partition(s)"
        return f"<FilesTopic {self.name!r} at {self.path!r}, {state}>"

    def _partition(self, partition: int) -> PartitionFiles:
        if self._closed:
            raise ClosedError(f"Topic {self.name!r} is closed; open it again to use it")
        if (
            not isinstance(partition, int)
            or isinstance(partition, bool)
            or not 0 <= partition < len(self._partitions)
        ):
            raise DiasporaException(
                f"Invalid partition index {partition!r} for topic {self.name!r}: it has "
                f"{len(self._partitions)} partition(s), numbered from 0"
            )
        return self._partitions[partition]

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append ``records`` to ``partition`` (all or nothing for readers); return the first id."""
        return self._partition(partition).append(records)

    def append_columns(self, partition: int, columns: RecordColumns) -> int:
        """:meth:`append` for records given column by column (the producer's batch path)."""
        return self._partition(partition).append_columns(columns)

    def sync(self, partition: int) -> None:
        """fsync the partition's files unless ``flush_behavior`` is ``"buffered"``."""
        self._partition(partition).sync()

    def event_count(self, partition: int) -> int:
        """Number of complete records of ``partition`` (re-read from the files)."""
        return self._partition(partition).event_count()

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Up to ``max_count`` records of ``partition`` from id ``start``."""
        files = self._partition(partition)
        _check_count("start", start)
        _check_count("max_count", max_count)
        return files.read(start, max_count)

    def read_columns(self, partition: int, start: int, max_count: int) -> StoredColumns | None:
        """:meth:`read` as columns (``None`` in integrity mode)."""
        _check_count("start", start)
        _check_count("max_count", max_count)
        return self._partition(partition).read_columns(start, max_count)

    def locate(self, partition: int, record: StoredRecord) -> str:
        """The metadata file of ``partition`` and the byte offset of ``record``'s metadata."""
        return self._partition(partition).locate(record.event_id)

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the selected bytes of ``record``'s data into ``destination`` (see LogTopic)."""
        self._partition(partition).read_data(record, segments, destination)

    def read_selected_data(
        self,
        partition: int,
        requests: Sequence[tuple[StoredRecord, Sequence[tuple[int, int]], Sequence[memoryview]]],
    ) -> None:
        """:meth:`read_data` for each request; one-range requests that follow each other in the
        data file are read at once (see LogTopic)."""
        self._partition(partition).read_selected(requests)

    def read_full_data(self, partition: int, records: Sequence[StoredRecord]) -> list[memoryview]:
        """The whole data of consecutive records, read with one call when they are contiguous."""
        views = self._partition(partition).read_contiguous_data(records)
        return views if views is not None else super().read_full_data(partition, records)

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Persist that ``consumer_name`` processed ``partition`` up to ``event_id``."""
        self._partition(partition)
        if not isinstance(consumer_name, str):
            raise DiasporaException(
                f"Consumer name must be a string, got {type(consumer_name).__name__}"
            )
        _check_count("event_id", event_id)
        self._acknowledgements.store(consumer_name, partition, event_id)

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """``{partition: last acknowledged id}`` stored for ``consumer_name``."""
        if self._closed:
            raise ClosedError(f"Topic {self.name!r} is closed; open it again to use it")
        if not isinstance(consumer_name, str):
            raise DiasporaException(
                f"Consumer name must be a string, got {type(consumer_name).__name__}"
            )
        return self._acknowledgements.load(consumer_name, len(self._partitions))

    def consumer_names(self) -> list[str]:
        """Every consumer name with a stored acknowledged position."""
        if self._closed:
            raise ClosedError(f"Topic {self.name!r} is closed; open it again to use it")
        return self._acknowledgements.names()

    def mark_complete(self, partition: int) -> None:
        """Mark ``partition`` complete (a ``complete`` file in its directory)."""
        self._partition(partition).mark_complete()

    def is_complete(self, partition: int) -> bool:
        """Whether ``partition`` was marked complete."""
        return self._partition(partition).is_complete()

    def close(self) -> None:
        """Close every file descriptor; later calls raise ``ClosedError``. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for files in self._partitions:
            files.close()
        self._acknowledgements.close()


def _check_count(what: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DiasporaException(f"{what} must be a non-negative integer, got {value!r}")
