"""One partition: its ``data``, ``metadata`` and ``index`` files (reference-api.md §5.3, §5.7).

Writing (``append``), under the process-wide lock of the partition and, with file locking,
``flock(LOCK_EX)`` on data, metadata and index:

1. the true state is read from the files, never from values cached by this handle: the number
   of complete index records, and the metadata/data ends given by the *last complete* record;
2. a torn tail left by a writer that died (a partial index record, metadata or data bytes past
   those ends) is cut off;
3. all metadata blobs, then all data segments, then all index records are written at those
   ends, so an index record, the only thing readers trust, is written after what it points to.
   If a write fails, what was written is cut off again and nothing becomes visible.

Reading trusts complete index records only. The index size is re-read on every call; when it
changed since the last look, it is read again under the partition lock (and ``flock(LOCK_SH)``),
so a reader never sees part of an ``append`` in progress.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import weakref
import zlib
from array import array
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from operator import attrgetter
from typing import Any, NamedTuple

from diaspora_stream.backend.log import AppendRecord, RecordColumns, StoredColumns, StoredRecord
from diaspora_stream.exceptions import Exception as DiasporaException
from diaspora_stream.exceptions import PartitionCompleted
from diaspora_stream.logs import get_logger

from . import index
from .checksums import CHECKSUMS_FILE, ChecksumFile, crc_of, crc_of_range
from .checksums import RECORD_SIZE as CHECKSUM_RECORD
from .corruption import CorruptedFileError, corrupted
from .fileio import close_descriptors, pread_into, pwrite_all
from .layout import COMPLETE_FILE, DATA_FILE, FILE_MODE, INDEX_FILE, METADATA_FILE
from .locking import flocked, shared_lock_for

__all__ = ["PartitionFiles", "FLUSH_BEHAVIORS"]

#: Valid values of the ``flush_behavior`` option.
FLUSH_BEHAVIORS = ("immediate", "on_flush", "buffered")

_RECORD = index.RECORD_SIZE
_LOGGER = get_logger("files")
_FILE_NAMES = (DATA_FILE, METADATA_FILE, INDEX_FILE)


def _open_file(path: str, kind: str) -> tuple[int, bool]:
    """Open (create if missing) one partition file; return ``(fd, writable)``.

    A file that exists but cannot be opened for writing (read-only file or file system) is opened
    read-only: the topic can then be read, and appending raises a clear error.
    """
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE), True
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and os.path.isfile(path):
            try:
                return os.open(path, os.O_RDONLY | os.O_CLOEXEC), False
            except OSError as second:
                error = second
        raise DiasporaException(f"Failed to open {kind} file at {path}: {error.strerror}") from None


class PartitionFiles:
    """The three files of one partition, open for the lifetime of a topic handle."""

    def __init__(
        self,
        directory: str,
        label: str,
        *,
        use_file_locking: bool,
        flush_behavior: str,
        integrity: bool = False,
    ) -> None:
        """Open or create ``data``, ``metadata`` and ``index`` in ``directory``.

        ``label`` names the partition in error messages (e.g. ``topic 'a', partition 0``).
        ``integrity``: keep and verify the checksums of every event (see :mod:`.checksums`).
        """
        self.directory = directory
        self.label = label
        self.paths = {name: os.path.join(directory, name) for name in _FILE_NAMES}
        self._use_file_locking = use_file_locking
        self._durable_appends = flush_behavior == "immediate"
        self._sync_on_flush = flush_behavior != "buffered"
        fds: list[int] = []
        try:
            writable = True
            for name in _FILE_NAMES:
                fd, file_writable = _open_file(os.path.join(directory, name), name)
                fds.append(fd)
                writable = writable and file_writable
            self._data, self._metadata, self._index = fds[:3]
            self._checksums: ChecksumFile | None = None
            if integrity:
                path = os.path.join(directory, CHECKSUMS_FILE)
                fd, file_writable = _open_file(path, CHECKSUMS_FILE)
                fds.append(fd)
                writable = writable and file_writable
                self._checksums = ChecksumFile(fd, path)
            self._shared_lock = shared_lock_for(self._index)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        self.writable = writable
        self._lock = self._shared_lock.lock
        # A handle dropped without close() still closes its files; the lock is not taken then
        # (no one else can use an unreachable handle, and a collection may run under the lock).
        self._closer = weakref.finalize(self, close_descriptors, tuple(fds))
        # Size of the index at a moment when no append was in progress (-1: unknown).
        self._committed_size = -1
        # Sizes the metadata and data files had: they never shrink below what complete index
        # records point to, so they are re-read only for records beyond them.
        self._metadata_size_seen = 0
        self._data_size_seen = 0
        self._complete_path = os.path.join(directory, COMPLETE_FILE)
        self._complete = False  # once seen complete, always complete

    # ------------------------------------------------------------------ writing

    def append(self, records: Sequence[AppendRecord]) -> int:
        """Append ``records`` (all or nothing for readers); return the id of the first one."""
        self._check_writable()
        metadata: list[bytes | memoryview] = [record.metadata for record in records]
        metadata_sizes = [
            len(blob) if type(blob) is bytes else memoryview(blob).nbytes for blob in metadata
        ]
        data = [record.data for record in records]
        checksums: list[tuple[int, int]] = []
        if self._checksums is not None:
            checksums = [
                (zlib.crc32(blob), crc_of(segments))
                for blob, segments in zip(metadata, data, strict=True)
            ]
        declared = [record.data_size for record in records]
        segments = self._data_segments(data, declared)
        return self._write(
            _Gather(metadata, metadata_sizes), metadata_sizes, segments, declared, checksums
        )

    def append_columns(self, columns: RecordColumns) -> int:
        """:meth:`append` for records given column by column (one metadata buffer)."""
        self._check_writable()
        if self._checksums is not None:  # one CRC per record: the per-record path
            return self.append(columns.records())
        metadata_sizes = columns.metadata_sizes
        if len(columns.data) != len(metadata_sizes) or len(columns.data_sizes) != len(
            metadata_sizes
        ):
            raise DiasporaException(
                f"An append to {self.label} got columns of different lengths; nothing was written"
            )
        metadata_size = sum(metadata_sizes)
        if metadata_size != len(columns.metadata):
            raise DiasporaException(
                f"An append to {self.label} got {len(columns.metadata)} bytes of metadata but "
                f"sizes adding up to {metadata_size}; nothing was written"
            )
        metadata = _Gather((columns.metadata,), (metadata_size,))
        segments = self._data_segments(columns.data, columns.data_sizes)
        return self._write(metadata, metadata_sizes, segments, columns.data_sizes, [])

    def _check_writable(self) -> None:
        if not self.writable:
            raise DiasporaException(
                f"Cannot append to {self.label}: its files are read-only "
                f"({self.directory}); open the topic from a writable location"
            )

    def _data_segments(
        self, data: Sequence[tuple[memoryview, ...]], declared: Sequence[int]
    ) -> _Gather:
        """The data segments of the records, in order, with their sizes; raises if a record's
        segments do not hold the ``data_size`` it declares."""
        if not any(data):  # no record has a segment (events without data)
            if any(declared):
                position = next(i for i, size in enumerate(declared) if size)
                raise self._size_mismatch(position, declared[position], 0)
            return _NO_SEGMENTS
        try:  # one memoryview per record (what push makes of a buffer): no per-record code
            segments = [segment for (segment,) in data]
            sizes = list(map(_NBYTES, segments))
        except (ValueError, AttributeError):  # other segments: measured one by one below
            pass
        else:
            if sizes == list(declared):
                return _Gather(segments, sizes)
        return self._measured_segments(data, declared)

    def _measured_segments(
        self, data: Sequence[tuple[memoryview, ...]], declared: Sequence[int]
    ) -> _Gather:
        """:meth:`_data_segments` record by record, segment by segment (empty ones left out)."""
        segments: list[memoryview] = []
        sizes: list[int] = []
        for position, (record_segments, data_size) in enumerate(zip(data, declared, strict=True)):
            held = 0
            for segment in record_segments:
                length = segment.nbytes if type(segment) is memoryview else len(segment)
                if length:
                    segments.append(segment)
                    sizes.append(length)
                    held += length
            if held != data_size:
                raise self._size_mismatch(position, data_size, held)
        return _Gather(segments, sizes)

    def _size_mismatch(self, position: int, declared: int, held: int) -> DiasporaException:
        return DiasporaException(
            f"Record {position} of an append to {self.label} declares data_size {declared} but "
            f"its segments hold {held} bytes; nothing was written"
        )

    def _write(
        self,
        metadata: _Gather,
        metadata_sizes: Sequence[int],
        data: _Gather,
        data_sizes: Sequence[int],
        checksums: list[tuple[int, int]],
    ) -> int:
        """Write the records (metadata buffers, data segments, their index records) under the
        write locks, at the ends the files really have; the id of the first record."""
        with self._lock, ExitStack() as stack:
            try:
                if self._use_file_locking:
                    stack.enter_context(flocked((self._data, self._metadata, self._index)))
                first, metadata_end, data_end = self._recover()
            except OSError as error:
                raise DiasporaException(
                    f"Failed to prepare an append to {self.label}: {error.strerror or error}; "
                    "nothing was stored (if the file system does not support flock, set "
                    "use_file_locking to false and use a single writer process)"
                ) from None
            if self.is_complete():
                raise PartitionCompleted(
                    f"{self.label[0].upper()}{self.label[1:]} is complete: it takes no more "
                    "events (push to another partition or topic)"
                )
            if not metadata_sizes:
                return first
            fields = index.fields_of(metadata_end, metadata_sizes, data_end, data_sizes)
            index_end = first * _RECORD
            try:
                pwrite_all(self._metadata, metadata.buffers, metadata_end, metadata.lengths)
                pwrite_all(self._data, data.buffers, data_end, data.lengths)
                if self._checksums is not None:
                    pwrite_all(
                        self._checksums.fd,
                        (ChecksumFile.encode(checksums),),
                        first * CHECKSUM_RECORD,
                    )
                if self._durable_appends:
                    # Metadata and data reach the disk before the index that points to them.
                    os.fsync(self._data)
                    os.fsync(self._metadata)
                    if self._checksums is not None:
                        os.fsync(self._checksums.fd)
                pwrite_all(self._index, (index.encode(fields),), index_end)
                if self._durable_appends:
                    os.fsync(self._index)
            except BaseException as error:
                self._undo(index_end, metadata_end, data_end)
                if isinstance(error, OSError):
                    raise DiasporaException(
                        f"Failed to append {len(metadata_sizes)} event(s) to {self.label}: "
                        f"{error.strerror or error}; nothing was stored"
                    ) from None
                raise
            self._committed_size = index_end + len(fields) * 8
            return first

    def is_complete(self) -> bool:
        """Whether the partition was marked complete (by any handle or process)."""
        if not self._complete:
            self._complete = os.path.exists(self._complete_path)
        return self._complete

    def mark_complete(self) -> None:
        """Mark the partition complete, under the write locks (no append lands after it)."""
        if not self.writable:
            raise DiasporaException(
                f"Cannot mark {self.label} complete: its files are read-only ({self.directory})"
            )
        with self._lock, ExitStack() as stack:
            try:
                if self._use_file_locking:
                    stack.enter_context(flocked((self._data, self._metadata, self._index)))
                fd = os.open(
                    self._complete_path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE
                )
                try:
                    if self._sync_on_flush:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as error:
                raise DiasporaException(
                    f"Failed to mark {self.label} complete: {error.strerror or error}"
                ) from None
            self._complete = True

    def _recover(self) -> tuple[int, int, int]:
        """Under the write locks: return ``(records, metadata end, data end)`` from the files.

        Cuts off the torn tail of a writer that died; raises (changing nothing) if the index
        points beyond the end of the metadata or data file.
        """
        index_size = os.fstat(self._index).st_size
        count = index.complete_records(index_size)
        metadata_end = data_end = 0
        if count:
            last = os.pread(self._index, _RECORD, (count - 1) * _RECORD)
            if len(last) == _RECORD:
                metadata_offset, metadata_size, data_offset, data_size = index.decode_one(last)
                metadata_end = metadata_offset + metadata_size
                data_end = data_offset + data_size
        metadata_size_now = os.fstat(self._metadata).st_size
        data_size_now = os.fstat(self._data).st_size
        for kind, end, size in (
            ("metadata", metadata_end, metadata_size_now),
            ("data", data_end, data_size_now),
        ):
            if size < end:
                raise DiasporaException(
                    f"Corrupted {kind} index: entry points beyond end of file ({self.label}, "
                    f"event {count - 1} ends at byte {end} of the {kind} file, which has "
                    f"{size} bytes); the partition was truncated or modified outside "
                    "diaspora-stream, nothing was written"
                )
        torn = (
            index_size - count * _RECORD,
            metadata_size_now - metadata_end,
            data_size_now - data_end,
        )
        if any(torn):
            _LOGGER.info(
                "%s: cutting the torn tail a writer left when it died (%d index, %d metadata "
                "and %d data bytes past event %d); the %d complete events are kept",
                self.label,
                *torn,
                count - 1,
                count,
            )
        if index_size != count * _RECORD:
            os.ftruncate(self._index, count * _RECORD)
        if self._checksums is not None:
            self._recover_checksums(count)
        if metadata_size_now > metadata_end:
            os.ftruncate(self._metadata, metadata_end)
        if data_size_now > data_end:
            os.ftruncate(self._data, data_end)
        return count, metadata_end, data_end

    def _recover_checksums(self, count: int) -> None:
        """Under the write locks: make the checksums file hold exactly ``count`` records,
        computing those of events appended without integrity mode from the stored bytes."""
        assert self._checksums is not None
        known = self._checksums.count()
        if known >= count:
            if os.fstat(self._checksums.fd).st_size != count * CHECKSUM_RECORD:
                os.ftruncate(self._checksums.fd, count * CHECKSUM_RECORD)  # a torn tail
            return
        first = max(known - 1, 0)
        fields = self._checked_fields(first, count)
        if known:
            fields = fields[index.FIELDS :]
        records = [fields[i : i + index.FIELDS] for i in range(0, len(fields), index.FIELDS)]
        computed = [
            (
                crc_of_range(self._metadata, metadata_offset, metadata_size),
                crc_of_range(self._data, data_offset, data_size),
            )
            for metadata_offset, metadata_size, data_offset, data_size in records
        ]
        os.ftruncate(self._checksums.fd, known * CHECKSUM_RECORD)
        pwrite_all(self._checksums.fd, (ChecksumFile.encode(computed),), known * CHECKSUM_RECORD)

    def _undo(self, index_end: int, metadata_end: int, data_end: int) -> None:
        """Best effort after a failed append: cut every file back to its size before it."""
        undone = [(self._index, index_end), (self._data, data_end), (self._metadata, metadata_end)]
        if self._checksums is not None:
            undone.append((self._checksums.fd, index_end // _RECORD * CHECKSUM_RECORD))
        for fd, size in undone:
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass

    def sync(self) -> None:
        """fsync the three files, unless ``flush_behavior`` is ``"buffered"``."""
        if not self._sync_on_flush:
            return
        files = [(self._data, "data"), (self._metadata, "metadata"), (self._index, "index")]
        if self._checksums is not None:
            files.insert(2, (self._checksums.fd, CHECKSUMS_FILE))
        for fd, kind in files:
            try:
                os.fsync(fd)
            except OSError as error:
                raise DiasporaException(
                    f"Failed to fsync {kind} file of {self.label}: {error.strerror}"
                ) from None

    # ------------------------------------------------------------------ reading

    def event_count(self) -> int:
        """Number of complete records, excluding any append still in progress."""
        size = os.fstat(self._index).st_size
        if size != self._committed_size:
            size = self._committed_index_size()
        return size // _RECORD

    def _committed_index_size(self) -> int:
        """Index size read while no writer of this process (or, with locks, any) is appending."""
        with self._lock:
            if self._use_file_locking:
                with flocked((self._index,), fcntl.LOCK_SH):
                    size = os.fstat(self._index).st_size
            else:
                size = os.fstat(self._index).st_size
        self._committed_size = size
        return size

    def read(self, start: int, max_count: int) -> list[StoredRecord]:
        """Up to ``max_count`` complete records from id ``start``, metadata as memoryviews.

        The records (and the one before ``start``) are checked to follow each other in the
        metadata and data files, and to end within them: a damaged index raises
        :class:`CorruptedFileError` instead of giving wrong bytes or huge sizes.
        """
        span = self._read_span(start, max_count)
        if span is None:
            return []
        fields, blob = span
        stop = start + len(fields) // index.FIELDS
        offsets = fields[0::4]
        sizes = fields[1::4]
        low = offsets[0]
        view = memoryview(blob)
        locators: Sequence[Any] = fields[2::4]
        if self._checksums is not None:
            expected = self._checksums.load(start, stop)
            for event_id, offset, size, (metadata_crc, _) in zip(
                range(start, stop), offsets, sizes, expected, strict=True
            ):
                actual = zlib.crc32(view[offset - low : offset - low + size])
                self._checksums.verify(
                    event_id, "metadata", metadata_crc, actual, self.paths[METADATA_FILE], offset
                )
            locators = [
                DataLocation(data_at, data_crc)
                for data_at, (_, data_crc) in zip(locators, expected, strict=True)
            ]
        return [
            StoredRecord(event_id, view[offset - low : offset - low + size], data_size, locator)
            for event_id, offset, size, locator, data_size in zip(
                range(start, stop), offsets, sizes, locators, fields[3::4], strict=True
            )
        ]

    def read_columns(self, start: int, max_count: int) -> StoredColumns | None:
        """:meth:`read` as columns; ``None`` in integrity mode (records are verified one by
        one there)."""
        if self._checksums is not None:
            return None
        span = self._read_span(start, max_count)
        if span is None:
            return StoredColumns(start, b"", [], [], [])
        fields, blob = span
        return StoredColumns(start, blob, fields[1::4], fields[3::4], fields[2::4])

    def _read_span(self, start: int, max_count: int) -> tuple[array, bytes] | None:
        """The checked index fields of up to ``max_count`` records from id ``start`` and their
        metadata bytes (back to back), or ``None`` when there is no such record."""
        count = self.event_count()
        if start >= count or max_count <= 0:
            return None
        stop = min(count, start + max_count)
        first = start - 1 if start else 0
        fields = self._checked_fields(first, stop)
        if len(fields) // index.FIELDS <= start - first:
            return None
        if start != first:
            fields = fields[index.FIELDS :]
        low = fields[0]
        high = fields[-4] + fields[-3]
        blob = os.pread(self._metadata, high - low, low)
        if len(blob) != high - low:
            raise DiasporaException(f"The metadata file of {self.label} changed while being read")
        return fields, blob

    def _checked_fields(self, first: int, stop: int) -> array:
        """Fields of the complete index records ``first`` to ``stop - 1`` (fewer if the index is
        shorter), checked to follow each other and to end within the metadata and data files."""
        fields = index.decode(os.pread(self._index, (stop - first) * _RECORD, first * _RECORD))
        if not fields:
            return fields
        broken = index.first_discontinuity(fields, first)
        if broken is not None:
            event, detail = broken
            raise corrupted(self.paths[INDEX_FILE], event * _RECORD, f"Corrupted index: {detail}")
        last = first + len(fields) // index.FIELDS - 1
        self._check_within("metadata", last, fields[-4] + fields[-3])
        self._check_within("data", last, fields[-2] + fields[-1])
        return fields

    def locate(self, event_id: int) -> str:
        """Where the metadata of event ``event_id`` is: file and byte offset (for messages)."""
        raw = os.pread(self._index, _RECORD, event_id * _RECORD)
        if len(raw) != _RECORD:
            return f"{self.label}, event {event_id}"
        metadata_offset = index.decode_one(raw)[0]
        return (
            f"file {self.paths[METADATA_FILE]}, byte offset {metadata_offset} ({self.label}, "
            f"event {event_id})"
        )

    def _check_within(self, kind: str, event_id: int, end: int) -> None:
        """Raise unless the ``kind`` file holds ``end`` bytes (where event ``event_id`` ends)."""
        seen = self._metadata_size_seen if kind == "metadata" else self._data_size_seen
        if end <= seen:
            return
        fd = self._metadata if kind == "metadata" else self._data
        size = os.fstat(fd).st_size
        if kind == "metadata":
            self._metadata_size_seen = size
        else:
            self._data_size_seen = size
        if end > size:
            raise corrupted(
                self.paths[INDEX_FILE],
                event_id * _RECORD,
                f"Corrupted {kind} index: entry points beyond end of file ({self.label}, event "
                f"{event_id} ends at byte {end} of the {kind} file, which has {size} bytes)",
            )

    def read_data(
        self,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the ``(offset, size)`` ranges of ``record``'s data into ``destination``.

        The ranges, in order, fill the destination views contiguously (view 0 first).
        """
        base, crc = self._location(record)
        size = record.data_size
        self._check_within("data", record.event_id, base + size)
        fill: Callable[[list[memoryview], int], int]
        if crc is not None:
            # Integrity mode: the whole data is read and verified before any byte is given.
            verified = self._verified_data(record.event_id, base, size, crc)
            fill = functools.partial(_copy_into, verified)
        else:
            fill = functools.partial(_pread_at, self._data, base)
        if crc is None and len(segments) == 1 and len(destination) == 1:
            # Fast path: one range into one byte buffer (the common full-data read).
            offset, length = segments[0]
            view = destination[0]
            if (
                view.format == "B"
                and view.ndim == 1
                and not view.readonly
                and len(view) >= length
                and 0 <= offset <= offset + length <= size
            ):
                if length:
                    target_view = view if len(view) == length else view[:length]
                    got = os.preadv(self._data, (target_view,), base + offset)
                    if got != length:
                        got += pread_into(self._data, (target_view[got:],), base + offset + got)
                    if got != length:
                        raise self._short_read(record, got, length, base + offset)
                return
        views = [
            view if view.ndim == 1 and view.format == "B" else view.cast("B")
            for view in destination
        ]
        if any(view.readonly for view in views):
            raise DiasporaException("Cannot read event data into a read-only buffer")
        target = 0  # index of the destination view being filled
        filled = 0  # bytes already filled in it
        for offset, length in _merge(segments):
            if offset < 0 or length < 0 or offset + length > size:
                raise DiasporaException(
                    f"Requested segment [{offset}, {offset + length}) exceeds data size {size}"
                )
            pieces: list[memoryview] = []
            needed = length
            while needed:
                if target >= len(views):
                    raise DiasporaException(
                        "DataView has insufficient capacity for descriptor segments"
                    )
                view = views[target]
                take = min(len(view) - filled, needed)
                if take:
                    pieces.append(view[filled : filled + take])
                    filled += take
                    needed -= take
                if filled == len(view):
                    target += 1
                    filled = 0
            got = fill(pieces, offset)
            if got != length:
                raise self._short_read(record, got, length, base + offset)

    def read_selected(
        self,
        requests: Sequence[tuple[StoredRecord, Sequence[tuple[int, int]], Sequence[memoryview]]],
    ) -> None:
        """:meth:`read_data` for each ``(record, segments, destination)``; the requests that
        read one range into one byte buffer and follow each other in the data file are read
        with one vectored read (a consumer's batch of whole-data reads is one read)."""
        run: list[tuple[StoredRecord, memoryview]] = []
        end = -1  # where the last range of the run ends in the data file
        for record, segments, destination in requests:
            target = _one_range(record, segments, destination)
            if target is None:
                self._read_run(run, end)
                run = []
                self.read_data(record, segments, destination)
                continue
            at, view = target
            if run and at != end:
                self._read_run(run, end)
                run = []
            run.append((record, view))
            end = at + len(view)
        self._read_run(run, end)

    def _read_run(self, run: list[tuple[StoredRecord, memoryview]], end: int) -> None:
        """Fill the views of ``run`` (ranges back to back, ending at ``end``) with one read."""
        if not run:
            return
        self._check_run_within(run)
        total = sum(len(view) for _, view in run)
        got = pread_into(self._data, [view for _, view in run], end - total)
        if got == total:
            return
        at = end - total
        for record, view in run:  # the first range cut short
            if got < len(view):
                raise self._short_read(record, got, len(view), at)
            got -= len(view)
            at += len(view)

    def _check_run_within(self, run: list[tuple[StoredRecord, memoryview]]) -> None:
        """Raise unless the data file holds the whole data of every record of ``run``, naming
        the first record that does not fit."""
        last = run[-1][0]
        try:
            self._check_within("data", last.event_id, self._location(last)[0] + last.data_size)
        except CorruptedFileError:
            for record, _ in run:
                end = self._location(record)[0] + record.data_size
                self._check_within("data", record.event_id, end)
            raise

    def _location(self, record: StoredRecord) -> tuple[int, int | None]:
        """``(data offset, expected data CRC or None)`` of a record returned by :meth:`read`."""
        locator = record.locator
        if isinstance(locator, DataLocation):
            return locator.offset, locator.crc
        if isinstance(locator, int):
            return locator, None
        raise DiasporaException(
            f"Invalid record locator {locator!r} for {self.label}: pass a record returned by "
            "read() of this backend"
        )

    def _verified_data(self, event_id: int, base: int, size: int, crc: int) -> memoryview:
        """The whole data of event ``event_id``, checked against its CRC ``crc``."""
        buffer = memoryview(bytearray(size))
        got = pread_into(self._data, (buffer,), base)
        if got != size:
            raise corrupted(
                self.paths[DATA_FILE], base + got, f"Data of event {event_id} is cut short"
            )
        self._verify_data(event_id, base, buffer, crc)
        return buffer

    def _verify_data(self, event_id: int, base: int, data: memoryview, crc: int) -> None:
        assert self._checksums is not None
        self._checksums.verify(event_id, "data", crc, zlib.crc32(data), self.paths[DATA_FILE], base)

    def _short_read(
        self, record: StoredRecord, got: int, length: int, offset: int
    ) -> CorruptedFileError:
        return corrupted(
            self.paths[DATA_FILE],
            offset,
            f"Failed to read data segment: read {got} bytes, expected {length} ({self.label}, "
            f"event {record.event_id}; the data file was truncated)",
        )

    def read_contiguous_data(self, records: Sequence[StoredRecord]) -> list[memoryview] | None:
        """The whole data of ``records`` with one read into one buffer (the views are slices of
        it), or ``None`` if they are not contiguous in the data file (records of one partition
        written in sequence are)."""
        locations = [self._location(record) for record in records]
        contiguous = all(
            before[0] + record.data_size == after[0]
            for before, after, record in zip(locations, locations[1:], records, strict=False)
        )
        if not records or not contiguous:
            return None
        first = records[0]
        total = sum(record.data_size for record in records)
        self._check_within("data", records[-1].event_id, locations[0][0] + total)
        buffer = memoryview(bytearray(total))
        span = StoredRecord(first.event_id, b"", total, locations[0][0])
        self.read_data(span, ((0, total),), (buffer,))
        views = []
        offset = 0
        for record, (base, crc) in zip(records, locations, strict=True):
            view = buffer[offset : offset + record.data_size]
            if crc is not None:
                self._verify_data(record.event_id, base, view, crc)
            views.append(view)
            offset += record.data_size
        return views

    def close(self) -> None:
        """Close the three files (waits for an append in progress through this process)."""
        with self._lock:
            self._closer()


