"""Locks serializing the writers of a partition: in the process and across processes.

* In the process, every handle of the same partition (several ``open_topic`` calls, several
  drivers) shares one ``threading.Lock``, found by the identity (device, inode) of the partition's
  index file, so appends through different handles are exact even without file locks.
* Across processes, ``flock(LOCK_EX)`` is taken on the data, metadata and index files, in that
  order (as the C++ driver does), and released in reverse order, also on error.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["SharedLock", "shared_lock_for", "flocked"]


class SharedLock:
    """A ``threading.Lock`` shared by every handle of one file in this process."""

    __slots__ = ("__weakref__", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()


_registry: weakref.WeakValueDictionary[tuple[int, int], SharedLock] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def shared_lock_for(fd: int) -> SharedLock:
    """The process-wide lock of the file open as ``fd`` (keep a reference while in use)."""
    status = os.fstat(fd)
    key = (status.st_dev, status.st_ino)
    with _registry_lock:
        holder = _registry.get(key)
        if holder is None:
            holder = SharedLock()
            _registry[key] = holder
        return holder


@contextmanager
def flocked(fds: Sequence[int], operation: int = fcntl.LOCK_EX) -> Iterator[None]:
    """Hold ``flock(operation)`` on each of ``fds`` (taken in order, released in reverse)."""
    taken: list[int] = []
    try:
        for fd in fds:
            fcntl.flock(fd, operation)
            taken.append(fd)
        yield
    finally:
        for fd in reversed(taken):
            fcntl.flock(fd, fcntl.LOCK_UN)
