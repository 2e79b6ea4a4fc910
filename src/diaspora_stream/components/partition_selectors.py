"""Built-in partition selector ``default``: round robin (reference-api.md §4.6)."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable, Sequence
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
        self._next: Callable[[], int]
        if _gil_enabled():
            self._next = itertools.count().__next__
        else:
            self._next = self._locked_counter()

    @staticmethod
    def _locked_counter() -> Callable[[], int]:
        lock = threading.Lock()
        counter = itertools.count()

        def locked_next() -> int:
            with lock:
                return next(counter)

        return locked_next

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
