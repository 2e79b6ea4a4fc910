"""Built-in partition selector ``default``: round robin (reference-api.md §4.6)."""

from __future__ import annotations

import itertools
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, ClassVar

from ..exceptions import Exception as DiasporaError
from .interfaces import PartitionSelectorInterface

__all__ = ["DefaultPartitionSelector"]


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


class DefaultPartitionSelector(PartitionSelectorInterface):
    """Round-robin partition selector; type ``"default"``.

    Without a requested partition, successive calls return 0, 1, …, n-1, 0, …; a requested
    partition ``r`` gives ``r % n`` and does not advance the round robin. Thread safe: the
    producers of a topic handle share one instance.
    """

    type_name: ClassVar[str] = "default"

    def __init__(self) -> None:
        """Create a selector with no partition yet (selection fails until set_partitions)."""
        self._partitions: list[dict[str, Any]] = []
        self._count = 0
        # next() on itertools.count is atomic under the GIL; without a GIL, use a lock.
        self._counter = itertools.count()
        self._lock = None if _gil_enabled() else threading.Lock()
        self._next: Callable[[], int]
        if self._lock is None:
            self._next = self._counter.__next__
        else:
            self._next = self._locked_next

    def _locked_next(self) -> int:
        assert self._lock is not None
        with self._lock:
            return next(self._counter)

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> DefaultPartitionSelector:
        """Create the selector; its configuration is ignored."""
        return cls()

    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        """Set the partitions to choose from (the round-robin position is kept)."""
        self._partitions = list(partitions)
        self._count = len(self._partitions)

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        """Return ``requested % n`` if given, else the next partition in round-robin order.

        Raises :class:`~diaspora_stream.exceptions.Exception` if there is no partition.
        """
        count = self._count
        if count == 0:
            raise DiasporaError("PartitionSelector has no target to select from")
        if requested is not None:
            return requested % count
        return self._next() % count

    def select_partitions_for_many(self, events: int, requested: int | None) -> list[int]:
        """What ``events`` calls of :meth:`select_partition_for` would return, in order (the
        metadata plays no part in the choice); raises as it does, choosing nothing."""
        count = self._count
        if count == 0:
            raise DiasporaError("PartitionSelector has no target to select from")
        if requested is not None:
            return [requested % count] * events
        with self._lock or nullcontext():
            taken = itertools.islice(self._counter, events)
            if count == 1:
                deque(taken, maxlen=0)  # the round robin moves on all the same
                return [0] * events
            return [value % count for value in taken]
