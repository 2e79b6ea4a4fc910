"""The ``kafka`` backend of diaspora-stream: Diaspora topics on an Apache Kafka cluster.

A full-level backend (see ``diaspora_stream.backend.full``) on confluent-kafka (librdkafka):
records and topic names are Octopus's, so topics written by one are read by the other. Event
ids are Kafka offsets, consumer names are consumer groups, ``acknowledge()`` commits. Registered
as ``kafka`` in the ``diaspora_stream.drivers`` entry point group::

    Driver(backend="kafka", options={"kafka": {"bootstrap.servers": "127.0.0.1:9092"}})

:mod:`diaspora_stream_kafka.local_broker` runs a real single-node broker for tests.
"""

from __future__ import annotations

from .driver import KafkaDriver
from .topic import KafkaTopicHandle

__all__ = ["KafkaDriver", "KafkaTopicHandle"]

__version__ = "0.1.0"
