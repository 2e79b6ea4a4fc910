"""Positional vectored I/O helpers: complete writes and reads despite short transfers.

Linux rejects ``pwritev``/``preadv`` calls with more than ``IOV_MAX`` (1024) buffers (the C++
driver fails on such batches, reference-api.md §5.7); these helpers never pass more than
:data:`MAX_IOVECS` buffers to one call and loop until everything is transferred.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["MAX_IOVECS", "pwrite_all", "pread_into", "close_descriptors"]

#: Most buffers given to one ``os.pwritev``/``os.preadv`` call (Linux ``IOV_MAX``).
MAX_IOVECS = 1024


def pwrite_all(
    fd: int, buffers: Sequence[Any], offset: int, lengths: Sequence[int] | None = None
) -> int:
    """Write ``buffers`` back to back at ``offset`` of ``fd``; return the number of bytes.

    Empty buffers are allowed. ``lengths``: the size in bytes of each buffer, when the caller
    knows them; the buffers are then handed to the system as they are, up to
    :data:`MAX_IOVECS` per call, with no work per buffer unless a write is short. Raises
    ``OSError`` if the system refuses to write (e.g. disk full); a write that makes no
    progress is reported as ``OSError`` too.
    """
    if lengths is None:
        return _pwrite_each(fd, buffers, offset)
    if len(buffers) <= MAX_IOVECS:
        return _pwrite_known(fd, buffers, lengths, offset)
    total = 0
    for start in range(0, len(buffers), MAX_IOVECS):
        stop = start + MAX_IOVECS
        total += _pwrite_known(fd, buffers[start:stop], lengths[start:stop], offset + total)
    return total


def _pwrite_known(fd: int, buffers: Sequence[Any], lengths: Sequence[int], offset: int) -> int:
    """Write up to :data:`MAX_IOVECS` buffers of ``lengths`` bytes in one call (more calls
    only after a short write)."""
    if not buffers:
        return 0
    expected = sum(lengths)
    written = os.pwritev(fd, buffers, offset)
    if written != expected:
        if written <= 0:
            raise OSError(f"write made no progress at offset {offset}")
        _pwrite_each(fd, _after(buffers, lengths, written), offset + written)
    return expected


def _after(buffers: Sequence[Any], lengths: Sequence[int], count: int) -> list[Any]:
    """What remains of ``buffers`` (of ``lengths`` bytes) once their first ``count`` bytes
    were written."""
    for position, length in enumerate(lengths):
        if count < length:
            head = memoryview(buffers[position]).cast("B")[count:]
            return [head, *buffers[position + 1 :]]
        count -= length
    return []


def _pwrite_each(fd: int, buffers: Sequence[Any], offset: int) -> int:
    """:func:`pwrite_all` for buffers of unknown lengths (each is measured as a byte view)."""
    pending = [
        buffer if type(buffer) is bytes else memoryview(buffer).cast("B") for buffer in buffers
    ]
    pending = [buffer for buffer in pending if len(buffer)]
    total = 0
    start = 0
    while start < len(pending):
        chunk = pending[start : start + MAX_IOVECS]
        if len(chunk) == 1:
            written = os.pwrite(fd, chunk[0], offset)
        else:
            written = os.pwritev(fd, chunk, offset)
        if written <= 0:
            raise OSError(f"write made no progress at offset {offset}")
        offset += written
        total += written
        # Skip the buffers written completely; keep the unwritten part of a partial one.
        while written:
            size = len(pending[start])
            if written >= size:
                written -= size
                start += 1
            else:
                pending[start] = pending[start][written:]
                written = 0
    return total


def pread_into(fd: int, destinations: Sequence[memoryview], offset: int) -> int:
    """Fill ``destinations`` (writable byte views) from ``offset`` of ``fd`` contiguously.

    Returns the number of bytes read, which is smaller than the total size of the
    destinations only if the end of the file was reached.
    """
    pending = [view for view in destinations if view.nbytes]
    total = 0
    start = 0
    while start < len(pending):
        chunk = pending[start : start + MAX_IOVECS]
        got = os.preadv(fd, chunk, offset)
        if got == 0:
            break
        offset += got
        total += got
        while got:
            size = pending[start].nbytes
            if got >= size:
                got -= size
                start += 1
            else:
                pending[start] = pending[start][got:]
                got = 0
    return total


def close_descriptors(fds: Iterable[int]) -> None:
    """Close each of ``fds``, ignoring those already closed (usable as a finalizer)."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
