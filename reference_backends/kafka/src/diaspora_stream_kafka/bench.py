"""Benchmark of the kafka backend against the raw confluent-kafka client, in the same run.

``python -m diaspora_stream_kafka.bench`` runs the workloads of the files benchmark
(:data:`diaspora_stream.bench.roundtrip.WORKLOADS`, plus 1 MiB events) on one-partition
topics with batch size 128: N events produced then consumed through this backend one at a
time (``push``, ``pull().wait()``), N more in batches (``push_many``, ``pull_many`` of
``--chunk`` events), and the same bytes (the very record values this backend writes) produced
and consumed with a plain ``confluent_kafka.Producer``/``Consumer`` configured the same way
(idempotence, ``acks=all``, the same batching; the raw consumer takes records with
``consume()`` in batches of ``--chunk`` and touches each value), rotating which goes first. It
reports the median events/s and MB/s of each, ours as a ratio of raw, and the ratio of the CPU
time of the process (every thread) as well, which a loaded machine disturbs less. Without
``--bootstrap-servers`` it starts a local broker.

A diagnostic fourth side produces the same records with the raw producer and a per-record
delivery callback that does nothing: the floor of any producer that learns each record's
offset through confluent-kafka (this backend's ids), which the raw side does not pay for.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
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

__all__ = ["KAFKA_WORKLOADS", "KafkaResult", "ProduceRates", "Rates", "main", "run_workload"]

KAFKA_WORKLOADS = (*WORKLOADS, Workload("64 B metadata + 1 MiB data", 64, 2**20, 600))
#: Events per ``push_many`` and ``pull_many`` call, and per raw ``consume()``.
DEFAULT_CHUNK = 4096
#: The three ways of producing and consuming that are timed, in the order of a repetition.
SIDES = ("ours", "batch", "raw")
#: The diagnostic side: raw producing with a per-record delivery callback (no consuming).
REPORTED = "raw_reported"
_WAIT_MS = 600_000


@dataclass
class Rates:
    """Median rates of one side: events/s of wall-clock time and of process CPU time."""

    produce: float
    consume: float
    produce_cpu: float
    consume_cpu: float


@dataclass
class ProduceRates:
    """Median producing rates of a side that only produces: events/s of wall-clock time and
    of process CPU time."""

    produce: float
    produce_cpu: float


@dataclass
class KafkaResult:
    """Median figures of one workload: ours one event at a time, ours in batches, raw, and
    raw producing with a per-record delivery callback (``reported``, a diagnostic)."""

    workload: str
    num_events: int
    event_bytes: int
    ours: Rates
    batch: Rates
    raw: Rates
    reported: ProduceRates
    ratios: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self.ratios = {}
        for side in ("ours", "batch"):
            rates = getattr(self, side)
            for what in ("produce", "consume", "produce_cpu", "consume_cpu"):
                self.ratios[f"{side}_{what}"] = getattr(rates, what) / getattr(self.raw, what)
        for what in ("produce", "produce_cpu"):
            self.ratios[f"{REPORTED}_{what}"] = getattr(self.reported, what) / getattr(
                self.raw, what
            )

    def mb_per_s(self, events_per_s: float) -> float:
        """A rate in MB/s of record values."""
        return events_per_s * self.event_bytes / 2**20

    def as_dict(self) -> dict[str, Any]:
        """Every figure, ratios included (for JSON)."""
        return asdict(self)


def _warm_producer(settings: dict[str, Any], scratch_topic: str) -> Producer:
    """A raw producer that already holds its producer id (granted at the first record), as
    the backend's shared one does."""
    producer = Producer(settings)
    producer.produce(scratch_topic, b"warm-up", partition=0)
    if producer.flush(60):
        raise RuntimeError("raw producer: the warm-up record was not delivered")
    return producer


def _ignore_report(error: KafkaError | None, message: Message) -> None:
    """The diagnostic side's delivery callback: takes the report, does nothing with it."""


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
    return _flushed(producer, start)


def _raw_produce_reported(producer: Producer, topic: str, value: bytes, count: int) -> float:
    """:func:`_raw_produce` with a per-record delivery callback that does nothing."""
    produce, poll = producer.produce, producer.poll
    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                produce(topic, value, partition=0, on_delivery=_ignore_report)
                break
            except BufferError:
                poll(0.001)
    return _flushed(producer, start)


