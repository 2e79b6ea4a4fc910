"""The kafka driver: Diaspora topics on an Apache Kafka cluster, Octopus-compatible."""

from __future__ import annotations

from typing import Any

from diaspora_stream.backend.capabilities import Capabilities
from diaspora_stream.backend.full import DriverInterface, TopicHandleInterface
from diaspora_stream.backend.log import TopicConfig
from diaspora_stream.backend.log_adapter import num_partitions_option, topic_config
from diaspora_stream.backend.options import Option, check_topic_name, parse_options
from diaspora_stream.components.interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
)
from diaspora_stream.exceptions import ClosedError
from diaspora_stream.exceptions import Exception as DiasporaException
from diaspora_stream.json_codec import dumps_compact, loads

from .admin import KafkaAdmin
from .config import KafkaConfig
from .naming import TopicNames
from .topic import KafkaTopicHandle

__all__ = ["TOPIC_OPTIONS", "KafkaDriver"]

#: What ``create_topic(options=...)`` accepts on Kafka.
TOPIC_OPTIONS: dict[str, Option] = {
    "num_partitions": Option(int, 1, "number of partitions (default: the driver's)"),
    "replication_factor": Option(int, -1, "replication factor (default: the driver's)"),
    "disable_info_topic": Option(bool, False, "no info topic (default components only)"),
    "config": Option(dict, {}, "Kafka topic configuration (retention.ms, cleanup.policy, ...)"),
}
#: The order of the component records in an info topic (as Octopus writes them).
INFO_ORDER = ("validator", "partition_selector", "serializer")
_DEFAULT_COMPONENT = {"type": "default"}


def _is_default(component: dict[str, Any] | None) -> bool:
    return component is None or component == _DEFAULT_COMPONENT


