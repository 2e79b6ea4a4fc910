"""A real single-node Apache Kafka broker for tests, benchmarks and trying the backend.

The broker's jars come from Maven Central (:mod:`.jars`, cached between runs); :class:`LocalBroker`
formats a KRaft storage directory and runs one JVM that is both broker and controller on
127.0.0.1, with free ports (:mod:`.server`). ``python -m diaspora_stream_kafka.local_broker``
is its command line (``fetch``, ``run``, ``start``, ``stop``, ``status``).
"""

from __future__ import annotations

from .errors import BrokerUnavailable
from .jars import KAFKA_VERSION, ensure_jars, jar_directory
from .server import LocalBroker

__all__ = ["KAFKA_VERSION", "BrokerUnavailable", "LocalBroker", "ensure_jars", "jar_directory"]
