"""An open Kafka topic: its components, partitions, producers and consumers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from diaspora_stream.backend.full import (
    ConsumerInterface,
    DataAllocator,
    DataSelector,
    ProducerInterface,
    TopicHandleInterface,
)
from diaspora_stream.backend.log import TopicConfig
from diaspora_stream.backend.log_adapter import components_from_config
from diaspora_stream.thread_pool import ThreadPool

from .completion import COMPLETION_GROUP
from .completion import mark_complete as write_markers
from .naming import check_consumer_name

if TYPE_CHECKING:
    from .driver import KafkaDriver

__all__ = ["KafkaTopicHandle"]


class KafkaTopicHandle(TopicHandleInterface):
    """A Diaspora topic on Kafka; ``partitions`` are ``{"partition_id": i}`` as in Octopus."""

    def __init__(self, driver: KafkaDriver, name: str, config: TopicConfig) -> None:
        self.driver = driver
        self.name = name
        self.config = config
        self.kafka_topic = driver.names.data_topic(name)
        self.validator, self.partition_selector, self.serializer = components_from_config(config)
        self._partitions = [{"partition_id": index} for index in range(config.num_partitions)]
        self.partition_selector.set_partitions(self._partitions)

    @property
    def num_partitions(self) -> int:
        """Number of partitions of the topic (when it was opened)."""
        return self.config.num_partitions

    @property
    def partitions(self) -> list[dict[str, Any]]:
        return [dict(partition) for partition in self._partitions]

    def mark_complete(self, partitions: Sequence[int]) -> None:
        """Append Octopus's end-of-stream marker to each of ``partitions`` not complete yet
        (:mod:`.completion`)."""
        write_markers(self.driver.admin, self.kafka_topic, partitions)

    def acknowledged_positions(self, consumer_name: str) -> dict[int, int]:
        """The offsets group ``consumer_name`` committed, minus one (the last acknowledged
        event of each partition)."""
        check_consumer_name(consumer_name)
        committed = self.driver.admin.group_offsets(
            consumer_name, self.kafka_topic, range(self.num_partitions)
        )
        return {p: offset - 1 for p, offset in sorted(committed.items()) if offset > 0}

    def consumer_names(self) -> list[str]:
        """The consumer groups of the cluster with a committed offset in this topic."""
        from .admin import INFO_READER_GROUP

        return self.driver.admin.groups_with_offsets(
            self.kafka_topic,
            range(self.num_partitions),
            frozenset({COMPLETION_GROUP, INFO_READER_GROUP}),
        )

    def make_producer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        ordering: int,
        thread_pool: ThreadPool,
        options: dict[str, Any],
    ) -> ProducerInterface:
        from .producer import KafkaProducer

        return KafkaProducer(self, name, batch_size, max_num_batches, options)

    def make_consumer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        thread_pool: ThreadPool,
        data_selector: DataSelector | None,
        data_allocator: DataAllocator | None,
        targets: Sequence[int] | None,
        options: dict[str, Any],
    ) -> ConsumerInterface:
        from .consumer import KafkaConsumer

        return KafkaConsumer(
            self, name, batch_size, max_num_batches, data_selector, data_allocator, targets, options
        )
