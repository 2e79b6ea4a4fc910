"""Produce-then-consume benchmark of one backend, with raw file I/O measured in the same run.

``python -m diaspora_stream.bench.roundtrip --backend files --root DIR`` runs, for each workload
(metadata 64 B without data; 256 B with 1 KiB data; 64 B with 64 KiB data), N events into a
one-partition topic with batch size 128, then consumes them all, ``--repeat`` times, and reports
the median events/s and MB/s of each side. For workloads with data it also times writing and
reading the same bytes with plain ``os.write``/``os.read`` in the same directory (the baseline)
and prints our rate as a ratio of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ..api import Driver

BATCH_SIZE = 128


@dataclass(frozen=True)
class Workload:
    """One benchmark case."""

    name: str
    metadata_size: int
    data_size: int
    num_events: int


WORKLOADS = (
    Workload("small (64 B metadata, no data)", 64, 0, 200_000),
    Workload("256 B metadata + 1 KiB data", 256, 1024, 100_000),
    Workload("64 B metadata + 64 KiB data", 64, 65536, 8_000),
)


@dataclass
class Result:
    """Median figures of one workload."""

    workload: str
    num_events: int
    produce_events_per_s: float
    produce_mb_per_s: float
    consume_events_per_s: float
    consume_mb_per_s: float
    raw_write_mb_per_s: float | None
    raw_read_mb_per_s: float | None

    @property
    def produce_ratio(self) -> float | None:
        """Our produce MB/s over the raw write MB/s."""
        return self.produce_mb_per_s / self.raw_write_mb_per_s if self.raw_write_mb_per_s else None

    @property
    def consume_ratio(self) -> float | None:
        """Our consume MB/s over the raw read MB/s."""
        return self.consume_mb_per_s / self.raw_read_mb_per_s if self.raw_read_mb_per_s else None


def metadata_of_size(size: int) -> dict[str, Any]:
    """Metadata whose compact JSON has ``size`` bytes (for ``size`` >= 8)."""
    # {"p":"xxx..."} serializes to exactly `size` bytes of JSON for size >= 8.
    return {"p": "x" * max(0, size - 8)}


def produce_events(driver: Driver, topic_name: str, workload: Workload, data: bytes) -> float:
    """Seconds to push the workload's events (batch size 128) and flush."""
    topic = driver.open_topic(topic_name)
    metadata = metadata_of_size(workload.metadata_size)
    payload = data if workload.data_size else b""
    producer = topic.producer("bench", batch_size=BATCH_SIZE)
    push = producer.push
    start = time.perf_counter()
    for _ in range(workload.num_events):
        push(metadata, payload)
    producer.flush().wait()
    elapsed = time.perf_counter() - start
    producer.close()
    topic.close()
    return elapsed


def consume_events(driver: Driver, topic_name: str, workload: Workload) -> float:
    """Seconds to pull the workload's events (with their whole data)."""
    topic = driver.open_topic(topic_name)
    consumer = topic.consumer("bench", batch_size=BATCH_SIZE)
    pull = consumer.pull
    start = time.perf_counter()
    for _ in range(workload.num_events):
        event = pull().wait(-1)
        if event is None:
            raise RuntimeError("benchmark topic has fewer events than expected")
    elapsed = time.perf_counter() - start
    consumer.close()
    topic.close()
    return elapsed


def _raw_io(path: str, workload: Workload, data: bytes) -> tuple[float, float]:
    """Seconds to write then read ``num_events`` chunks of data with plain os calls.

    The file is kept until the workload ends, like the topics, so both sides allocate fresh
    page-cache pages (writing over freed pages is several times faster).
    """
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    chunk = data * BATCH_SIZE
    batches, rest = divmod(workload.num_events, BATCH_SIZE)
    start = time.perf_counter()
    for _ in range(batches):
        os.write(fd, chunk)
    os.write(fd, data * rest)
    written = time.perf_counter() - start
    os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    start = time.perf_counter()
    while os.read(fd, len(data)):
        pass
    read = time.perf_counter() - start
    os.close(fd)
    return written, read


