"""Memory reserved at server start for the data of memory partitions.

Writing into fresh memory costs a page fault per page, and on some machines (virtual ones
especially) that costs more than the copy itself: data would land at the page-fault rate, not
at the transport's. RDMA servers avoid it by registering (pinning, so faulting) their buffers
up front; a :class:`MemoryReserve` does the same. The server maps ``memory_reserve`` bytes
(configuration key) at start and a background thread faults them in
(``MADV_POPULATE_WRITE``, or writing zeros where the kernel lacks it) without holding the GIL,
so the server answers at once and pulls land in ready pages. Memory partitions take their
batches' landing buffers from it in order, and fresh memory once it is used up (memory
partitions keep their data until the server stops: nothing is given back).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import threading
from functools import lru_cache
from typing import Any

from .memory_access import buffer_address

__all__ = ["MemoryReserve"]

#: ``madvise`` advice that faults a range in for writing (Linux 5.14).
_MADV_POPULATE_WRITE = 23
#: Bytes faulted in per step of the background thread.
_STEP = 32 * 1024 * 1024
#: Alignment of the buffers handed out (a cache line).
_ALIGNMENT = 64


@lru_cache(maxsize=1)
def _madvise() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


class MemoryReserve:
    """``size`` bytes mapped now, faulted in by a background thread, handed out in order."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._mapping = mmap.mmap(-1, max(size, 1))
        advice = getattr(mmap, "MADV_HUGEPAGE", None)
        if advice is not None:
            try:
                self._mapping.madvise(advice)
            except OSError:
                pass  # no huge pages here: fewer faults would only have been a bonus
        self._view = memoryview(self._mapping)[:size]
        self._base = buffer_address(self._view) if size else 0
        self._lock = threading.Lock()
        self._used = 0
        self._populated = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._populate, daemon=True, name="mochi-reserve")
        self._thread.start()

    def _populate(self) -> None:
        madvise = _madvise()
        position = 0
        while position < self.size:
            length = min(_STEP, self.size - position)
            address = self._base + position
            # Both calls release the GIL (ctypes foreign calls).
            if madvise is None or madvise(address, length, _MADV_POPULATE_WRITE) != 0:
                ctypes.memset(address, 0, length)
            position += length
            self._populated = position
        self._ready.set()

    def take(self, size: int) -> memoryview | None:
        """A buffer of ``size`` bytes from the reserve, or ``None`` if not enough is left."""
        with self._lock:
            start = -self._used % _ALIGNMENT + self._used
            if start + size > self.size:
                return None
            self._used = start + size
        return self._view[start : start + size]

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every page is faulted in; whether it is."""
        return self._ready.wait(timeout)

    def stats(self) -> dict[str, int]:
        """``size``, ``populated`` (bytes faulted in so far) and ``used`` bytes."""
        return {"size": self.size, "populated": self._populated, "used": self._used}
