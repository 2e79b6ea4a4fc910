"""On-node data path: memory the client creates and hands to the server (``memfd``).

A producer on the server's node copies each batch's data into a :class:`SharedArea`, an
anonymous memory file (``memfd``) it created and sealed against shrinking, and passes the file
descriptor to the server once per connection over the Unix socket (``SCM_RIGHTS``). The server
maps that file (:func:`map_shared`) and reads a batch from the offset the request names, after
checking it lies inside the mapping: it reaches the memory the client gave it and nothing else,
as a Mercury server reaches only the bulk handles a client registered. An area is used as a
ring (a region is free again once the server answered its batch), and an area whose batches
were all answered goes back to a pool of this process for the next connection, so its pages
are faulted in once per process, as RDMA clients register their buffers once.
"""

from __future__ import annotations

import ctypes
import fcntl
import mmap
import os
import stat
import threading
import weakref
from collections import deque

from .memory_access import buffer_address

__all__ = ["SharedArea", "SharedMemoryError", "map_shared"]

#: Seals a shared area carries: the server maps it for good, so it may never shrink under it.
_REQUIRED_SEALS = fcntl.F_SEAL_SHRINK
#: Region alignment in an area (a cache line).
_ALIGNMENT = 64
#: Views of at least this size are copied with the GIL released (a ctypes call); smaller ones by
#: slice assignment, whose fixed cost is a fraction of a ctypes call's (most of the copy time of
#: a 64 KiB view) and which holds the GIL only for a few microseconds.
_RELEASE_GIL_FROM = 256 * 1024
#: Idle areas kept for reuse by this process.
_POOL_SIZE = 8
_pool: list[SharedArea] = []
_pool_lock = threading.Lock()


class SharedMemoryError(Exception):
    """A descriptor offered as shared memory is unfit (not a sealed memfd, too large)."""


class SharedArea:
    """A sealed ``memfd`` of ``capacity`` bytes, mapped here, handed out as a ring of regions
    (allocated and released in the same order; not thread-safe)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.fd = os.memfd_create("diaspora-mochi", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.ftruncate(self.fd, capacity)
            fcntl.fcntl(
                self.fd,
                fcntl.F_ADD_SEALS,
                fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL,
            )
            self._mapping = mmap.mmap(self.fd, capacity)
        except BaseException:
            os.close(self.fd)
            raise
        self._view = memoryview(self._mapping)
        self._base = buffer_address(self._view)
        self._regions: deque[tuple[int, int]] = deque()
        self._closer = weakref.finalize(self, os.close, self.fd)

    @classmethod
    def take(cls, capacity: int) -> SharedArea:
        """An idle area of ``capacity`` bytes from this process's pool, or a new one."""
        with _pool_lock:
            for index, area in enumerate(_pool):
                if area.capacity == capacity:
                    return _pool.pop(index)
        return cls(capacity)

    def recycle(self) -> None:
        """Give the area back to the pool if no region is in use (else let it go: a server
        may still read a region of an unanswered batch)."""
        with _pool_lock:
            if not self._regions and len(_pool) < _POOL_SIZE:
                _pool.append(self)

    def allocate(self, size: int) -> int | None:
        """The offset of a free region of ``size`` bytes, or ``None`` if none is free now."""
        size = -size % _ALIGNMENT + size
        if not self._regions:
            start = 0
        else:
            head, tail = self._regions[0][0], self._regions[-1][1]
            if tail > head:  # used: [head, tail); free: [tail, capacity) then [0, head)
                start = tail if tail + size <= self.capacity else 0
                limit = self.capacity if start == tail else head
            else:  # wrapped: free is [tail, head)
                start, limit = tail, head
            if start + size > limit:
                return None
        if start + size > self.capacity:
            return None
        self._regions.append((start, start + size))
        return start

    def fill(self, offset: int, views: list[memoryview]) -> None:
        """Copy ``views`` (contiguous, of bytes) one after the other into the area from
        ``offset``."""
        position = offset
        for view in views:
            end = position + view.nbytes
            if view.nbytes < _RELEASE_GIL_FROM:
                self._view[position:end] = view
            else:
                ctypes.memmove(self._base + position, buffer_address(view), view.nbytes)
            position = end

    def release(self) -> None:
        """Free the oldest region (its batch was answered)."""
        self._regions.popleft()

    def close(self) -> None:
        """Unmap and close the area."""
        self._regions.clear()
        self._view.release()
        self._mapping.close()
        self._closer()


def map_shared(fd: int, limit: int) -> mmap.mmap:
    """Map, read-only, the memory file ``fd`` a client passed (closing ``fd``).

    Refuses anything but a ``memfd`` sealed against shrinking (a file that could shrink under
    the mapping would crash the server on access) and larger than ``limit`` bytes.
    """
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SharedMemoryError("the shared memory must be a memfd (got another file type)")
        try:
            seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
        except OSError:
            raise SharedMemoryError(
                "the shared memory must be a memfd created with MFD_ALLOW_SEALING"
            ) from None
        if seals & _REQUIRED_SEALS != _REQUIRED_SEALS:
            raise SharedMemoryError("the shared memory must be sealed with F_SEAL_SHRINK")
        if not 0 < info.st_size <= limit:
            raise SharedMemoryError(
                f"shared memory of {info.st_size} bytes: the server accepts 1 to {limit} "
                "(configuration key max_shared_bytes)"
            )
        return mmap.mmap(fd, info.st_size, mmap.MAP_SHARED, mmap.PROT_READ)
    finally:
        os.close(fd)