def run_workload(
    backend: str, options: dict[str, Any], workload: Workload, repeat: int, directory: str
) -> Result:
    """Run one workload ``repeat`` times; return the medians."""
    driver = Driver(backend=backend, options=options)
    data = os.urandom(workload.data_size)
    size = workload.metadata_size + workload.data_size
    produce, consume, raw_write, raw_read = [], [], [], []
    raw_files = []
    for repetition in range(repeat):
        topic_name = f"bench-{uuid.uuid4().hex[:12]}"
        driver.create_topic(topic_name, options={"num_partitions": 1})
        raw_first = repetition % 2 == 1  # alternate which side runs first
        for side in ("raw", "ours") if raw_first else ("ours", "raw"):
            # Write back dirty pages before each timed write phase, so neither side pays for
            # the other's (the kernel throttles whoever writes when too many pages are dirty).
            os.sync()
            if side == "ours":
                produce.append(produce_events(driver, topic_name, workload, data))
                consume.append(consume_events(driver, topic_name, workload))
            elif workload.data_size:
                raw_files.append(os.path.join(directory, f"raw-{uuid.uuid4().hex}"))
                written, read = _raw_io(raw_files[-1], workload, data)
                raw_write.append(written)
                raw_read.append(read)
    for path in raw_files:
        os.unlink(path)
    megabytes = workload.num_events * size / 2**20
    data_megabytes = workload.num_events * workload.data_size / 2**20

    def rate(amount: float, times: list[float]) -> float:
        return amount / statistics.median(times)

    return Result(
        workload=workload.name,
        num_events=workload.num_events,
        produce_events_per_s=rate(workload.num_events, produce),
        produce_mb_per_s=rate(megabytes, produce),
        consume_events_per_s=rate(workload.num_events, consume),
        consume_mb_per_s=rate(megabytes, consume),
        raw_write_mb_per_s=rate(data_megabytes, raw_write) if raw_write else None,
        raw_read_mb_per_s=rate(data_megabytes, raw_read) if raw_read else None,
    )


def _format(results: list[Result], backend: str, repeat: int) -> str:
    lines = [
        f"backend {backend}, 1 partition, batch size {BATCH_SIZE}, median of {repeat}",
        "| workload | events | produce ev/s | produce MB/s | consume ev/s | consume MB/s "
        "| produce / raw write | consume / raw read |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        ratios = [
            f"{ratio:.2f}" if ratio is not None else "-"
            for ratio in (result.produce_ratio, result.consume_ratio)
        ]
        lines.append(
            f"| {result.workload} | {result.num_events} | {result.produce_events_per_s:,.0f} "
            f"| {result.produce_mb_per_s:,.1f} | {result.consume_events_per_s:,.0f} "
            f"| {result.consume_mb_per_s:,.1f} | {ratios[0]} | {ratios[1]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="files")
    parser.add_argument("--root", default=None, help="files backend root (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every workload's event count (e.g. 0.01 for a smoke run)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="diaspora-bench-", dir=args.root) as directory:
        options = {"root_path": directory} if args.backend == "files" else {}
        results = []
        for workload in WORKLOADS:
            scaled = Workload(
                workload.name,
                workload.metadata_size,
                workload.data_size,
                max(1, int(workload.num_events * args.scale)),
            )
            print(f"running {scaled.name} x{args.repeat} ...", file=sys.stderr, flush=True)
            results.append(run_workload(args.backend, options, scaled, args.repeat, directory))
    print(_format(results, args.backend, args.repeat))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as output:
            json.dump(
                [
                    asdict(r) | {"produce_ratio": r.produce_ratio, "consume_ratio": r.consume_ratio}
                    for r in results
                ],
                output,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
