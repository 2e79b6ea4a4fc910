"""Partition storage on the server: append-only chunk files with an index, or memory.

A file partition is a directory holding chunk files ``chunk-NNNNNN.dat`` and ``index.bin``.
A chunk is a sequence of self-describing batches::

    <u32 magic> <u32 count> <u32 CRC-32> <u64 body size>
    <u32 metadata size> x count  <u64 data size> x count  <metadata...>  <data...>

(the CRC covers the header, the size tables and the metadata). The index has one fixed-width
record per event, pointing into the chunks::

    <u32 chunk | last-of-batch flag> <u32 metadata size> <u64 metadata offset>
    <u64 data offset> <u64 data size>

A batch is written to its chunk (``write``), then committed (``commit``): the chunk is
``fdatasync``-ed when ``sync`` is on, before the index records are written and the batch
becomes visible to readers, and the producer is acknowledged only after its batch's commit.
Commits are grouped: one ``fdatasync`` covers every batch written before it started, so
batches in flight (pipelined by a producer, or from several producers) share a sync.

The index is a cache: at opening it is kept up to its last complete batch
(records pointing past their chunk's end are dropped), then the batches the chunks hold beyond
it are indexed again, and a torn batch at a chunk's end (a crash while writing it) is cut off.
What remains is every acknowledged event, and no part of a batch.

A failed write (a full disk) leaves the partition as it was: batches are written at the
offset the partition computed (never appended where the file happens to end), and a write cut
short is cut off the chunk before the error is reported. A failed index write only leaves the
index file behind: the next commit writes what it misses (the chunks stay the truth).
"""

from __future__ import annotations

import logging
import os
import struct
import sys
import threading
import zlib
from abc import ABC, abstractmethod
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any

from .protocol import FileRange

__all__ = ["CompletedError", "FilePartition", "MemoryPartition", "Partition"]

log = logging.getLogger("diaspora_stream_mochi.server")

_RECORD = struct.Struct("<IIQQQ")
#: In an index record's chunk field: this event is the last of its batch.
_LAST_OF_BATCH = 1 << 31
_CHUNK_MASK = _LAST_OF_BATCH - 1
#: Batch header in a chunk: magic, event count, CRC-32 of header, tables and metadata, body size.
_BATCH = struct.Struct("<IIIQ")
_MAGIC = 0x4D4F4348
#: A chunk file is closed for appends once it grows past this size.
DEFAULT_CHUNK_SIZE = 256 * 1024 * 1024


class CompletedError(Exception):
    """A batch was written to a partition that is marked complete (or being marked)."""


