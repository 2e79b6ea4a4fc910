"""Where a consumer reads from: :class:`Position` and the checking of start and seek targets."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from .exceptions import InvalidArgument

__all__ = ["Position", "PartitionPositions", "partition_positions"]


class Position(enum.Enum):
    """A position relative to a partition's content or to a consumer name's acknowledgements.

    ``BEGINNING``: the partition's first event; ``END``: after its last event at the time of
    the call (only events pushed afterwards); ``ACKNOWLEDGED``: after the last event the
    consumer's name acknowledged (the beginning if it acknowledged none), the default start.
    """

    BEGINNING = "beginning"
    END = "end"
    ACKNOWLEDGED = "acknowledged"


#: What the full-level interface receives: every partition to move, with an event id (the next
#: event to deliver) or a :class:`Position`.
PartitionPositions = dict[int, "int | Position"]


def _one(value: Any, partition: int | None) -> int | Position:
    where = "" if partition is None else f" for partition {partition}"
    if isinstance(value, Position):
        return value
    if isinstance(value, str):
        try:
            return Position(value)
        except ValueError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        if value >= 0:
            return value
        raise InvalidArgument(f"An event id to start at must be >= 0, got {value}{where}")
    raise InvalidArgument(
        f"A position{where} must be a Position ({', '.join(p.value for p in Position)}) or an "
        f"event id, got {value!r}"
    )


def partition_positions(
    value: Any, targets: Sequence[int], num_partitions: int
) -> PartitionPositions:
    """Check ``value`` (a :class:`Position`, its name, or ``{partition: event id | Position}``)
    and return one entry per partition it moves: every target for a single position, the
    partitions named for a mapping (each a target of the consumer)."""
    if not isinstance(value, Mapping):
        position = _one(value, None)
        if isinstance(position, int):
            raise InvalidArgument(
                "An event id is a position within one partition: give {partition: event_id}, "
                f"got {value!r}"
            )
        return dict.fromkeys(targets, position)
    positions: PartitionPositions = {}
    for partition, target in value.items():
        if isinstance(partition, bool) or not isinstance(partition, int):
            raise InvalidArgument(f"Position keys must be partition indices, got {partition!r}")
        if not 0 <= partition < num_partitions or partition not in targets:
            raise InvalidArgument(
                f"Partition {partition} is not read by this consumer (its partitions: "
                f"{list(targets)})"
            )
        positions[partition] = _one(target, partition)
    return positions
