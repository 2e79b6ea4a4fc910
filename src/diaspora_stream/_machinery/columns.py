"""The records of a producer's open batch kept column by column (the ``push_many`` path).

``push_many`` adds whole runs of prepared events to a batch: three list extensions instead of an
:class:`~diaspora_stream.backend.log.AppendRecord` per event, and the batch reaches a backend
that overrides :meth:`~diaspora_stream.backend.log.LogTopic.append_columns` as one metadata
buffer and lists of sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..backend.log import AppendRecord, RecordColumns

__all__ = ["PendingColumns"]


class PendingColumns:
    """Serialized metadata (in chunks of one or more records), metadata sizes, data segments
    and data sizes of a batch's records, in order."""

    __slots__ = ("chunks", "data", "data_sizes", "metadata_sizes")

    def __init__(self, records: Sequence[AppendRecord] = ()) -> None:
        """Columns holding ``records`` (those a batch held before its first ``push_many``)."""
        self.chunks: list[bytes] = [record.metadata for record in records]
        self.metadata_sizes: list[int] = list(map(len, self.chunks))
        self.data: list[tuple[memoryview, ...]] = [record.data for record in records]
        self.data_sizes: list[int] = [record.data_size for record in records]

    def __len__(self) -> int:
        return len(self.metadata_sizes)

    def add(self, record: AppendRecord) -> None:
        """Add one record (a ``push`` after a ``push_many`` into the same batch)."""
        self.chunks.append(record.metadata)
        self.metadata_sizes.append(len(record.metadata))
        self.data.append(record.data)
        self.data_sizes.append(record.data_size)

    def extend(
        self,
        metadata: bytes,
        metadata_sizes: Sequence[int],
        data: Sequence[tuple[memoryview, ...]],
        data_sizes: Sequence[int],
    ) -> None:
        """Add records given as columns: their serialized metadata back to back in
        ``metadata``, ``metadata_sizes[i]`` bytes for record *i*."""
        self.chunks.append(metadata)
        self.metadata_sizes.extend(metadata_sizes)
        self.data.extend(data)
        self.data_sizes.extend(data_sizes)

    def columns(self) -> RecordColumns:
        """The records as :class:`RecordColumns` (metadata joined in one buffer)."""
        chunks = self.chunks
        metadata = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return RecordColumns(metadata, self.metadata_sizes, self.data, self.data_sizes)

    def records(self) -> list[AppendRecord]:
        """The records as :class:`AppendRecord` objects."""
        return self.columns().records()
