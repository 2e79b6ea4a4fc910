"""Runs a log-level backend behind the full-level interface: the generic machinery's entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..components.interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
)
from ..components.public import PartitionSelector, Serializer, Validator, component_metadata
from ..exceptions import Exception as DiasporaException
from ..exceptions import UnsupportedError
from ..registry import partition_selectors, serializers, validators
from ..thread_pool import ThreadPool
from .capabilities import Capabilities
from .full import (
    ConsumerInterface,
    DataAllocator,
    DataSelector,
    DriverInterface,
    ProducerInterface,
    TopicHandleInterface,
)
from .log import LogDriver, LogTopic, TopicConfig
from .options import check_topic_name, warn_unknown_options

__all__ = [
    "LogDriverAdapter",
    "LogTopicHandle",
    "components_from_config",
    "num_partitions_option",
    "topic_config",
    "topic_description",
]


def num_partitions_option(options: dict[str, Any]) -> int:
    """The ``num_partitions`` topic option (default 1), checked."""
    value = options.get("num_partitions", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DiasporaException(
            f"Topic option num_partitions must be a positive integer, got {value!r}"
        )
    return value


def topic_config(
    options: dict[str, Any],
    validator: ValidatorInterface | None,
    partition_selector: PartitionSelectorInterface | None,
    serializer: SerializerInterface | None,
    num_partitions: int | None = None,
) -> TopicConfig:
    """What ``create_topic`` stores: the partition count (``num_partitions``, else the
    ``num_partitions`` option, default 1) and each component's metadata (``None``: none)."""
    return TopicConfig(
        num_partitions=num_partitions_option(options) if num_partitions is None else num_partitions,
        options=dict(options),
        validator=None if validator is None else component_metadata(validator, validators),
        serializer=None if serializer is None else component_metadata(serializer, serializers),
        partition_selector=None
        if partition_selector is None
        else component_metadata(partition_selector, partition_selectors),
    )


def topic_description(name: str, config: TopicConfig) -> dict[str, Any]:
    """What ``list_topics`` says of topic ``name``: its ``name``, ``num_partitions`` and the
    metadata of each component it was created with."""
    description: dict[str, Any] = {"name": name, "num_partitions": config.num_partitions}
    for key in ("validator", "serializer", "partition_selector"):
        component = getattr(config, key)
        if component is not None:
            description[key] = component
    return description


def components_from_config(
    config: TopicConfig,
) -> tuple[ValidatorInterface, PartitionSelectorInterface, SerializerInterface]:
    """The components a stored topic configuration describes (defaults where none is stored)."""
    return (
        Validator.implementation_from(config.validator, default_if_none=True),
        PartitionSelector.implementation_from(config.partition_selector, default_if_none=True),
        Serializer.implementation_from(config.serializer, default_if_none=True),
    )


class LogTopicHandle(TopicHandleInterface):
    """An open topic of a log-level backend, with its components."""

    def __init__(self, log_topic: LogTopic, capabilities: Capabilities | None = None) -> None:
        self.log_topic = log_topic
        self.capabilities = capabilities if capabilities is not None else Capabilities()
        self.name = log_topic.name
        self.validator, self.partition_selector, self.serializer = components_from_config(
            log_topic.config
        )
        self._partitions = [log_topic.partition_info(p) for p in range(log_topic.num_partitions)]
        self.partition_selector.set_partitions(self._partitions)

    @property
    def partitions(self) -> list[dict[str, Any]]:
        return list(self._partitions)

    def make_producer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        ordering: int,
        thread_pool: ThreadPool,
        options: dict[str, Any],
    ) -> ProducerInterface:
        from .._machinery.producer import LogProducer

        return LogProducer(self, name, batch_size, max_num_batches, ordering, thread_pool, options)

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
        from .._machinery.consumer import LogConsumer

        return LogConsumer(
            self,
            name,
            batch_size,
            max_num_batches,
            thread_pool,
            data_selector,
            data_allocator,
            targets,
            options,
        )

    def _require(self, capability: str, doing: str) -> None:
        if not getattr(self.capabilities, capability):
            raise UnsupportedError(
                f"This backend cannot {doing}: it does not declare the {capability} capability"
            )

    def mark_complete(self, partitions: Sequence[int]) -> None:
        self._require("end_of_stream", "mark partitions complete")
        for partition in partitions:
            self.log_topic.mark_complete(partition)

    def acknowledged_positions(self, consumer_name: str) -> dict[int, int]:
        self._require("consumer_positions", "read acknowledged positions")
        return dict(sorted(self.log_topic.load_acknowledgements(consumer_name).items()))

    def consumer_names(self) -> list[str]:
        self._require("consumer_positions", "list consumer names")
        return sorted(self.log_topic.consumer_names())

    def close(self) -> None:
        self.log_topic.close()


class LogDriverAdapter(DriverInterface):
    """A :class:`~diaspora_stream.backend.full.DriverInterface` over a :class:`LogDriver`."""

    def __init__(self, log_driver: LogDriver, name: str = "") -> None:
        self.log_driver = log_driver
        self.capabilities = log_driver.capabilities
        #: The backend's name, for messages (the class name when not given).
        self.name = name or type(log_driver).__name__

    @classmethod
    def create(cls, options: dict[str, Any]) -> DriverInterface:
        raise TypeError("LogDriverAdapter wraps an existing LogDriver; use LogDriverAdapter(d)")

    def create_topic(
        self,
        name: str,
        options: dict[str, Any],
        validator: ValidatorInterface | None,
        partition_selector: PartitionSelectorInterface | None,
        serializer: SerializerInterface | None,
    ) -> None:
        check_topic_name(name)
        warn_unknown_options(
            options, type(self.log_driver).topic_options, f"topics of the {self.name} driver"
        )
        config = topic_config(options, validator, partition_selector, serializer)
        self.log_driver.create_topic(name, config)

    def open_topic(self, name: str) -> TopicHandleInterface:
        check_topic_name(name)
        log_topic = self.log_driver.open_topic(name)
        try:
            return LogTopicHandle(log_topic, self.capabilities)
        except BaseException:
            log_topic.close()
            raise

    def topic_exists(self, name: str) -> bool:
        return self.log_driver.topic_exists(check_topic_name(name))

    def list_topics(self) -> dict[str, dict[str, Any]]:
        return self.log_driver.list_topics()

    def close(self) -> None:
        self.log_driver.close()
