"""Options of the kafka driver (Octopus's, plus topic defaults) and librdkafka settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from diaspora_stream.backend.options import Option, parse_options
from diaspora_stream.exceptions import Exception as DiasporaException

__all__ = ["OPTIONS", "RECORD_FORMATS", "KafkaConfig", "librdkafka_settings"]

#: Where librdkafka's own log lines go (instead of standard error), unless ``kafka`` names a
#: ``logger`` of its own.
LIBRDKAFKA_LOGGER = logging.getLogger("diaspora_stream.kafka.librdkafka")
LIBRDKAFKA_LOGGER.addHandler(logging.NullHandler())

#: Largest event (header + serialized metadata + data) by default: topics are created with this
#: ``max.message.bytes`` and clients raise their own limits to match.
DEFAULT_MAX_EVENT_BYTES = 128 * 2**20

#: Values of the ``record_format`` option of the driver and of producers.
RECORD_FORMATS = ("octopus", "json")

#: Options accepted by the kafka driver.
OPTIONS: dict[str, Option] = {
    "kafka": Option(
        dict,
        {},
        "librdkafka settings passed to every client, as Octopus takes them "
        "(bootstrap.servers is required; lists are joined with ',')",
    ),
    "namespace": Option(str, "", "Kafka topic of Diaspora topic T: '<namespace>.T' ('' : 'T')"),
    "info_topic_prefix": Option(
        str, "__info_", "prefix of the one-partition topic holding a topic's components"
    ),
    "disable_info_topic": Option(
        bool, False, "create topics without an info topic (default components only)"
    ),
    "num_partitions": Option(int, 1, "partitions of a new topic when create_topic gives none"),
    "replication_factor": Option(
        int, -1, "replication factor of new topics; -1: the broker's default.replication.factor"
    ),
    "max_event_bytes": Option(
        int, DEFAULT_MAX_EVENT_BYTES, "largest record (event) new topics and clients accept"
    ),
    "timeout_ms": Option(int, 30000, "how long topic administration may wait for the cluster"),
    "json_records": Option(
        bool,
        True,
        "consumers deliver records that are plain JSON documents (as the Diaspora Event SDK "
        "writes them) as events whose metadata is the document",
    ),
    "record_format": Option(
        str,
        "octopus",
        "how producers write events: 'octopus' (the event layout) or 'json' (plain JSON "
        "records of the metadata, as the Diaspora Event SDK reads them; events without data)",
        RECORD_FORMATS,
    ),
    "delivery_timeout_ms": Option(
        int,
        300000,
        "how long a pushed event may wait to be stored before its push future and the flushes "
        "covering it fail (librdkafka's message.timeout.ms, which wins when given in 'kafka')",
    ),
}

_UNSUPPORTED_OCTOPUS_OPTIONS = {
    "aws_msk_iam": "give librdkafka's SASL settings (security.protocol, sasl.mechanisms, "
    "oauth_cb) in 'kafka' instead",
    "octopus": "topic administration goes straight to Kafka; create topics with the "
    "Octopus service's own tools if it manages them",
}


def librdkafka_settings(settings: Any, where: str) -> dict[str, Any]:
    """``settings`` as librdkafka takes them: lists joined with ``,``, booleans ``true``/
    ``false``, numbers as text (as Octopus does); callables (``oauth_cb``…) as they are."""
    if not isinstance(settings, Mapping):
        raise DiasporaException(
            f"{where} must be a JSON object of librdkafka settings, got {type(settings).__name__}"
        )
    result: dict[str, Any] = {}
    for key, value in settings.items():
        if not isinstance(key, str):
            raise DiasporaException(f"{where}: setting names must be strings, got {key!r}")
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            result[key] = ",".join(str(item) for item in value)
        elif isinstance(value, (int, float)):
            result[key] = str(value)
        elif isinstance(value, (str, logging.Logger)) or callable(value):
            result[key] = value
        else:
            raise DiasporaException(
                f"{where}: setting {key!r} must be a string, number, boolean or list, got "
                f"{type(value).__name__}"
            )
    return result


@dataclass(frozen=True)
class KafkaConfig:
    """The checked options of a kafka driver."""

    kafka: dict[str, Any]
    namespace: str
    info_topic_prefix: str
    disable_info_topic: bool
    num_partitions: int
    replication_factor: int
    max_event_bytes: int
    timeout_ms: int
    delivery_timeout_ms: int
    json_records: bool = True
    record_format: str = "octopus"

    @property
    def bootstrap_servers(self) -> str:
        """The cluster's address, for messages."""
        return str(self.kafka["bootstrap.servers"])

    @classmethod
    def from_options(cls, options: Any) -> KafkaConfig:
        """Check ``options`` (names, types, values) and fill in defaults."""
        if isinstance(options, Mapping):
            for name, advice in _UNSUPPORTED_OCTOPUS_OPTIONS.items():
                if name in options:
                    raise DiasporaException(
                        f"Option {name!r} of Octopus is not supported by the kafka driver: {advice}"
                    )
        values = parse_options(options, OPTIONS, "kafka driver")
        kafka = librdkafka_settings(values["kafka"], "Option 'kafka' of the kafka driver")
        kafka.setdefault("logger", LIBRDKAFKA_LOGGER)
        if not kafka.get("bootstrap.servers"):
            raise DiasporaException(
                "The kafka driver needs the cluster's address: give options "
                '{"kafka": {"bootstrap.servers": "host:port"}} (for a local test broker, run '
                "python -m diaspora_stream_kafka.local_broker run)"
            )
        for name in ("num_partitions", "max_event_bytes", "timeout_ms", "delivery_timeout_ms"):
            if values[name] < 1:
                raise DiasporaException(
                    f"Option {name!r} of the kafka driver must be a positive integer, "
                    f"got {values[name]}"
                )
        if values["replication_factor"] < 1 and values["replication_factor"] != -1:
            raise DiasporaException(
                "Option 'replication_factor' of the kafka driver must be a positive integer or "
                f"-1 (the broker's default), got {values['replication_factor']}"
            )
        if not values["info_topic_prefix"] and not values["disable_info_topic"]:
            raise DiasporaException(
                "Option 'info_topic_prefix' of the kafka driver is empty: info topics would "
                "take the names of the topics themselves; keep the default '__info_'"
            )
        return cls(
            kafka=kafka,
            namespace=values["namespace"],
            info_topic_prefix=values["info_topic_prefix"],
            disable_info_topic=values["disable_info_topic"],
            num_partitions=values["num_partitions"],
            replication_factor=values["replication_factor"],
            max_event_bytes=values["max_event_bytes"],
            timeout_ms=values["timeout_ms"],
            delivery_timeout_ms=values["delivery_timeout_ms"],
            json_records=values["json_records"],
            record_format=values["record_format"],
        )

    def client_settings(self, options: Mapping[str, Any], owner: str) -> dict[str, Any]:
        """Driver-level librdkafka settings merged with a producer's or consumer's own
        (``options["kafka"]``), which win."""
        own = options.get("kafka", {}) if isinstance(options, Mapping) else {}
        return {**self.kafka, **librdkafka_settings(own, f"Option 'kafka' of the {owner}")}
