"""Constants and enums shared by the API and the backends."""

from __future__ import annotations

import enum

__all__ = ["AdaptiveBatchSize", "NoMoreEvents", "MaxNumBatchesInfinity", "Ordering"]

#: Batch size meaning "send as soon as possible, grow the batch while the backend is busy".
AdaptiveBatchSize: int = 2**64 - 1

#: Event id that the C++ reference uses for its "no more events" sentinel.
NoMoreEvents: int = 2**64 - 1

#: ``max_num_batches`` value meaning "no limit".
MaxNumBatchesInfinity: int = 2**64 - 1


class Ordering(enum.IntEnum):
    """Whether events targeting the same partition keep the order of the ``push`` calls."""

    Loose = 0
    Strict = 1
