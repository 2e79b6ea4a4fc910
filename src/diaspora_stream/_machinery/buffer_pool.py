"""Data buffers of a consumer's events, taken back once nothing references them any more.

A consumer that reads whole data (or uses the library's ``ByteArrayAllocator``) gives each
event a ``bytearray`` of its own, which the backend then fills completely. A fresh
``bytearray`` is zero-filled first, and, once its event is dropped, its memory goes back to
the C allocator, which may hand the next large buffer pages that fault in again. A
:class:`BufferPool` keeps the buffers it handed out in a ring and gives one out again when no
one but the ring holds it any more (its reference count says so: an event, a slice, a
``memoryview`` or any buffer export of it holds a reference), skipping both the zero fill and
the page faults. A buffer still referenced anywhere is never given out again.

Only buffers of at least :data:`MIN_POOLED_SIZE` bytes are pooled (a small ``bytearray`` costs
next to nothing), and the ring holds at most ``max_bytes`` bytes (or two buffers, if larger):
the buffers it lets go live on with their events and are given back to the C allocator when
those are dropped. A batch pull raises that bound to two of its batches, up to
:data:`MAX_POOLED_BYTES`: the application usually still holds the previous batch while the
next one is read, so its memory peaks at two batches with or without the pool, and the pool
keeps that memory mapped for the next batches instead of faulting fresh pages in.
Interpreters without reference counts (no ``sys.getrefcount``) always allocate.
"""

from __future__ import annotations

import sys
from collections import deque

__all__ = ["BufferPool", "MAX_POOLED_BYTES", "MIN_POOLED_SIZE"]

#: Smallest buffer worth pooling (below, ``bytearray(size)`` is as cheap as a look-up).
MIN_POOLED_SIZE = 16 * 1024
#: Most bytes a pool keeps for reuse, whatever the batches asked for.
MAX_POOLED_BYTES = 1024 * 1024 * 1024
#: Buffers of the ring looked at per request before allocating a new one.
_PROBES = 16
#: Buffers kept whatever their size: one an event still holds, one to give out again.
_MIN_KEPT = 2

_getrefcount = getattr(sys, "getrefcount", None)


def _head_references(ring: deque[tuple[bytearray, int]]) -> int:
    """References to the first buffer of ``ring`` (counting the ring's and this call's),
    counted by the very expression :meth:`BufferPool.take` uses."""
    getrefcount = _getrefcount
    assert getrefcount is not None
    return getrefcount(ring[0][0])


def _unreferenced_count() -> int:
    """What :func:`_head_references` says of a buffer only the ring holds (-1: never known)."""
    if _getrefcount is None:
        return -1
    return _head_references(deque([(bytearray(1), 1)]))


_UNREFERENCED = _unreferenced_count()


class BufferPool:
    """``bytearray`` buffers for event data, reused once unreferenced (see the module)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._base_bytes = max_bytes  # what the pulls one at a time need (read-ahead runs)
        #: ``(buffer, size given)``: a user may resize a ``bytearray`` it was given.
        self._ring: deque[tuple[bytearray, int]] = deque()
        self._held = 0  # bytes given out in the buffers of the ring
        self._enabled = _UNREFERENCED > 0
        self._largest = 0  # the largest buffer the pool gave out

    def fit_batches(self, events: int) -> None:
        """Keep enough bytes to give out again the buffers of a batch of ``events`` events
        once the application dropped the batch before the previous one, besides those read
        ahead (up to :data:`MAX_POOLED_BYTES`)."""
        wanted = min(self._base_bytes + 2 * events * self._largest, MAX_POOLED_BYTES)
        if wanted > self.max_bytes:
            self.max_bytes = wanted

    def take(self, size: int) -> bytearray:
        """A ``bytearray`` of ``size`` bytes that nothing else references, of unspecified
        content (the caller overwrites all of it)."""
        if size < MIN_POOLED_SIZE or not self._enabled:
            return bytearray(size)
        ring = self._ring
        getrefcount = _getrefcount
        assert getrefcount is not None
        for _ in range(min(len(ring), _PROBES)):
            if getrefcount(ring[0][0]) != _UNREFERENCED:  # as _head_references counts
                ring.rotate(-1)  # still in use: looked at again later
                continue
            buffer, given = ring[0]
            if given == size and len(buffer) == size:
                ring.rotate(-1)
                return buffer
            self._held -= ring.popleft()[1]  # free but of another size: let it go
        if size > self._largest:
            self._largest = size
        return self._add(bytearray(size))

    def _add(self, buffer: bytearray) -> bytearray:
        ring = self._ring
        ring.append((buffer, len(buffer)))
        self._held += len(buffer)
        while self._held > self.max_bytes and len(ring) > _MIN_KEPT:
            self._held -= ring.popleft()[1]
        return buffer

    def clear(self) -> None:
        """Forget every buffer (those still referenced live on with their events)."""
        self._ring.clear()
        self._held = 0
