"""End of stream on Kafka: Octopus's marker record, and how producers learn of it.

Marking partition ``p`` complete appends Octopus's end-of-stream marker to it (a record whose
value is 16 bytes, the metadata and data sizes both ``2**64 - 1``, as the Octopus consumer
recognizes it); every consumer, Octopus's included, gives the end-of-stream sentinel when it
reaches that record. Ours never deliver what a partition holds after its marker.

Producers must refuse pushes to a completed partition, but finding the last record of a
partition before each append would cost a fetch per push. So the marker's offset is also
committed as the offset of partition ``p`` for the consumer group :data:`COMPLETION_GROUP`
(after the marker is stored), which one admin request reads for every partition of a topic:

* in the process that marked it, and once a producer learned it, a push to the partition fails
  at once with :class:`~diaspora_stream.exceptions.PartitionCompleted`
  (:class:`CompletedPartitions`, shared by the process's drivers);
* a producer reads the group when it is created (in the background), and again with each
  flush covering pushes:
  events a producer of another process pushed after the marker are then reported by that
  flush (``EventsNotStored`` caused by ``PartitionCompleted``) and never delivered.

Weaker than the files backend (which checks under the append lock): a producer of another
process learns of the completion only at its next flush, and a flush that reads the group in
the instant between the marker being stored and its offset being committed misses it, so its
events after the marker are dropped without a report. Kafka forgets the committed offsets of a
group without members after ``offsets.retention.minutes`` (7 days by default): marking the
topic complete again renews them (consumers are not affected: they stop at the marker).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from diaspora_stream.exceptions import PartitionCompleted

if TYPE_CHECKING:
    from .admin import KafkaAdmin

__all__ = [
    "COMPLETION_GROUP",
    "MARKER",
    "CompletedPartitions",
    "completed",
    "mark_complete",
    "partition_completed",
    "read_completion",
]

#: Octopus's end-of-stream record: metadata size and data size both ``2**64 - 1``.
MARKER = b"\xff" * 16
#: Consumer group whose committed offset of a partition is its marker's offset + 1.
COMPLETION_GROUP = "diaspora-stream-completed"


class CompletedPartitions:
    """Marker offsets of the partitions this process knows complete, per cluster and topic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], dict[int, int]] = {}

    def add(self, cluster: str, kafka_topic: str, markers: dict[int, int]) -> None:
        """Remember ``{partition: marker offset}`` of ``kafka_topic``."""
        with self._lock:
            self._known.setdefault((cluster, kafka_topic), {}).update(markers)

    def of(self, cluster: str, kafka_topic: str) -> dict[int, int]:
        """``{partition: marker offset}`` known for ``kafka_topic`` (a live view: do not
        modify)."""
        with self._lock:
            return self._known.setdefault((cluster, kafka_topic), {})


#: The process's registry.
completed = CompletedPartitions()


def read_completion(
    admin: KafkaAdmin, kafka_topic: str, partitions: Sequence[int]
) -> dict[int, int]:
    """``{partition: marker offset}`` of the completed ``partitions``, from the cluster (and
    remembered in :data:`completed`)."""
    markers = {
        partition: offset - 1
        for partition, offset in admin.group_offsets(
            COMPLETION_GROUP, kafka_topic, partitions, keep=True
        ).items()
        if offset > 0
    }
    if markers:
        completed.add(admin.config.bootstrap_servers, kafka_topic, markers)
    return markers


def mark_complete(admin: KafkaAdmin, kafka_topic: str, partitions: Sequence[int]) -> None:
    """Append the marker to each of ``partitions`` not complete yet, then commit the markers'
    offsets in :data:`COMPLETION_GROUP`."""
    already = read_completion(admin, kafka_topic, partitions)
    fresh = [p for p in partitions if p not in already]
    if not fresh:
        return
    offsets = admin.produce(
        kafka_topic, [(p, MARKER) for p in fresh], "Writing the end-of-stream marker to"
    )
    markers = dict(zip(fresh, offsets, strict=True))
    completed.add(admin.config.bootstrap_servers, kafka_topic, markers)
    admin.set_group_offsets(
        COMPLETION_GROUP, kafka_topic, {p: offset + 1 for p, offset in markers.items()}
    )


def partition_completed(topic: str, partition: int, marker: int) -> PartitionCompleted:
    """The error of a push to ``partition``, complete since its marker at offset ``marker``."""
    return PartitionCompleted(
        f"Partition {partition} of topic {topic!r} is complete (its end-of-stream marker is "
        f"record {marker}): it takes no more events; push to another partition or topic"
    )
