"""Kafka errors as Diaspora exceptions whose messages say what to do."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, KafkaException
from diaspora_stream.exceptions import Exception as DiasporaException
from diaspora_stream.exceptions import InvalidArgument, Unreachable

__all__ = [
    "InvalidKafkaSetting",
    "KafkaUnreachable",
    "diaspora_error",
    "is_retriable",
    "kafka_error_of",
]

_UNREACHABLE = {
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._RESOLVE,
    KafkaError._TIMED_OUT,
    KafkaError.REQUEST_TIMED_OUT,
    KafkaError._MSG_TIMED_OUT,
}

#: Errors Kafka's protocol calls retriable (a leader moving, a coordinator loading...). The
#: per-partition errors of admin results (``list_offsets``...) come without librdkafka's
#: retriable flag, so the codes are checked too.
_RETRIABLE_CODES = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.FENCED_LEADER_EPOCH,
    KafkaError.UNKNOWN_LEADER_EPOCH,
    KafkaError.OFFSET_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.REQUEST_TIMED_OUT,
}


class KafkaUnreachable(Unreachable):
    """The Kafka cluster did not answer in time."""


class InvalidKafkaSetting(InvalidArgument):
    """librdkafka refused a setting (an unknown name, or a value it does not take)."""


def _is_setting_error(error: KafkaError) -> bool:
    # librdkafka's configuration errors: "No such configuration property: "x"" and
    # "Invalid value ... for configuration property "x"" (other _INVALID_ARG errors are not).
    return error.code() == KafkaError._INVALID_ARG and "configuration property" in error.str()


def kafka_error_of(error: Any) -> KafkaError | None:
    """The :class:`KafkaError` inside ``error`` (a KafkaException or a KafkaError), if any."""
    if isinstance(error, KafkaError):
        return error
    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0], KafkaError):
        return error.args[0]
    return None


def is_retriable(error: Any) -> bool:
    """Whether ``error`` (a KafkaException or a KafkaError) is worth retrying."""
    kafka_error = kafka_error_of(error)
    if kafka_error is None:
        return False
    return bool(kafka_error.retriable()) or kafka_error.code() in _RETRIABLE_CODES


def diaspora_error(error: Any, doing: str, bootstrap_servers: str) -> DiasporaException:
    """``error`` (from confluent-kafka) as a Diaspora exception: what failed, why, and, when
    the cluster is out of reach, where it was looked for."""
    kafka_error = kafka_error_of(error)
    reason = kafka_error.str() if kafka_error is not None else str(error)
    if kafka_error is not None and kafka_error.code() in _UNREACHABLE:
        wrapped: DiasporaException = KafkaUnreachable(
            f"{doing} failed: the Kafka cluster at bootstrap.servers={bootstrap_servers} did not "
            f"answer ({reason}); check that a broker runs there (a local test broker: python -m "
            "diaspora_stream_kafka.local_broker run)"
        )
    elif kafka_error is not None and _is_setting_error(kafka_error):
        wrapped = InvalidKafkaSetting(
            f"{doing} failed: librdkafka refused a setting of the 'kafka' options: {reason}; "
            "fix or remove it (librdkafka's CONFIGURATION.md lists the settings and values; "
            "an error may give an alias's name, e.g. queue.buffering.max.ms for linger.ms)"
        )
    else:
        wrapped = DiasporaException(f"{doing} failed: {reason}")
    if isinstance(error, BaseException):
        wrapped.__cause__ = error
    return wrapped
