"""The error raised when no local broker can be had."""

from __future__ import annotations

from diaspora_stream.exceptions import Exception as DiasporaException

__all__ = ["BrokerUnavailable", "HOW_TO_GET_A_BROKER"]

HOW_TO_GET_A_BROKER = (
    "the local Kafka broker needs Java 17 or later (java on PATH or JAVA_HOME) and, the first "
    "time, Maven (mvn on PATH) to fetch its jars from Maven Central; on Debian or Ubuntu: "
    "apt-get install openjdk-17-jre-headless maven, then python -m "
    "diaspora_stream_kafka.local_broker fetch. To use a broker that is already running "
    "instead, set DIASPORA_KAFKA_BOOTSTRAP_SERVERS=host:port"
)


class BrokerUnavailable(DiasporaException):
    """The local broker cannot be fetched or started; the message says why and what to do."""