class _Gather(NamedTuple):
    """Buffers written back to back by one vectored write, and the size in bytes of each."""

    buffers: Sequence[Any]
    lengths: Sequence[int]


_NO_SEGMENTS = _Gather((), ())
_NBYTES = attrgetter("nbytes")


class DataLocation(NamedTuple):
    """Locator of a record read in integrity mode: where its data is and its CRC-32."""

    offset: int
    crc: int


def _pread_at(fd: int, base: int, pieces: list[memoryview], offset: int) -> int:
    """Fill ``pieces`` from byte ``base + offset`` of ``fd``; the number of bytes read."""
    return pread_into(fd, pieces, base + offset)


def _copy_into(source: memoryview, pieces: list[memoryview], offset: int) -> int:
    """Fill ``pieces`` from ``source[offset:]``; the number of bytes copied."""
    copied = 0
    for piece in pieces:
        length = len(piece)
        piece[:] = source[offset + copied : offset + copied + length]
        copied += length
    return copied


def _merge(segments: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The non-empty segments, adjacent ones merged (one read instead of several)."""
    merged: list[tuple[int, int]] = []
    for offset, length in segments:
        if not length:
            continue
        if merged and merged[-1][0] + merged[-1][1] == offset:
            merged[-1] = (merged[-1][0], merged[-1][1] + length)
        else:
            merged.append((offset, length))
    return merged


def _one_range(
    record: StoredRecord, segments: Sequence[tuple[int, int]], destination: Sequence[memoryview]
) -> tuple[int, memoryview] | None:
    """``(data file offset, view to fill)`` when ``record``'s request is one valid range into
    one byte buffer and the record has no checksum to verify; ``None`` otherwise (the request
    is then read by itself)."""
    if len(segments) != 1 or len(destination) != 1 or type(record.locator) is not int:
        return None
    offset, length = segments[0]
    view = destination[0]
    if (
        not length
        or view.format != "B"
        or view.ndim != 1
        or view.readonly
        or len(view) < length
        or not 0 <= offset <= offset + length <= record.data_size
    ):
        return None
    return record.locator + offset, view if len(view) == length else view[:length]
