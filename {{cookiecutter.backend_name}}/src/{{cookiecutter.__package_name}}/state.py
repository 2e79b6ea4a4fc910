"""Where the ``{{ cookiecutter.backend_name }}`` backend keeps its events: in memory, for now.

CHANGE ME: this module is the stand-in for your engine. ``topic.py`` and ``driver.py`` only touch
it inside their ``CHANGE ME`` blocks; once those talk to your engine, delete this module.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from diaspora_stream.api import TopicConfig

__all__ = ["PartitionState", "TopicState"]


@dataclass
class PartitionState:
    """Everything one partition holds.

    CHANGE ME: this is the in-memory stand-in for your engine's partition (a log file, a remote
    shard, a queue on a server...). Record ``i`` is ``metadata[i]`` and ``data[i]``; the event id
    of a record is its position, so ids are dense (0, 1, 2, ...) by construction.
    """

    #: Serialized metadata of each record, in id order.
    metadata: list[bytes] = field(default_factory=list)
    #: The whole data of each record (its segments joined), in id order.
    data: list[bytes] = field(default_factory=list)
    #: Last acknowledged event id of each consumer name.
    acknowledged: dict[str, int] = field(default_factory=dict)
    #: Serializes appends and makes each one appear at once to readers.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


@dataclass
class TopicState:
    """A topic's configuration and partitions, shared by every handle opened on it."""

    config: TopicConfig
    partitions: list[PartitionState]

    @classmethod
    def empty(cls, config: TopicConfig) -> TopicState:
        """A topic with ``config.num_partitions`` empty partitions."""
        return cls(config, [PartitionState() for _ in range(config.num_partitions)])