class Partition(ABC):
    """One partition: dense event ids from 0; appends are atomic for readers.

    Marking a partition complete has two steps (see :meth:`close_for_writes`): from the first,
    ``write`` refuses batches (checked under ``lock``, so no batch is stored after it); the
    second, ``complete``, is set by the server once every batch written before is committed
    and the mark is durable, so a reader that sees ``complete`` has seen the last event.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: Notified (under ``lock``) after each append: server-side consumer feeds wait on it.
        self.appended = threading.Condition(self.lock)
        #: Writes are refused (the partition is being, or was, marked complete).
        self.closed_for_writes = False
        #: The partition is complete: its last event is committed and the mark is durable.
        self.complete = False

    def close_for_writes(self) -> int:
        """Refuse every later ``write``; return the ticket to :meth:`commit` for the batches
        written before."""
        with self.lock:
            self.closed_for_writes = True
            return self._last_ticket()

    def _last_ticket(self) -> int:
        """Ticket of the last written batch (called under ``lock``)."""
        return 0

    def _check_writable(self) -> None:
        """Raise :class:`CompletedError` if writes are refused (called under ``lock``)."""
        if self.closed_for_writes:
            raise CompletedError("it is complete: it takes no more events")

    @property
    @abstractmethod
    def count(self) -> int:
        """Number of stored events."""

    def _store(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> int:
        """Store one batch (called under ``lock`` by the default :meth:`write`); first id."""
        raise NotImplementedError(f"{type(self).__name__} overrides write() instead")

    def append(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> int:
        """Append a batch (sizes per event, concatenated metadata and data) and commit it."""
        first, ticket = self.write(metadata_sizes, metadata, data_sizes, data)
        self.commit(ticket)
        return first

    def write(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> tuple[int, int]:
        """Store a batch, not yet durable nor visible; return its first id and the ticket to
        :meth:`commit`. Ids are given in ``write`` order."""
        with self.lock:
            self._check_writable()
            first = self._store(metadata_sizes, metadata, data_sizes, data)
            self.appended.notify_all()
            return first, 0

    def commit(self, ticket: int) -> None:  # noqa: B027 - memory partitions commit at write
        """Make the batches written up to ``ticket`` durable and visible (grouped)."""

    @abstractmethod
    def metadata(self, start: int, count: int) -> tuple[list[int], list[int], bytes]:
        """Metadata sizes, data sizes and concatenated metadata of events [start, start+count)."""

    def read(self, event_id: int, offset: int, size: int, destination: memoryview) -> None:
        """Copy ``size`` bytes of event ``event_id``'s data from ``offset`` into ``destination``
        (from its :meth:`data_sources`)."""
        position = 0
        for source in self.data_sources([(event_id, offset, size)]):
            if isinstance(source, FileRange):
                _read_file(source, destination[position : position + source.size])
                position += source.size
            else:
                destination[position : position + source.nbytes] = source
                position += source.nbytes

    def data_size(self, event_id: int) -> int:
        """Size of an event's data."""
        return self.metadata(event_id, 1)[1][0]

    def data_sources(self, ranges: Sequence[tuple[int, int, int]]) -> list[memoryview | FileRange]:
        """Where the bytes of each ``(event id, offset, size)`` are, to send them without
        copying them first: views of stored memory or ranges of chunk files, in order, with
        ranges that follow each other in storage merged."""
        spans: list[list[Any]] = []
        with self.lock:
            for event_id, offset, size in ranges:
                if not size:
                    continue
                holder, begin = self._where(event_id, offset)
                last = spans[-1] if spans else None
                if last is not None and last[0] == holder and last[2] == begin:
                    last[2] = begin + size
                else:
                    spans.append([holder, begin, begin + size])
        return [self._source(holder, begin, end) for holder, begin, end in spans]

    @abstractmethod
    def _where(self, event_id: int, offset: int) -> tuple[Any, int]:
        """What holds byte ``offset`` of an event's data (called under ``lock``), and where."""

    @abstractmethod
    def _source(self, holder: Any, begin: int, end: int) -> memoryview | FileRange:
        """The bytes [begin, end) of ``holder`` (from :meth:`_where`), to send."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files."""


