"""Benchmark of the kafka backend against the raw confluent-kafka client, in the same run.

``python -m diaspora_stream_kafka.bench`` runs the workloads of the files benchmark
(:data:`diaspora_stream.bench.roundtrip.WORKLOADS`, plus 1 MiB events) on one-partition
topics with batch size 128: N events produced then consumed through this backend, and the
same bytes (the very record values this backend writes) produced and consumed with a plain
``confluent_kafka.Producer``/``Consumer`` configured the same way (idempotence, ``acks=all``,
the same batching), alternating which goes first. It reports the median events/s and MB/s of
each, and ours as a ratio of raw. Without ``--bootstrap-servers`` it starts a local broker.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from diaspora_stream.api import Driver
from diaspora_stream.bench.roundtrip import (
    BATCH_SIZE,
    WORKLOADS,
    Workload,
    consume_events,
    metadata_of_size,
    produce_events,
)

from .consumer import consumer_settings
from .producer import producer_settings
from .records import encode
from .topic import KafkaTopicHandle

__all__ = ["KAFKA_WORKLOADS", "KafkaResult", "main", "run_workload"]

KAFKA_WORKLOADS = (*WORKLOADS, Workload("64 B metadata + 1 MiB data", 64, 2**20, 600))


@dataclass
class KafkaResult:
    """Median figures of one workload, ours and raw."""

    workload: str
    num_events: int
    event_bytes: int
    produce_events_per_s: float
    consume_events_per_s: float
    raw_produce_events_per_s: float
    raw_consume_events_per_s: float

    @property
    def produce_mb_per_s(self) -> float:
        """Our production rate in MB/s (record values)."""
        return self.produce_events_per_s * self.event_bytes / 2**20

    @property
    def consume_mb_per_s(self) -> float:
        """Our consumption rate in MB/s (record values)."""
        return self.consume_events_per_s * self.event_bytes / 2**20

    @property
    def produce_ratio(self) -> float:
        """Our events/s (and MB/s: same bytes) over raw confluent-kafka's, producing."""
        return self.produce_events_per_s / self.raw_produce_events_per_s

    @property
    def consume_ratio(self) -> float:
        """Our events/s (and MB/s) over raw confluent-kafka's, consuming."""
        return self.consume_events_per_s / self.raw_consume_events_per_s

    def as_dict(self) -> dict[str, Any]:
        """Every figure, ratios included (for JSON)."""
        return asdict(self) | {
            "produce_mb_per_s": self.produce_mb_per_s,
            "consume_mb_per_s": self.consume_mb_per_s,
            "produce_ratio": self.produce_ratio,
            "consume_ratio": self.consume_ratio,
        }


def _warm_producer(settings: dict[str, Any], scratch_topic: str) -> Producer:
    """A raw producer that already holds its producer id (granted at the first record), as
    the backend's shared one does."""
    producer = Producer(settings)
    producer.produce(scratch_topic, b"warm-up", partition=0)
    if producer.flush(60):
        raise RuntimeError("raw producer: the warm-up record was not delivered")
    return producer


def _raw_produce(producer: Producer, topic: str, value: bytes, count: int) -> float:
    produce, poll = producer.produce, producer.poll
    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                produce(topic, value, partition=0)
                break
            except BufferError:
                poll(0.001)
    left = producer.flush(600)
    elapsed = time.perf_counter() - start
    if left:
        raise RuntimeError(f"raw producer: {left} records not delivered")
    return elapsed


def _raw_consume(settings: dict[str, Any], topic: str, count: int) -> float:
    consumer = Consumer(settings)
    consumer.list_topics(topic, timeout=30)  # as the backend's consumer does at creation
    consumer.assign([TopicPartition(topic, 0, 0)])
    consume = consumer.consume
    received = 0
    start = time.perf_counter()
    while received < count:
        for message in consume(num_messages=BATCH_SIZE, timeout=0.1):
            if message.error() is None:
                message.value()
                received += 1
    elapsed = time.perf_counter() - start
    consumer.close()
    return elapsed