class KafkaDriver(DriverInterface):
    """Topics on a Kafka cluster (options: see :data:`diaspora_stream_kafka.config.OPTIONS`).

    A Diaspora topic ``T`` is the Kafka topic ``[<namespace>.]T``; its validator, partition
    selector and serializer are three JSON records of the one-partition topic
    ``[<namespace>.]__info_T``; an event is one record (see :mod:`.records`), its id the
    record's offset; a consumer's name is its consumer group, and ``acknowledge()`` commits.
    """

    capabilities = Capabilities(
        persistent_topics=True,
        acknowledgements=True,
        persistent_acknowledgements=True,
        multi_process_producers=True,
        # The whole record travels; the selection is cut out of it in the client.
        partial_data_reads=False,
        # acks=all: stored by every in-sync replica, which Kafka does not fsync.
        durable_flush=False,
        # Octopus's end-of-stream marker; producers learn of it as :mod:`.completion` says.
        end_of_stream=True,
        # Event ids are offsets: consumers are assigned their partitions at any offset.
        replay=True,
        # A name's positions are its group's committed offsets, read with the admin client.
        consumer_positions=True,
    )

    def __init__(self, config: KafkaConfig) -> None:
        self.config = config
        self.names = TopicNames(config.namespace, config.info_topic_prefix)
        self.admin = KafkaAdmin(config, self.names)
        self._closed = False

    @classmethod
    def create(cls, options: dict[str, Any]) -> KafkaDriver:
        """A driver for the cluster of ``options["kafka"]["bootstrap.servers"]``."""
        return cls(KafkaConfig.from_options(options))

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("The kafka driver is closed; create a new driver to use it")

    # ---------------------------------------------------------------- topics

    def create_topic(
        self,
        name: str,
        options: dict[str, Any],
        validator: ValidatorInterface | None,
        partition_selector: PartitionSelectorInterface | None,
        serializer: SerializerInterface | None,
    ) -> None:
        """Create the Kafka topic and its info topic holding the three components."""
        self._check_open()
        check_topic_name(name)
        self.names.check(name)
        num_partitions = (
            num_partitions_option(options)
            if "num_partitions" in options
            else self.config.num_partitions
        )
        replication_factor = options.get("replication_factor", self.config.replication_factor)
        if type(replication_factor) is not int or (
            replication_factor < 1 and replication_factor != -1
        ):
            raise DiasporaException(
                "Topic option replication_factor must be a positive integer or -1 (the "
                f"broker's default), got {replication_factor!r}"
            )
        sizes = {"num_partitions": num_partitions, "replication_factor": replication_factor}
        values = parse_options({**options, **sizes}, TOPIC_OPTIONS, "kafka topic")
        config = topic_config(
            options, validator, partition_selector, serializer, num_partitions=num_partitions
        )
        no_info = values["disable_info_topic"] or self.config.disable_info_topic
        components = [getattr(config, key) for key in INFO_ORDER]
        if no_info and not all(_is_default(component) for component in components):
            raise DiasporaException(
                f"Topic {name!r} cannot be created without an info topic: its components are "
                "not all 'default', and only the info topic can keep them; drop "
                "disable_info_topic or use the default components"
            )
        records = None
        if not no_info:
            records = [dumps_compact(c or _DEFAULT_COMPONENT) for c in components]
        topic_settings = {
            str(key): str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in values["config"].items()
        }
        self.admin.create(name, num_partitions, replication_factor, topic_settings, records)

    def _stored_config(self, name: str, num_partitions: int, records: list[bytes]) -> TopicConfig:
        components: dict[str, Any] = {}
        for key, record in zip(INFO_ORDER, records, strict=False):
            try:
                value = loads(record)
            except ValueError:
                raise DiasporaException(
                    f"The info topic {self.names.info_topic(name)!r} of topic {name!r} holds a "
                    f"{key} record that is not JSON: {bytes(record)[:80]!r}"
                ) from None
            components[key] = value if isinstance(value, dict) else None
        return TopicConfig(num_partitions=num_partitions, **components)

    def open_topic(self, name: str) -> TopicHandleInterface:
        """Open ``name``: its partitions and, from its info topic, its components (defaults
        when it has none, as for topics that other Kafka tools created)."""
        self._check_open()
        check_topic_name(name)
        if not self.names.is_valid(name):
            raise DiasporaException(f'Could not find topic "{name}"')
        data_topic, info_topic = self.names.data_topic(name), self.names.info_topic(name)
        counts = self.admin.partition_counts([data_topic, info_topic])
        count = counts[data_topic]
        if count is None:
            raise DiasporaException(f'Could not find topic "{name}"')
        records = []
        if counts[info_topic] is not None:
            records = self.admin.read_info([info_topic])[info_topic]
        return KafkaTopicHandle(self, name, self._stored_config(name, count, records))

    def topic_exists(self, name: str) -> bool:
        """Whether the Kafka topic of ``name`` exists."""
        self._check_open()
        check_topic_name(name)
        if not self.names.is_valid(name):
            return False
        data_topic = self.names.data_topic(name)
        return self.admin.partition_counts([data_topic])[data_topic] is not None

    def list_topics(self) -> dict[str, dict[str, Any]]:
        """Every topic of the namespace: ``name``, ``num_partitions``, ``kafka_topic`` and the
        components of its info topic, when it has one."""
        self._check_open()
        topics = self.admin.list_data_topics()
        existing = self.admin.topic_names()
        info_topics = {
            name: self.names.info_topic(name)
            for name in topics
            if self.names.info_topic(name) in existing
        }
        infos = self.admin.read_info(list(info_topics.values()))
        listed: dict[str, dict[str, Any]] = {}
        for name, (kafka_topic, count) in sorted(topics.items()):
            entry: dict[str, Any] = {
                "name": name,
                "num_partitions": count,
                "kafka_topic": kafka_topic,
            }
            records = infos.get(info_topics.get(name, ""), [])
            if records:
                stored = self._stored_config(name, count, records)
                for key in INFO_ORDER:
                    if getattr(stored, key) is not None:
                        entry[key] = getattr(stored, key)
            listed[name] = entry
        return listed

    def close(self) -> None:
        """Mark the driver closed (topics already opened stay usable until closed)."""
        self._closed = True
