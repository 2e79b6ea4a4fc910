"""Thread pools: where producers run validation/serialization and where ``process`` runs the
user's event processor.

A pool with 0 threads runs work synchronously in the caller's thread. A pool with N threads runs
work on N daemon threads; work pushed with the maximum priority (the default) is served first, in
FIFO order, then other work by decreasing priority.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import weakref
from collections import deque
from collections.abc import Callable

from .exceptions import InvalidArgument

__all__ = ["ThreadPool", "MAX_PRIORITY"]

MAX_PRIORITY = 2**64 - 1


class ThreadPool:
    """A pool of worker threads (``Driver.make_thread_pool``)."""

    def __init__(self, count: int = 0) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidArgument(f"Thread count must be a non-negative integer, got {count!r}")
        self._count = count
        self._lock = threading.Condition(threading.Lock())
        self._urgent: deque[Callable[[], None]] = deque()
        self._by_priority: list[tuple[int, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._stopping = False
        self._threads: list[threading.Thread] = []
        for number in range(count):
            thread = threading.Thread(
                target=_worker,
                args=(weakref.ref(self), self._lock),
                daemon=True,
                name=f"diaspora-pool-{id(self):x}-{number}",
            )
            self._threads.append(thread)
            thread.start()

    @property
    def thread_count(self) -> int:
        """Number of worker threads (0: work runs in the caller's thread)."""
        return self._count

    @property
    def size(self) -> int:
        """Number of work items queued and not yet started."""
        with self._lock:
            return len(self._urgent) + len(self._by_priority)

    def push_work(self, work: Callable[[], None], priority: int = MAX_PRIORITY) -> None:
        """Run ``work()``: now if the pool has no thread, else on a worker thread."""
        if self._count == 0:
            work()
            return
        with self._lock:
            if self._stopping:
                raise RuntimeError("ThreadPool is shut down")
            if priority >= MAX_PRIORITY:
                self._urgent.append(work)
            else:
                heapq.heappush(self._by_priority, (-priority, next(self._sequence), work))
            self._lock.notify()

    def runs_current_thread(self) -> bool:
        """Whether the calling thread is one of this pool's workers."""
        return threading.current_thread() in self._threads

    def _next_work(self) -> Callable[[], None] | None:
        if self._urgent:
            return self._urgent.popleft()
        if self._by_priority:
            return heapq.heappop(self._by_priority)[2]
        return None

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers once the queued work is done."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if wait:
            current = threading.current_thread()
            for thread in self._threads:
                if thread is not current:
                    thread.join()

    def __del__(self) -> None:
        lock = getattr(self, "_lock", None)
        if lock is not None:
            with lock:
                self._stopping = True
                lock.notify_all()

    def __repr__(self) -> str:
        return f"<ThreadPool threads={self._count}>"


def _worker(pool_ref: weakref.ref[ThreadPool], lock: threading.Condition) -> None:
    while True:
        with lock:
            pool = pool_ref()
            if pool is None:
                return
            work = pool._next_work()
            while work is None:
                if pool._stopping:
                    return
                del pool
                lock.wait(0.5)
                pool = pool_ref()
                if pool is None:
                    return
                work = pool._next_work()
            del pool
        try:
            work()
        except BaseException:  # noqa: BLE001 - a failing work item must not kill the worker
            import traceback

            traceback.print_exc()
