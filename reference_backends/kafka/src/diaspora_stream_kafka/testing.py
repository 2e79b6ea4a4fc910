"""A Kafka broker for test sessions: the one at ``$DIASPORA_KAFKA_BOOTSTRAP_SERVERS``, or a
local one started for the session (:class:`~diaspora_stream_kafka.local_broker.LocalBroker`).

``session_broker()`` is what the backend's ``tests/conftest.py`` uses; it sets the variable
for the rest of the session, so driver options can be built from it
(:func:`driver_options`) in test modules, subprocesses and the conformance wiring alike.

Several test processes (pytest-xdist workers) share one broker when
``$DIASPORA_KAFKA_SHARED_STATE_DIR`` names a directory: the first process that needs a broker
starts it there, detached (``python -m diaspora_stream_kafka.local_broker start``), under a file
lock; the others find it running. Whoever set the variable stops it at the end
(:func:`stop_shared_broker`).
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from .local_broker import BrokerUnavailable, LocalBroker

__all__ = [
    "BOOTSTRAP_VARIABLE",
    "SHARED_STATE_VARIABLE",
    "create_raw_topic",
    "driver_options",
    "octopus_value",
    "produce_raw",
    "read_records",
    "session_broker",
    "shared_broker",
    "stop_shared_broker",
]

#: ``host:port`` of a running broker to use instead of starting one.
BOOTSTRAP_VARIABLE = "DIASPORA_KAFKA_BOOTSTRAP_SERVERS"
#: A directory where the processes of one test run share a broker started by the first of them.
SHARED_STATE_VARIABLE = "DIASPORA_KAFKA_SHARED_STATE_DIR"
_BROKER_COMMAND = [sys.executable, "-m", "diaspora_stream_kafka.local_broker"]


def driver_options(**extra: Any) -> dict[str, Any]:
    """Driver options for the session's broker (``extra`` added)."""
    bootstrap = os.environ.get(BOOTSTRAP_VARIABLE)
    if not bootstrap:
        raise RuntimeError(
            f"{BOOTSTRAP_VARIABLE} is not set: the kafka tests' conftest starts a broker and "
            "sets it; outside pytest, set it to host:port of a running broker"
        )
    return {"kafka": {"bootstrap.servers": bootstrap}, **extra}


@contextmanager
def session_broker() -> Iterator[LocalBroker | None]:
    """Use ``$DIASPORA_KAFKA_BOOTSTRAP_SERVERS`` if set (yields ``None``), else start a local
    broker for the duration (yields it) and set the variable meanwhile."""
    if os.environ.get(BOOTSTRAP_VARIABLE):
        yield None
        return
    shared = os.environ.get(SHARED_STATE_VARIABLE)
    if shared:
        os.environ[BOOTSTRAP_VARIABLE] = shared_broker(Path(shared))
        try:
            yield None
        finally:
            os.environ.pop(BOOTSTRAP_VARIABLE, None)
        return
    broker = LocalBroker(log=lambda message: print(message, file=sys.stderr, flush=True))
    broker.start()
    os.environ[BOOTSTRAP_VARIABLE] = broker.bootstrap_servers
    try:
        yield broker
    finally:
        os.environ.pop(BOOTSTRAP_VARIABLE, None)
        broker.close()


def shared_broker(directory: Path) -> str:
    """``host:port`` of the broker shared in ``directory``, started detached by the first
    caller (under a file lock, so concurrent processes start one broker)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        completed = subprocess.run(
            [*_BROKER_COMMAND, "start", "--state-dir", str(directory / "broker")],
            capture_output=True,
            text=True,
            check=False,
        )
    lines = completed.stdout.split()
    if completed.returncode != 0 or not lines:
        raise BrokerUnavailable(
            f"the shared Kafka broker in {directory} did not start:\n{completed.stderr[-3000:]}"
        )
    return lines[-1]


def stop_shared_broker(directory: Path) -> None:
    """Stop the broker that :func:`shared_broker` may have started in ``directory``."""
    if (directory / "broker").is_dir():
        subprocess.run(
            [*_BROKER_COMMAND, "stop", "--state-dir", str(directory / "broker")],
            capture_output=True,
            check=False,
        )


def read_records(bootstrap: str, kafka_topic: str, partition: int = 0) -> list[Message]:
    """Every record of one partition, read with a plain confluent-kafka consumer (no group
    commits), as another Kafka tool would see them."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    tp = TopicPartition(kafka_topic, partition)
    ends = admin.list_offsets({tp: OffsetSpec.latest()})[tp].result().offset
    starts = admin.list_offsets({tp: OffsetSpec.earliest()})[tp].result().offset
    if ends <= starts:
        return []
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": "diaspora-test-reader"})
    try:
        reader.assign([TopicPartition(kafka_topic, partition, starts)])
        records: list[Message] = []
        deadline = time.monotonic() + 30
        while len(records) < ends - starts and time.monotonic() < deadline:
            message = reader.poll(1.0)
            if message is not None and message.error() is None:
                records.append(message)
        return records
    finally:
        reader.close()


def octopus_value(metadata: dict[str, Any], data: bytes) -> bytes:
    """A record value as Octopus writes it with the default serializer (sorted compact JSON)."""
    text = json.dumps(metadata, separators=(",", ":"), sort_keys=True).encode()
    serialized = struct.pack("<Q", len(text)) + text
    return struct.pack("<QQ", len(serialized), len(data)) + serialized + data


def create_raw_topic(bootstrap: str, *topics: tuple[str, int]) -> None:
    """Create Kafka topics ``(name, partitions)`` as another Kafka tool would (no info topic)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, count, 1) for name, count in topics])
    for future in futures.values():
        future.result()


def produce_raw(bootstrap: str, topic: str, values: list[bytes], partition: int = 0) -> None:
    """Write ``values`` as records of one partition with a plain confluent-kafka producer."""
    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(topic, value, partition=partition)
    if producer.flush(30) != 0:
        raise RuntimeError(f"records for {topic!r} were not delivered within 30 s")