class _MemoryBatch:
    """One appended batch as it was received: its metadata and data kept whole."""

    __slots__ = ("data", "data_offsets", "data_sizes", "meta_offsets", "meta_sizes", "metadata")

    def __init__(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> None:
        self.meta_sizes = array("I", metadata_sizes)
        self.data_sizes = array("Q", data_sizes)
        self.meta_offsets = array("Q", accumulate(metadata_sizes, initial=0))
        self.data_offsets = array("Q", accumulate(data_sizes, initial=0))
        self.metadata = bytes(metadata)
        self.data = data.toreadonly()


class MemoryPartition(Partition):
    """A partition kept in the server's memory (lost when the server stops).

    Batches are kept as received, with their size tables: nothing is copied or split per
    event, an event is found by its batch (binary search on the batches' first ids).
    """

    def __init__(self) -> None:
        super().__init__()
        self._firsts: list[int] = []
        self._batches: list[_MemoryBatch] = []
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def _store(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> int:
        batch = _MemoryBatch(metadata_sizes, metadata, data_sizes, data)
        first = self._count
        self._firsts.append(first)
        self._batches.append(batch)
        self._count = first + len(batch.meta_sizes)
        return first

    def _locate(self, event_id: int) -> tuple[_MemoryBatch, int]:
        """The batch holding ``event_id`` and the event's index in it."""
        index = bisect_right(self._firsts, event_id) - 1
        return self._batches[index], event_id - self._firsts[index]

    def metadata(self, start: int, count: int) -> tuple[list[int], list[int], bytes]:
        with self.lock:
            end = min(start + count, self._count)
            if start >= end:
                return [], [], b""
            index = bisect_right(self._firsts, start) - 1
            meta_sizes: list[int] = []
            data_sizes: list[int] = []
            parts = []
            position = start
            while position < end:
                batch, first = self._batches[index], self._firsts[index]
                low, high = position - first, min(end - first, len(batch.meta_sizes))
                meta_sizes += batch.meta_sizes[low:high]
                data_sizes += batch.data_sizes[low:high]
                parts.append(batch.metadata[batch.meta_offsets[low] : batch.meta_offsets[high]])
                position = first + high
                index += 1
        return meta_sizes, data_sizes, b"".join(parts)

    def data_size(self, event_id: int) -> int:
        with self.lock:
            batch, index = self._locate(event_id)
        return batch.data_sizes[index]

    def _where(self, event_id: int, offset: int) -> tuple[Any, int]:
        batch, index = self._locate(event_id)
        return batch, batch.data_offsets[index] + offset

    def _source(self, holder: Any, begin: int, end: int) -> memoryview | FileRange:
        data: memoryview = holder.data
        return data[begin:end]


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
        self._index_on_disk = 0  # bytes of the index file known to match ``_index``
        #: Written batches awaiting commit: (ticket, index records), in write order.
        self._pending: list[tuple[int, bytearray]] = []
        self._pending_events = 0
        self._written = 0  # ticket of the last written batch
        self._durable = 0  # ticket of the last committed batch
        self._retired: list[int] = []  # writers of full chunks, closed at the next commit
        self._sync_lock = threading.Lock()
        self._recover()

    def _chunk_path(self, chunk: int) -> Path:
        return self.directory / f"chunk-{chunk:06d}.dat"

    def _recover(self) -> None:
        """Keep the index up to its last complete batch, then add the batches that the chunks
        hold beyond it (the index is not synced: chunks are the truth), cutting a torn tail."""
        size = os.fstat(self._index_fd).st_size
        raw = os.pread(self._index_fd, size, 0) if size else b""
        valid = 0
        resume: tuple[int, int] | None = None
        chunk_ends: dict[int, int] = {}
        for position in range(0, len(raw) - len(raw) % _RECORD.size, _RECORD.size):
            field, meta_size, meta_offset, data_offset, data_size = _RECORD.unpack_from(
                raw, position
            )
            chunk = field & _CHUNK_MASK
            if chunk not in chunk_ends:
                path = self._chunk_path(chunk)
                chunk_ends[chunk] = path.stat().st_size if path.exists() else -1
            if max(meta_offset + meta_size, data_offset + data_size) > chunk_ends[chunk]:
                break
            if field & _LAST_OF_BATCH:
                valid = position + _RECORD.size
                resume = (chunk, data_offset + data_size)
        self._index = bytearray(raw[:valid])
        chunks = sorted(int(path.stem.split("-")[1]) for path in self.directory.glob("chunk-*.dat"))
        first_chunk, offset = resume if resume is not None else (chunks[0] if chunks else 0, 0)
        for chunk in [c for c in chunks if c >= first_chunk]:
            end = self._scan(chunk, offset if chunk == first_chunk else 0)
            if end < self._chunk_path(chunk).stat().st_size:
                os.truncate(self._chunk_path(chunk), end)  # a batch torn by a crash
        if len(self._index) != size or raw[:valid] != self._index[:valid]:
            os.ftruncate(self._index_fd, 0)
            _write_all(self._index_fd, [memoryview(self._index)], 0)
            os.fsync(self._index_fd)
        self._index_on_disk = len(self._index)
        self._chunk = chunks[-1] if chunks else 0
        self._open_writer()

    def _scan(self, chunk: int, offset: int) -> int:
        """Index the complete batches of ``chunk`` from ``offset``; return where they end."""
        fd = os.open(self._chunk_path(chunk), os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            while offset + _BATCH.size <= size:
                magic, count, checksum, body = _BATCH.unpack(os.pread(fd, _BATCH.size, offset))
                if magic != _MAGIC or offset + _BATCH.size + body > size:
                    break
                tables = os.pread(fd, 12 * count, offset + _BATCH.size)
                meta_sizes = struct.unpack_from(f"<{count}I", tables)
                data_sizes = struct.unpack_from(f"<{count}Q", tables, 4 * count)
                metadata_at = offset + _BATCH.size + 12 * count
                metadata = os.pread(fd, sum(meta_sizes), metadata_at)
                header = _BATCH.pack(magic, count, 0, body)
                if zlib.crc32(metadata, zlib.crc32(tables, zlib.crc32(header))) != checksum:
                    break
                self._index += _index_records(
                    chunk, metadata_at, meta_sizes, metadata_at + len(metadata), data_sizes
                )
                offset += _BATCH.size + body
        finally:
            os.close(fd)
        return offset

    def _open_writer(self) -> None:
        # Not O_APPEND: a batch goes exactly where its index records say it is.
        self._writer = os.open(self._chunk_path(self._chunk), os.O_WRONLY | os.O_CREAT, 0o644)
        self._writer_end = os.fstat(self._writer).st_size

    @property
    def count(self) -> int:
        return len(self._index) // _RECORD.size

    def write(
        self,
        metadata_sizes: Sequence[int],
        metadata: memoryview,
        data_sizes: Sequence[int],
        data: memoryview,
    ) -> tuple[int, int]:
        count = len(metadata_sizes)
        tables = struct.pack(f"<{count}I{count}Q", *metadata_sizes, *data_sizes)
        body = len(tables) + metadata.nbytes + data.nbytes
        checksum = zlib.crc32(
            metadata, zlib.crc32(tables, zlib.crc32(_BATCH.pack(_MAGIC, count, 0, body)))
        )
        header = _BATCH.pack(_MAGIC, count, checksum, body)
        with self.lock:
            self._check_writable()
            if self._writer_end >= self.chunk_size:
                self._retired.append(self._writer)  # synced and closed by the next commit
                self._chunk += 1
                self._open_writer()
            start = self._writer_end
            views = [memoryview(header), memoryview(tables), metadata, data]
            try:
                _write_all(self._writer, views, start)
            except OSError:
                os.ftruncate(self._writer, start)  # nothing of a failed batch stays behind
                raise
            self._writer_end = start + _BATCH.size + body
            metadata_at = start + _BATCH.size + len(tables)
            records = _index_records(
                self._chunk, metadata_at, metadata_sizes, metadata_at + metadata.nbytes, data_sizes
            )
            first = self.count + self._pending_events
            self._written += 1
            self._pending.append((self._written, records))
            self._pending_events += count
            return first, self._written

    def _last_ticket(self) -> int:
        return self._written

    def commit(self, ticket: int) -> None:
        """Sync the chunks once for every batch written so far (unless a commit running or
        done already covers ``ticket``), then index those batches and wake the feeds."""
        with self._sync_lock:
            with self.lock:
                if self._durable >= ticket:
                    return
                target = self._written
                writers = [*self._retired, self._writer]
                retired, self._retired = self._retired, []
            if self.sync:
                # One sync for the group: the chunks describe their batches, so the index
                # (written after it, not synced) can be rebuilt from them.
                for fd in writers:
                    os.fdatasync(fd)
            for fd in retired:
                os.close(fd)
            with self.lock:
                done = [item for item in self._pending if item[0] <= target]
                del self._pending[: len(done)]
                for _, records in done:
                    self._index += records
                    self._pending_events -= len(records) // _RECORD.size
                self._durable = target
                self._save_index()
                self.appended.notify_all()

    def _save_index(self) -> None:
        """Write the index records the index file misses (lock held). On failure the file
        is cut back to what it held: reopening rebuilds the rest from the chunks."""
        on_disk = self._index_on_disk
        try:
            _write_all(self._index_fd, [memoryview(self._index)[on_disk:]], on_disk)
        except OSError as error:
            log.warning("index of %s behind its chunks (%s): retried later", self.directory, error)
            try:
                os.ftruncate(self._index_fd, on_disk)
            except OSError:
                pass  # records past on_disk point into the chunks and are checked at reopening
            return
        self._index_on_disk = len(self._index)

    def _record(self, event_id: int) -> tuple[int, int, int, int, int]:
        field, meta_size, meta_offset, data_offset, data_size = _RECORD.unpack_from(
            self._index, event_id * _RECORD.size
        )
        return field & _CHUNK_MASK, meta_size, meta_offset, data_offset, data_size

    def _reader(self, chunk: int) -> int:
        fd = self._readers.get(chunk)
        if fd is None:
            fd = os.open(self._chunk_path(chunk), os.O_RDONLY)
            self._readers[chunk] = fd
        return fd

    def metadata(self, start: int, count: int) -> tuple[list[int], list[int], bytes]:
        with self.lock:
            end = min(start + count, self.count)
            raw = bytes(self._index[start * _RECORD.size : end * _RECORD.size])
        if not raw:
            return [], [], b""
        words = array("Q", raw)
        if sys.byteorder != "little":
            words.byteswap()
        firsts = words[0::4]
        chunks = [word & _CHUNK_MASK for word in firsts]
        meta_sizes = [word >> 32 for word in firsts]
        meta_offsets = words[1::4]
        data_sizes = words[3::4].tolist()
        parts = []
        # Consecutive metadata of one batch is contiguous in its chunk: read runs at once.
        run_chunk, run_start = chunks[0], meta_offsets[0]
        run_end = run_start
        for chunk, meta_size, meta_offset in zip(chunks, meta_sizes, meta_offsets, strict=True):
            if chunk != run_chunk or meta_offset != run_end:
                parts.append(os.pread(self._reader(run_chunk), run_end - run_start, run_start))
                run_chunk, run_start = chunk, meta_offset
            run_end = meta_offset + meta_size
        parts.append(os.pread(self._reader(run_chunk), run_end - run_start, run_start))
        return meta_sizes, data_sizes, b"".join(parts)

    def data_size(self, event_id: int) -> int:
        with self.lock:
            return self._record(event_id)[4]

    def _where(self, event_id: int, offset: int) -> tuple[Any, int]:
        chunk, _, _, data_offset, _ = self._record(event_id)
        return self._reader(chunk), data_offset + offset

    def _source(self, holder: Any, begin: int, end: int) -> memoryview | FileRange:
        return FileRange(holder, begin, end - begin)

    def close(self) -> None:
        with self.lock:
            for fd in [self._writer, *self._retired, self._index_fd, *self._readers.values()]:
                os.close(fd)
            self._readers.clear()
            self._retired.clear()


def _index_records(
    chunk: int,
    metadata_at: int,
    metadata_sizes: Sequence[int],
    data_at: int,
    data_sizes: Sequence[int],
) -> bytearray:
    """The index records of one batch (the last one flagged as such), built column-wise.

    A record is four little-endian 64-bit words: ``chunk | flag | metadata size << 32``,
    metadata offset, data offset, data size.
    """
    count = len(metadata_sizes)
    words = array("Q", bytes(_RECORD.size * count))
    firsts = [chunk | (size << 32) for size in metadata_sizes]
    firsts[-1] |= _LAST_OF_BATCH
    words[0::4] = array("Q", firsts)
    words[1::4] = array("Q", accumulate(metadata_sizes[:-1], initial=metadata_at))
    words[2::4] = array("Q", accumulate(data_sizes[:-1], initial=data_at))
    words[3::4] = array("Q", data_sizes)
    if sys.byteorder != "little":
        words.byteswap()
    return bytearray(words.tobytes())


def _read_file(source: FileRange, destination: memoryview) -> None:
    """Fill ``destination`` with the bytes of ``source``."""
    position = source.offset
    while destination.nbytes:
        count = os.preadv(source.fd, [destination], position)
        if count <= 0:
            raise OSError(f"chunk file ends at {position}, before the range its index gives")
        destination = destination[count:]
        position += count


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
