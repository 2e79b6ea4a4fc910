"""Broken storage that fails some appends: lost events must not look stored after a flush.

The bugs of a storage layer that meets write errors (a full disk, a lost connection): one
raises for some batches (the error reaches the push futures, and the flush must not say
``True``), one swallows the error and answers as if the batch were stored.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from scaffolding import BrokenBackend, memory_driver, shared_state

from diaspora_stream.api import AppendRecord
from diaspora_stream.backends.memory import MemoryTopic

__all__ = ["FAILURE_BUGS"]

_CATCHER = "FailureRules::test_flush_true_means_every_event_before_it_was_stored"


def _every_third_append(topic: MemoryTopic) -> bool:
    """Whether this append of the topic is one of every three that the "disk" refuses."""
    counter: itertools.count[int] = shared_state(topic, "meta_append_count", itertools.count)
    return next(counter) % 3 == 2


class FailingAppendsTopic(MemoryTopic):
    """Every third append raises an I/O error (a disk that fills up and frees space again)."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append, or raise as a full disk would."""
        if _every_third_append(self):
            raise OSError(28, "No space left on device")
        return super().append(partition, records)


class SwallowedErrorsTopic(MemoryTopic):
    """Every third append is lost, and its write error ignored: the batch is answered with the
    ids it would have had."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append, or drop the batch and answer as if it were stored."""
        if _every_third_append(self):
            return self.event_count(partition)
        return super().append(partition, records)


FAILURE_BUGS: tuple[BrokenBackend, ...] = (
    BrokenBackend(
        "meta-failing-appends",
        "every third append raises an I/O error (storage failing under the producer)",
        (_CATCHER,),
        memory_driver(FailingAppendsTopic),
    ),
    BrokenBackend(
        "meta-swallowed-append-errors",
        "every third append is dropped and answered as stored (write errors ignored)",
        (_CATCHER,),
        memory_driver(SwallowedErrorsTopic),
    ),
)
