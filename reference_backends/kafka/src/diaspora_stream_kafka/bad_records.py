"""Records of a topic that are not Diaspora events (another producer's, a damaged one).

Such a record costs exactly itself: the pull that meets it raises :class:`NotAnEvent` naming
the topic, partition and offset (or, for a consumer made with ``skip_bad_records``, a warning is
logged and the pull goes on), and the next pull gets the event after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .records import CorruptRecord

__all__ = ["LOGGER", "NotAnEvent", "pass_over"]

#: Where a consumer that skips bad records says which ones it skipped.
LOGGER = logging.getLogger("diaspora_stream.kafka.consumer")


class NotAnEvent(CorruptRecord):
    """A record met by a pull is not a Diaspora event; the consumer has passed over it.

    ``topic``, ``kafka_topic``, ``partition`` and ``offset`` say where it is;
    :meth:`acknowledge` commits the position after it for the consumer's name, so a consumer
    created again with that name starts past it.
    """

    def __init__(
        self,
        reason: str,
        *,
        topic: str,
        kafka_topic: str,
        partition: int,
        offset: int,
        acknowledge: Callable[[int, int], None],
    ) -> None:
        self.topic = topic
        self.kafka_topic = kafka_topic
        self.partition = partition
        self.offset = offset
        self._acknowledge = acknowledge
        #: Which record, and what is wrong with it (the message without the advice).
        self.description = (
            f"Record {offset} of partition {partition} of Kafka topic {kafka_topic!r} (topic "
            f"{topic!r}) is not a Diaspora event: {reason}"
        )
        super().__init__(
            f"{self.description}. The consumer passed over it: the next pull gets the event "
            "after it. For a consumer created again with this name to start past it too, "
            "call this error's acknowledge() (or create consumers with "
            'options {"skip_bad_records": true} to skip such records with a logged warning)'
        )

    def acknowledge(self) -> None:
        """Commit the position after this record for the consumer's name."""
        self._acknowledge(self.partition, self.offset)


def pass_over(problem: NotAnEvent, skip: bool) -> None:
    """Raise ``problem``, or, if ``skip``, log it as a warning and return."""
    if not skip:
        raise problem
    LOGGER.warning("Skipped: %s", problem.description)
