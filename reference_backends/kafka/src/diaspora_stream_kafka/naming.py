"""How Diaspora topic names become Kafka topic names (as Octopus names them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from diaspora_stream.exceptions import Exception as DiasporaException

__all__ = ["TopicNames", "check_consumer_name"]

_KAFKA_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")
#: Kafka's internal topics: never Diaspora topics.
_INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state", "__share_group_state"})


def check_consumer_name(name: str) -> None:
    """Raise if ``name`` cannot be a consumer group exactly as given: librdkafka cuts a
    ``group.id`` at NUL and trims surrounding whitespace, which would fold distinct names into
    one group (and an all-whitespace name aborts the process in confluent-kafka)."""
    if "\0" in name or name != name.strip() or not name:
        raise DiasporaException(
            f"Invalid consumer name {name!r} for Kafka: the consumer group id cannot hold a NUL "
            "character, be empty or start or end with whitespace"
        )


@dataclass(frozen=True)
class TopicNames:
    """``T`` → ``<namespace>.T``; its info topic → ``<namespace>.<info prefix>T``."""

    namespace: str
    info_prefix: str

    def _qualified(self, name: str) -> str:
        return f"{self.namespace}.{name}" if self.namespace else name

    def is_valid(self, name: str) -> bool:
        """Whether ``name`` and its info topic are legal Kafka topic names."""
        return all(
            _KAFKA_NAME.fullmatch(candidate)
            for candidate in (self.data_topic(name), self.info_topic(name))
        )

    def check(self, name: str) -> None:
        """Raise if ``name`` cannot be a topic on Kafka (or would pass for an info topic)."""
        if name.startswith(self.info_prefix):
            raise DiasporaException(
                f"Invalid topic name {name!r} for Kafka: names starting with "
                f"{self.info_prefix!r} are those of info topics; choose another name"
            )
        if not self.is_valid(name):
            raise DiasporaException(
                f"Invalid topic name {name!r} for Kafka: Kafka topic names (with the namespace "
                f"and info prefix: {self.info_topic(name)!r}) may only contain ASCII letters, "
                "digits, '.', '_' and '-', and have at most 249 characters"
            )

    def data_topic(self, name: str) -> str:
        """The Kafka topic holding the events of ``name``."""
        return self._qualified(name)

    def info_topic(self, name: str) -> str:
        """The one-partition Kafka topic holding the components of ``name``."""
        return self._qualified(self.info_prefix + name)

    def diaspora_name(self, kafka_topic: str) -> str | None:
        """The Diaspora topic whose events ``kafka_topic`` holds, or ``None`` (another
        namespace, an info topic, an internal topic)."""
        if self.namespace:
            prefix = self.namespace + "."
            if not kafka_topic.startswith(prefix):
                return None
            kafka_topic = kafka_topic[len(prefix) :]
        if kafka_topic.startswith(self.info_prefix) or kafka_topic in _INTERNAL_TOPICS:
            return None
        return kafka_topic