def _flushed(producer: Producer, start: float) -> float:
    """Seconds from ``start`` until the raw producer's records are all delivered."""
    left = producer.flush(600)
    elapsed = time.perf_counter() - start
    if left:
        raise RuntimeError(f"raw producer: {left} records not delivered")
    return elapsed


def _raw_consume(settings: dict[str, Any], topic: str, count: int, chunk: int) -> float:
    consumer = Consumer(settings)
    consumer.list_topics(topic, timeout=30)  # as the backend's consumer does at creation
    consumer.assign([TopicPartition(topic, 0, 0)])
    consume = consumer.consume
    received = 0
    start = time.perf_counter()
    while received < count:
        for message in consume(num_messages=min(chunk, count - received), timeout=0.1):
            if message.error() is None:
                message.value()
                received += 1
    elapsed = time.perf_counter() - start
    consumer.close()
    return elapsed


def _produce_batches(
    driver: Driver, topic_name: str, workload: Workload, data: bytes, chunk: int
) -> float:
    """Seconds to push the workload's events with ``push_many`` (batch size 128) and flush."""
    topic = driver.open_topic(topic_name)
    producer = topic.producer("bench", batch_size=BATCH_SIZE)
    metadata = [metadata_of_size(workload.metadata_size)] * chunk
    payloads = [data] * chunk if workload.data_size else None
    start = time.perf_counter()
    for first in range(0, workload.num_events, chunk):
        size = min(chunk, workload.num_events - first)
        producer.push_many(metadata[:size], None if payloads is None else payloads[:size])
    producer.flush().wait()
    elapsed = time.perf_counter() - start
    producer.close()
    topic.close()
    return elapsed


def _consume_batches(driver: Driver, topic_name: str, count: int, chunk: int) -> float:
    """Seconds to take ``count`` events (with their whole data) with ``pull_many``."""
    topic = driver.open_topic(topic_name)
    consumer = topic.consumer("bench", batch_size=BATCH_SIZE)
    pull_many = consumer.pull_many
    taken = 0
    start = time.perf_counter()
    while taken < count:
        events = pull_many(min(chunk, count - taken), timeout_ms=_WAIT_MS)
        if not events:
            raise RuntimeError("benchmark topic has fewer events than expected")
        taken += len(events)
    elapsed = time.perf_counter() - start
    consumer.close()
    topic.close()
    return elapsed


def _timed(run: Callable[[], float]) -> tuple[float, float]:
    """``(wall-clock seconds run reports, CPU seconds of the process during run)``."""
    cpu = time.process_time()
    seconds = run()
    return seconds, time.process_time() - cpu


