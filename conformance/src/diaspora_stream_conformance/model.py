"""A trivially correct in-memory model of the Diaspora Stream API's semantics.

The stateful tests (:mod:`diaspora_stream_conformance.stateful`) drive a backend and this model
side by side and compare them after every step. The model uses plain dicts and lists only and
never calls the package under test, so it can be used to check it:

* a topic has ``N`` partitions; each partition is a log of the events stored in it, by id;
* an event is *accepted* when the topic's validator accepts its metadata (:class:`SchemaRule`
  models the validators the tests use) and goes to the partition the default partition selector
  chooses (:class:`HandleModel`: round robin per topic handle, ``hint % N`` when a partition is
  requested, rejected events do not advance the round robin);
* a pushed event's id is *unknown* until the backend reveals it (its push future completes, or a
  consumer delivers it). Until then the event is *unresolved*: it may or may not be stored yet,
  because backends may store events before ``flush()`` (adaptive batching, eager senders).
  :meth:`PartitionModel.id_bounds` gives the ids an unresolved event may receive: ids are dense
  per partition, unique, and increasing in push order for the events of one producer; with a
  single producer they are exactly predicted;
* a consumer named ``name`` starts, in each partition it targets, after the last event that name
  acknowledged, and delivers events round robin over its targeted partitions (one event from the
  partition after the one that gave the previous event), each partition in id order
  (:class:`ConsumerModel`, reference-api §5.8 "Order of delivery");
* a consumer's data selection is a stack of views, each relative to the previous one
  (deviation D3); :func:`select_bytes` computes the selected bytes step by step from the view
  parameters.

Views are plain tuples (:data:`ViewSpec`): ``("sub", offset, size)``,
``("strided", offset, num_blocks, block_size, gap_size)`` and
``("unstructured", ((offset, size), ...))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SCHEMA_RULES",
    "ConsumerModel",
    "HandleModel",
    "ModelEvent",
    "ModelMismatch",
    "PartitionModel",
    "PullCandidate",
    "SchemaRule",
    "TopicModel",
    "ViewSpec",
    "json_equal",
    "select_bytes",
    "selected_size",
]

#: One data view: ``("sub", offset, size)``, ``("strided", offset, num_blocks, block_size,
#: gap_size)`` or ``("unstructured", ((offset, size), ...))``.
ViewSpec = tuple[Any, ...]


class ModelMismatch(AssertionError):
    """The backend did something the model of the API does not allow."""


# --------------------------------------------------------------------------- JSON values


def json_equal(left: Any, right: Any) -> bool:
    """Whether two JSON values (as Python objects) are equal, distinguishing JSON types.

    Unlike ``==``, ``True`` differs from ``1`` and ``1`` from ``1.0``; objects compare without
    regard to key order; arrays may be lists or tuples.
    """
    if left is None or isinstance(left, bool):
        return left is right
    if isinstance(left, int):
        return isinstance(right, int) and not isinstance(right, bool) and left == right
    if isinstance(left, float):
        if not isinstance(right, float):
            return False
        if math.isnan(left):
            return math.isnan(right)
        return left == right
    if isinstance(left, str):
        return isinstance(right, str) and left == right
    if isinstance(left, (list, tuple)):
        return (
            isinstance(right, (list, tuple))
            and len(left) == len(right)
            and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, dict):
        return (
            isinstance(right, dict)
            and left.keys() == right.keys()
            and all(json_equal(value, right[key]) for key, value in left.items())
        )
    return False


# --------------------------------------------------------------------------- validators


@dataclass(frozen=True)
class SchemaRule:
    """A JSON schema the tests give a ``schema`` validator, with an independent predicate
    saying which metadata it accepts."""

    name: str
    schema: dict[str, Any]
    accepts: Callable[[Any], bool] = field(repr=False, compare=False)


#: The validators the stateful tests create topics with, each rejecting some metadata.
SCHEMA_RULES: tuple[SchemaRule, ...] = (
    SchemaRule("objects only", {"type": "object"}, lambda value: isinstance(value, dict)),
    SchemaRule("no strings", {"not": {"type": "string"}}, lambda value: not isinstance(value, str)),
    SchemaRule(
        "at most 2 properties",
        {"maxProperties": 2},
        lambda value: not (isinstance(value, dict) and len(value) > 2),
    ),
)


# --------------------------------------------------------------------------- data views


def select_bytes(data: bytes, views: Sequence[ViewSpec]) -> bytes:
    """The bytes a stack of views selects from ``data``; each view is applied to the bytes the
    previous one selected (relative composition, deviation D3)."""
    current = bytes(data)
    for view in views:
        kind = view[0]
        if kind == "sub":
            _, offset, size = view
            current = current[offset : offset + size]  # a too large size is truncated
        elif kind == "strided":
            _, offset, num_blocks, block_size, gap_size = view
            stride = block_size + gap_size
            current = b"".join(
                current[offset + i * stride : offset + i * stride + block_size]
                for i in range(num_blocks)
            )
        elif kind == "unstructured":
            _, segments = view
            current = b"".join(current[offset : offset + size] for offset, size in segments)
        else:
            raise ValueError(f"unknown view kind {kind!r}")
    return current


def selected_size(size: int, views: Sequence[ViewSpec]) -> int:
    """The number of bytes a stack of views selects from ``size`` bytes (no data needed)."""
    for view in views:
        kind = view[0]
        if kind == "sub":
            size = min(view[2], size - view[1])
        elif kind == "strided":
            size = view[2] * view[3]
        else:
            size = sum(length for _, length in view[1])
    return size


# --------------------------------------------------------------------------- events and logs


@dataclass(eq=False)
class ModelEvent:
    """One accepted event: what was pushed, where it goes, and its id once known."""

    number: int  #: push number in the whole program (names its future ``f_<number>``)
    producer: int  #: number of the producer that pushed it
    partition: int
    metadata: Any
    data: bytes
    event_id: int | None = None

    def describe(self) -> str:
        """A short description for failure messages."""
        return f"f_{self.number} (producer_{self.producer}, partition {self.partition})"


class PartitionModel:
    """One partition: the events whose id is known, and those still unresolved.

    ``events`` lists every accepted event of the partition in push order. An unresolved event
    may already be stored (with an id the model does not know) or not.
    """

    def __init__(self) -> None:
        self.events: list[ModelEvent] = []
        self.by_id: dict[int, ModelEvent] = {}
        self.unresolved: list[ModelEvent] = []

    def add(self, event: ModelEvent) -> None:
        """Record an accepted, not yet resolved event."""
        self.events.append(event)
        self.unresolved.append(event)

    @property
    def stored_at_least(self) -> int:
        """Ids below this are certainly stored (an id is known, and ids are dense)."""
        return max(self.by_id) + 1 if self.by_id else 0

    @property
    def stored_at_most(self) -> int:
        """Ids at or above this cannot be stored (more than every accepted event)."""
        return len(self.by_id) + len(self.unresolved)

    def _free_ids(self, start: int, stop: int) -> list[int]:
        return [i for i in range(start, stop) if i not in self.by_id]

    def id_bounds(self, event: ModelEvent) -> tuple[int, int]:
        """The smallest and largest id ``event`` (unresolved) may receive.

        The events of one producer get increasing ids in push order; ids are unique and dense;
        when no other producer has unresolved events in the partition, the two bounds are equal
        (the id is predicted exactly).
        """
        own = [other for other in self.events if other.producer == event.producer]
        position = own.index(event)
        lower_id, before = -1, 0
        for other in reversed(own[:position]):
            if other.event_id is not None:
                lower_id = other.event_id
                break
            before += 1
        # Later events of the producer only bound this id when one of them is known to be
        # stored (then so are the events between).
        upper_id, after = None, 0
        for other in own[position + 1 :]:
            if other.event_id is not None:
                upper_id = other.event_id
                break
            after += 1
        if upper_id is None:
            after = 0
        limit = self.stored_at_most
        free_above = self._free_ids(lower_id + 1, limit)
        if before >= len(free_above):
            raise ModelMismatch(
                f"no id left for {event.describe()}: the partition cannot hold the events "
                f"pushed before it (known ids {sorted(self.by_id)})"
            )
        lowest = free_above[before]
        others = any(other.producer != event.producer for other in self.unresolved)
        if not others:
            return lowest, lowest
        free_below = self._free_ids(lowest, limit if upper_id is None else upper_id)
        if after >= len(free_below):
            raise ModelMismatch(
                f"no id left for {event.describe()}: known ids {sorted(self.by_id)}"
            )
        return lowest, free_below[len(free_below) - 1 - after]

    def resolve(self, event: ModelEvent, event_id: Any) -> None:
        """Record the id the backend gave ``event``; raise :class:`ModelMismatch` if the model
        does not allow it (not an integer, already taken, out of order, not dense)."""
        if event.event_id is not None:
            if event_id != event.event_id:
                raise ModelMismatch(
                    f"{event.describe()} reported id {event_id!r}, earlier {event.event_id}"
                )
            return
        if isinstance(event_id, bool) or not isinstance(event_id, int):
            raise ModelMismatch(f"{event.describe()}: id {event_id!r} is not an integer")
        if event_id in self.by_id:
            raise ModelMismatch(
                f"{event.describe()} got id {event_id}, already the id of "
                f"{self.by_id[event_id].describe()} (duplicate id)"
            )
        lowest, highest = self.id_bounds(event)
        if not lowest <= event_id <= highest:
            expected = str(lowest) if lowest == highest else f"between {lowest} and {highest}"
            raise ModelMismatch(
                f"{event.describe()} got id {event_id}, expected {expected} (ids are dense per "
                f"partition and follow each producer's push order; known ids "
                f"{sorted(self.by_id)})"
            )
        event.event_id = event_id
        self.by_id[event_id] = event
        self.unresolved.remove(event)

    def check_dense(self) -> None:
        """Raise :class:`ModelMismatch` if the known ids leave more holes than there are
        unresolved events to fill them (ids must be dense from 0)."""
        holes = self.stored_at_least - len(self.by_id)
        if holes > len(self.unresolved):
            raise ModelMismatch(
                f"ids are not dense: known ids {sorted(self.by_id)} leave {holes} hole(s) but "
                f"only {len(self.unresolved)} event(s) are unresolved"
            )


@dataclass
class TopicModel:
    """A topic: its partitions, its validator rule and the acknowledged positions."""

    name: str
    num_partitions: int
    rule: SchemaRule | None = None
    partitions: list[PartitionModel] = field(default_factory=list)
    #: consumer name -> partition -> last acknowledged id
    acknowledged: dict[str, dict[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.partitions:
            self.partitions = [PartitionModel() for _ in range(self.num_partitions)]

    def accepts(self, metadata: Any) -> bool:
        """Whether the topic's validator accepts ``metadata``."""
        return self.rule is None or self.rule.accepts(metadata)

    def acknowledge(self, name: str, partition: int, event_id: int) -> None:
        """Record an acknowledgement (positions never move backwards)."""
        positions = self.acknowledged.setdefault(name, {})
        positions[partition] = max(positions.get(partition, -1), event_id)

    def start_positions(self, name: str, targets: Sequence[int]) -> dict[int, int]:
        """The first id a new consumer named ``name`` reads in each targeted partition."""
        positions = self.acknowledged.get(name, {})
        return {p: positions.get(p, -1) + 1 for p in targets}


