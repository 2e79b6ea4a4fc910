"""Partition storage on the server: append-only chunk files with an index, or memory.

A file partition is a directory holding chunk files ``chunk-NNNNNN.dat`` (each batch's metadata
then its data, appended) and ``index.bin``, one fixed-width record per event::

    <u32 chunk> <u32 metadata size> <u64 metadata offset> <u64 data offset> <u64 data size>

A batch is written chunk first, then index; with ``sync`` both are ``fdatasync``-ed, in that
order, before the append returns (so before the producer is acknowledged). At opening, a
partial index record at the end (a crash while writing it) is cut off, as are records that
point past the end of their chunk; what remains is exactly the acknowledged events.
"""

from __future__ import annotations

import os
import struct
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

__all__ = ["FilePartition", "MemoryPartition", "Partition"]

_RECORD = struct.Struct("<IIQQQ")
#: A chunk file is closed for appends once it grows past this size.
DEFAULT_CHUNK_SIZE = 256 * 1024 * 1024


class Partition(ABC):
    """One partition: dense event ids from 0; appends are atomic for readers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: Notified (under ``lock``) after each append: server-side consumer feeds wait on it.
        self.appended = threading.Condition(self.lock)

    @property
    @abstractmethod
    def count(self) -> int:
        """Number of stored events."""

    @abstractmethod
    def _store(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> int:
        """Store one batch (called under ``lock``); return the first id."""

    def append(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> int:
        """Append a batch: sizes per event and the concatenated metadata and data."""
        with self.lock:
            first = self._store(metadata_sizes, metadata, data_sizes, data)
            self.appended.notify_all()
            return first

    @abstractmethod
    def metadata(self, start: int, count: int) -> tuple[list[int], list[int], bytes]:
        """Metadata sizes, data sizes and concatenated metadata of events [start, start+count)."""

    @abstractmethod
    def read(self, event_id: int, offset: int, size: int, destination: memoryview) -> None:
        """Copy ``size`` bytes of event ``event_id``'s data from ``offset`` into ``destination``."""

    def data_size(self, event_id: int) -> int:
        """Size of an event's data."""
        return self.metadata(event_id, 1)[1][0]

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files."""


class MemoryPartition(Partition):
    """A partition kept in the server's memory (lost when the server stops)."""

    def __init__(self) -> None:
        super().__init__()
        self._metadata: list[bytes] = []
        # Views into each batch's received buffer: kept as they are, never copied.
        self._data: list[memoryview] = []

    @property
    def count(self) -> int:
        return len(self._metadata)

    def _store(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> int:
        first = len(self._metadata)
        position = 0
        for size in metadata_sizes:
            self._metadata.append(bytes(metadata[position : position + size]))
            position += size
        position = 0
        data = data.toreadonly()
        for size in data_sizes:
            self._data.append(data[position : position + size])
            position += size
        return first

    def metadata(self, start: int, count: int) -> tuple[list[int], list[int], bytes]:
        with self.lock:
            items = self._metadata[start : start + count]
            data = self._data[start : start + count]
        return [len(item) for item in items], [item.nbytes for item in data], b"".join(items)

    def read(self, event_id: int, offset: int, size: int, destination: memoryview) -> None:
        destination[:size] = self._data[event_id][offset : offset + size]

    def data_size(self, event_id: int) -> int:
        return self._data[event_id].nbytes


class FilePartition(Partition):
    """A partition in a directory of chunk files and an index (see the module docstring)."""

    def __init__(
        self, directory: Path, sync: bool = True, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> None:
        super().__init__()
        self.directory = directory
        self.sync = sync
        self.chunk_size = chunk_size
        directory.mkdir(parents=True, exist_ok=True)
        self._index_fd = os.open(directory / "index.bin", os.O_RDWR | os.O_CREAT, 0o644)
        self._readers: dict[int, int] = {}
        self._index = bytearray()
        self._recover()

    def _chunk_path(self, chunk: int) -> Path:
        return self.directory / f"chunk-{chunk:06d}.dat"

    def _recover(self) -> None:
        size = os.fstat(self._index_fd).st_size
        raw = os.pread(self._index_fd, size, 0) if size else b""
        complete = len(raw) - len(raw) % _RECORD.size
        valid = 0
        chunk_ends: dict[int, int] = {}
        for position in range(0, complete, _RECORD.size):
            chunk, meta_size, meta_offset, data_offset, data_size = _RECORD.unpack_from(
                raw, position
            )
            if chunk not in chunk_ends:
                path = self._chunk_path(chunk)
                chunk_ends[chunk] = path.stat().st_size if path.exists() else -1
            end = max(meta_offset + meta_size, data_offset + data_size)
            if end > chunk_ends[chunk]:
                break
            valid = position + _RECORD.size
        if valid != size:
            os.ftruncate(self._index_fd, valid)
            os.fsync(self._index_fd)
        self._index = bytearray(raw[:valid])
        chunks = sorted(int(path.stem.split("-")[1]) for path in self.directory.glob("chunk-*.dat"))
        self._chunk = chunks[-1] if chunks else 0
        self._open_writer()

    def _open_writer(self) -> None:
        self._writer = os.open(
            self._chunk_path(self._chunk), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
        )
        self._writer_end = os.fstat(self._writer).st_size

    @property
    def count(self) -> int:
        return len(self._index) // _RECORD.size

    def _store(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> int:
        if self._writer_end >= self.chunk_size:
            os.close(self._writer)
            self._chunk += 1
            self._open_writer()
        start = self._writer_end
        _write_all(self._writer, [metadata, data])
        self._writer_end = start + metadata.nbytes + data.nbytes
        records = bytearray()
        meta_offset = start
        data_offset = start + metadata.nbytes
        chunk = self._chunk
        pack = _RECORD.pack
        for meta_size, data_size in zip(metadata_sizes, data_sizes, strict=True):
            records += pack(chunk, meta_size, meta_offset, data_offset, data_size)
            meta_offset += meta_size
            data_offset += data_size
        if self.sync:
            os.fdatasync(self._writer)
        _write_all(self._index_fd, [memoryview(records)], len(self._index))
        if self.sync:
            os.fdatasync(self._index_fd)
        first = self.count
        self._index += records
        return first

    def _record(self, event_id: int) -> tuple[int, int, int, int, int]:
        return _RECORD.unpack_from(self._index, event_id * _RECORD.size)

    def _reader(self, chunk: int) -> int:
        fd = self._readers.get(chunk)
        if fd is None:
            fd = os.open(self._chunk_path(chunk), os.O_RDONLY)
            self._readers[chunk] = fd
        return fd

    def metadata(self, start: int, count: int) -> tuple[list[int], list[int], bytes]:
        with self.lock:
            end = min(start + count, self.count)
            records = [self._record(event_id) for event_id in range(start, end)]
        meta_sizes = [record[1] for record in records]
        data_sizes = [record[4] for record in records]
        if not records:
            return meta_sizes, data_sizes, b""
        parts = []
        # Consecutive metadata of one batch is contiguous in its chunk: read runs at once.
        run_chunk, _, run_start, _, _ = records[0]
        run_end = run_start
        for chunk, meta_size, meta_offset, _, _ in records:
            if chunk != run_chunk or meta_offset != run_end:
                parts.append(os.pread(self._reader(run_chunk), run_end - run_start, run_start))
                run_chunk, run_start = chunk, meta_offset
            run_end = meta_offset + meta_size
        parts.append(os.pread(self._reader(run_chunk), run_end - run_start, run_start))
        return meta_sizes, data_sizes, b"".join(parts)

    def read(self, event_id: int, offset: int, size: int, destination: memoryview) -> None:
        with self.lock:
            chunk, _, _, data_offset, _ = self._record(event_id)
            fd = self._reader(chunk)
        view = destination[:size]
        position = data_offset + offset
        while view.nbytes:
            count = os.preadv(fd, [view], position)
            if count <= 0:
                raise OSError(f"chunk {chunk} of {self.directory} is shorter than its index says")
            view = view[count:]
            position += count

    def data_size(self, event_id: int) -> int:
        with self.lock:
            return self._record(event_id)[4]

    def close(self) -> None:
        with self.lock:
            for fd in [self._writer, self._index_fd, *self._readers.values()]:
                os.close(fd)
            self._readers.clear()


def _write_all(fd: int, views: list[memoryview], position: int | None = None) -> None:
    views = [view for view in views if view.nbytes]
    while views:
        if position is None:
            written = os.writev(fd, views)
        else:
            written = os.pwritev(fd, views, position)
            position += written
        while written and views:
            if written >= views[0].nbytes:
                written -= views[0].nbytes
                views.pop(0)
            else:
                views[0] = views[0][written:]
                written = 0