def run_workload(options: dict[str, Any], workload: Workload, repeat: int) -> KafkaResult:
    """Run ``workload`` ``repeat`` times through the backend and through raw confluent-kafka."""
    driver = Driver(backend="kafka", options=options)
    data = os.urandom(workload.data_size)
    serialized = None
    raw_producer = None
    ours_produce, ours_consume, raw_produce, raw_consume = [], [], [], []
    for repetition in range(repeat):
        names = {
            side: f"bench-{side}-{uuid.uuid4().hex[:10]}" for side in ("ours", "raw", "scratch")
        }
        for name in names.values():
            driver.create_topic(name, options={"num_partitions": 1})
        handle = driver.interface.open_topic(names["raw"])
        assert isinstance(handle, KafkaTopicHandle)
        if serialized is None:
            metadata = metadata_of_size(workload.metadata_size)
            serialized = encode(
                handle.serializer.serialize(metadata),
                (memoryview(data),) if data else (),
                len(data),
            )
        if raw_producer is None:
            settings = producer_settings(handle, BATCH_SIZE, 2, {})
            raw_producer = _warm_producer(settings, names["scratch"])
        consume_settings = consumer_settings(handle, "bench-raw", BATCH_SIZE, 2, {})
        for side in ("raw", "ours") if repetition % 2 else ("ours", "raw"):
            if side == "ours":
                ours_produce.append(produce_events(driver, names["ours"], workload, data))
                ours_consume.append(consume_events(driver, names["ours"], workload))
            else:
                topic = handle.kafka_topic
                count = workload.num_events
                raw_produce.append(_raw_produce(raw_producer, topic, serialized, count))
                raw_consume.append(_raw_consume(consume_settings, topic, count))
    assert serialized is not None

    def rate(times: list[float]) -> float:
        return workload.num_events / statistics.median(times)

    return KafkaResult(
        workload=workload.name,
        num_events=workload.num_events,
        event_bytes=len(serialized),
        produce_events_per_s=rate(ours_produce),
        consume_events_per_s=rate(ours_consume),
        raw_produce_events_per_s=rate(raw_produce),
        raw_consume_events_per_s=rate(raw_consume),
    )


def format_results(results: Sequence[KafkaResult], repeat: int) -> str:
    """A Markdown table of the results."""
    lines = [
        f"kafka backend vs raw confluent-kafka, 1 partition, batch size {BATCH_SIZE}, "
        f"median of {repeat}",
        "| workload | events | produce ev/s | produce MB/s | raw produce ev/s | produce / raw "
        "| consume ev/s | consume MB/s | raw consume ev/s | consume / raw |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.workload} | {r.num_events} | {r.produce_events_per_s:,.0f} "
            f"| {r.produce_mb_per_s:,.1f} | {r.raw_produce_events_per_s:,.0f} "
            f"| {r.produce_ratio:.2f} | {r.consume_events_per_s:,.0f} "
            f"| {r.consume_mb_per_s:,.1f} | {r.raw_consume_events_per_s:,.0f} "
            f"| {r.consume_ratio:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m diaspora_stream_kafka.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--bootstrap-servers", help="a running broker (default: start one)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the event counts")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    from .local_broker import LocalBroker

    broker = None
    bootstrap = args.bootstrap_servers
    if bootstrap is None:
        broker = LocalBroker(log=lambda message: print(message, file=sys.stderr, flush=True))
        broker.start()
        bootstrap = broker.bootstrap_servers
    try:
        options = {"kafka": {"bootstrap.servers": bootstrap}}
        results = []
        for workload in KAFKA_WORKLOADS:
            count = max(1, int(workload.num_events * args.scale))
            scaled = Workload(workload.name, workload.metadata_size, workload.data_size, count)
            print(f"running {scaled.name}, {count} events x{args.repeat} ...", file=sys.stderr)
            results.append(run_workload(options, scaled, args.repeat))
    finally:
        if broker is not None:
            broker.close()
    print(format_results(results, args.repeat))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as output:
            json.dump([result.as_dict() for result in results], output, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
