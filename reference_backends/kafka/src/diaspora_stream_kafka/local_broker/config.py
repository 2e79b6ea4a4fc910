"""The configuration files of a single-node KRaft broker on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import uuid
from pathlib import Path

__all__ = [
    "LOG4J2_PROPERTIES",
    "free_port",
    "new_cluster_id",
    "server_properties",
    "stored_ports",
]

#: Broker logging into ``<logs>/server.log`` only (the properties format needs no YAML jar).
LOG4J2_PROPERTIES = """\
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
"""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def new_cluster_id() -> str:
    """A cluster id in Kafka's own form (22 characters of URL-safe base64), not starting with
    ``-`` (the storage tool would take it for an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def server_properties(data_directory: Path, port: int, controller_port: int) -> str:
    """``server.properties`` of a combined broker+controller listening on 127.0.0.1.

    Replication factor 1 everywhere (one node), a single partition for internal topics and no
    initial rebalance delay (fast consumer-group joins on a small machine), no automatic topic
    creation (a typo fails loudly), and record sizes up to 128 MiB for large events.
    """
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": (
            f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"
        ),
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_directory),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "num.recovery.threads.per.data.dir": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "message.max.bytes": str(128 * 2**20 + 4096),
        "replica.fetch.max.bytes": str(128 * 2**20 + 4096),
        "socket.request.max.bytes": str(256 * 2**20),
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def stored_ports(properties: Path) -> tuple[int, int] | None:
    """``(client port, controller port)`` of a ``server.properties`` written by
    :func:`server_properties`, or ``None`` if there is none (or it is not one of ours)."""
    try:
        lines = properties.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    ports: dict[str, int] = {}
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "listeners":
            for listener in value.split(","):
                name, _, address = listener.strip().partition("://")
                port = address.rpartition(":")[2]
                if port.isdigit():
                    ports[name] = int(port)
    if "PLAINTEXT" not in ports or "CONTROLLER" not in ports:
        return None
    return ports["PLAINTEXT"], ports["CONTROLLER"]