@dataclass
class HandleModel:
    """An open topic handle: its default partition selector's round-robin position."""

    topic: TopicModel
    round_robin: int = 0

    def choose_partition(self, hint: int | None) -> int:
        """The partition the default selector gives an accepted event."""
        count = self.topic.num_partitions
        if hint is not None:
            return hint % count
        chosen = self.round_robin % count
        self.round_robin += 1
        return chosen


@dataclass(frozen=True)
class PullCandidate:
    """An event a pull may deliver: ``partition``'s event ``event_id``, from target ``slot``.

    ``certain``: the event is known to be stored, so a pull cannot return nothing instead."""

    slot: int
    partition: int
    event_id: int
    certain: bool


@dataclass
class ConsumerModel:
    """A consumer: where it is in each targeted partition and whose turn it is."""

    name: str
    topic: TopicModel
    targets: list[int]
    next_ids: dict[int, int]
    cursor: int = 0

    @classmethod
    def create(cls, name: str, topic: TopicModel, targets: Sequence[int] | None) -> ConsumerModel:
        """A new consumer, starting after its name's acknowledged positions."""
        chosen = list(targets) if targets else list(range(topic.num_partitions))
        return cls(name, topic, chosen, topic.start_positions(name, chosen))

    def candidates(self, round_robin: bool = True) -> tuple[list[PullCandidate], bool]:
        """The events the next pull may deliver, and whether it may deliver nothing.

        With ``round_robin`` the scan starts at the cursor and stops at the first partition
        whose next event is certainly stored; partitions before it whose next event may be
        stored are also possible.
        """
        found: list[PullCandidate] = []
        count = len(self.targets)
        for step in range(count):
            slot = (self.cursor + step) % count
            partition = self.targets[slot]
            log = self.topic.partitions[partition]
            event_id = self.next_ids[partition]
            if event_id < log.stored_at_least:
                found.append(PullCandidate(slot, partition, event_id, True))
                if round_robin:
                    return found, False
            elif event_id < log.stored_at_most:
                found.append(PullCandidate(slot, partition, event_id, False))
        return found, not any(candidate.certain for candidate in found)

    def delivered(self, candidate: PullCandidate) -> None:
        """Advance past a delivered event."""
        self.next_ids[candidate.partition] = candidate.event_id + 1
        self.cursor = (candidate.slot + 1) % len(self.targets)