def run_workload(
    options: dict[str, Any], workload: Workload, repeat: int, chunk: int = DEFAULT_CHUNK
) -> KafkaResult:
    """Run ``workload`` ``repeat`` times through the backend, one event at a time and in
    batches of ``chunk``, and through raw confluent-kafka."""
    driver = Driver(backend="kafka", options=options)
    data = os.urandom(workload.data_size)
    serialized = None
    raw_producer = None
    times: dict[str, list[tuple[float, float]]] = {
        f"{side}_{what}": [] for side in SIDES for what in ("produce", "consume")
    }
    times[f"{REPORTED}_produce"] = []
    count = workload.num_events
    for repetition in range(repeat):
        names = {
            side: f"bench-{side.replace('_', '-')}-{uuid.uuid4().hex[:10]}"
            for side in (*SIDES, REPORTED, "scratch")
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
        topic = handle.kafka_topic
        runs: dict[str, tuple[Callable[[], float], Callable[[], float] | None]] = {
            "ours": (
                partial(produce_events, driver, names["ours"], workload, data),
                partial(consume_events, driver, names["ours"], workload),
            ),
            "batch": (
                partial(_produce_batches, driver, names["batch"], workload, data, chunk),
                partial(_consume_batches, driver, names["batch"], count, chunk),
            ),
            "raw": (
                partial(_raw_produce, raw_producer, topic, serialized, count),
                partial(_raw_consume, consume_settings, topic, count, chunk),
            ),
            REPORTED: (
                partial(
                    _raw_produce_reported,
                    raw_producer,
                    handle.driver.names.data_topic(names[REPORTED]),
                    serialized,
                    count,
                ),
                None,
            ),
        }
        order = (*SIDES, REPORTED)
        shift = repetition % len(order)
        for side in order[shift:] + order[:shift]:
            produce, consume = runs[side]
            times[f"{side}_produce"].append(_timed(produce))
            if consume is not None:
                times[f"{side}_consume"].append(_timed(consume))
    assert serialized is not None

    def rates(side: str) -> Rates:
        produced, consumed = times[f"{side}_produce"], times[f"{side}_consume"]
        return Rates(
            produce=count / statistics.median(wall for wall, _ in produced),
            consume=count / statistics.median(wall for wall, _ in consumed),
            produce_cpu=count / statistics.median(cpu for _, cpu in produced),
            consume_cpu=count / statistics.median(cpu for _, cpu in consumed),
        )

    reported = times[f"{REPORTED}_produce"]
    driver.close()
    return KafkaResult(
        workload=workload.name,
        num_events=count,
        event_bytes=len(serialized),
        ours=rates("ours"),
        batch=rates("batch"),
        raw=rates("raw"),
        reported=ProduceRates(
            produce=count / statistics.median(wall for wall, _ in reported),
            produce_cpu=count / statistics.median(cpu for _, cpu in reported),
        ),
    )


def format_results(results: Sequence[KafkaResult], repeat: int, chunk: int) -> str:
    """A Markdown table of the results: a row per workload and way (one event at a time,
    batches), each against raw confluent-kafka."""
    lines = [
        f"kafka backend vs raw confluent-kafka, 1 partition, batch size {BATCH_SIZE}, "
        f"batches of {chunk}, median of {repeat}; CPU: the process's CPU time",
        "| workload | calls | produce ev/s | raw produce ev/s | produce / raw | produce / raw "
        "(CPU) | consume ev/s | consume MB/s | raw consume ev/s | consume / raw "
        "| consume / raw (CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for side, calls in (("ours", "push, pull"), ("batch", "push_many, pull_many")):
            ours: Rates = getattr(r, side)
            ratio = r.ratios
            lines.append(
                f"| {r.workload} | {calls} | {ours.produce:,.0f} | {r.raw.produce:,.0f} "
                f"| {ratio[side + '_produce']:.2f} | {ratio[side + '_produce_cpu']:.2f} "
                f"| {ours.consume:,.0f} | {r.mb_per_s(ours.consume):,.1f} "
                f"| {r.raw.consume:,.0f} | {ratio[side + '_consume']:.2f} "
                f"| {ratio[side + '_consume_cpu']:.2f} |"
            )
        lines.append(
            f"| {r.workload} | raw + per-record delivery callback (diagnostic) "
            f"| {r.reported.produce:,.0f} | {r.raw.produce:,.0f} "
            f"| {r.ratios[REPORTED + '_produce']:.2f} "
            f"| {r.ratios[REPORTED + '_produce_cpu']:.2f} | - | - | - | - | - |"
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
    parser.add_argument(
        "--chunk", type=int, default=DEFAULT_CHUNK, help="events per batch call and raw consume()"
    )
    parser.add_argument(
        "--workload",
        action="append",
        metavar="NAME",
        help="run only the workloads whose name starts with NAME (repeatable)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    from .local_broker import LocalBroker

    workloads = [
        w
        for w in KAFKA_WORKLOADS
        if not args.workload or any(w.name.startswith(name) for name in args.workload)
    ]
    broker = None
    bootstrap = args.bootstrap_servers
    if bootstrap is None:
        broker = LocalBroker(log=lambda message: print(message, file=sys.stderr, flush=True))
        broker.start()
        bootstrap = broker.bootstrap_servers
    try:
        options = {"kafka": {"bootstrap.servers": bootstrap}}
        results = []
        for workload in workloads:
            count = max(1, int(workload.num_events * args.scale))
            scaled = Workload(workload.name, workload.metadata_size, workload.data_size, count)
            print(f"running {scaled.name}, {count} events x{args.repeat} ...", file=sys.stderr)
            results.append(run_workload(options, scaled, args.repeat, args.chunk))
    finally:
        if broker is not None:
            broker.close()
    print(format_results(results, args.repeat, args.chunk))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as output:
            json.dump([result.as_dict() for result in results], output, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
