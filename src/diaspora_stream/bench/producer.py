"""``diaspora-producer-benchmark``: push N events into a topic and report the throughput.

Options and report are the reference's (reference-api.md §8.1), with its defects fixed: a
metadata size below 2 works (0 and 1 send the one-byte JSON value ``0``), data comes from a
bounded ring buffer instead of one ``n * s`` buffer, and ``--json`` prints a JSON report.
Under ``mpirun`` (with mpi4py) every rank pushes ``-n`` events and rank 0 prints the totals.
"""

from __future__ import annotations

import os
import random
import string
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..api import AdaptiveBatchSize, Driver, TopicHandle
from ..ctl.parsing import ArgumentParser
from .common import (
    add_common_arguments,
    batch_size_argument,
    g6,
    non_negative_int,
    open_benchmark_topic,
    parse_benchmark_arguments,
    print_report,
    run_main,
)
from .mpi import MpiContext, mpi_context
from .progress import Progress

__all__ = ["ProducerResult", "ProducerSettings", "main", "make_metadata", "run_producer"]

#: Distinct metadata values prepared (cycled through for larger counts).
MAX_DISTINCT_METADATA = 4096
#: Largest ring of random data the events' data is taken from.
MAX_DATA_RING_BYTES = 64 * 2**20
_ALPHABET = string.digits + string.ascii_letters


@dataclass(frozen=True)
class ProducerSettings:
    """What one producer benchmark run does."""

    topic: str
    num_events: int = 1000
    data_size: int = 0
    metadata_size: int = 0
    batch_size: int = 1
    num_threads: int = 1
    flush_interval: int = 1000


@dataclass(frozen=True)
class ProducerResult:
    """Totals over every process."""

    total_time_s: float
    total_events: int
    events_per_s: float
    mb_per_s: float
    processes: int


def make_metadata(size: int, count: int, seed: int | None = None) -> list[bytes]:
    """``count`` JSON texts of ``size`` bytes: string literals of random ``[0-9A-Za-z]``
    (quotes included) for ``size >= 2``, the one-digit number ``0`` below."""
    if size < 2:
        return [b"0"] * count
    rng = random.Random(seed)
    return [
        b'"' + "".join(rng.choices(_ALPHABET, k=size - 2)).encode("ascii") + b'"'
        for _ in range(count)
    ]


def _data_views(size: int, num_events: int) -> list[memoryview]:
    if size == 0:
        return []
    slots = max(1, min(num_events, MAX_DISTINCT_METADATA, MAX_DATA_RING_BYTES // size))
    ring = memoryview(os.urandom(slots * size))
    return [ring[i * size : (i + 1) * size] for i in range(slots)]


def _push_all(
    topic: TopicHandle,
    settings: ProducerSettings,
    pool: Any,
    metadata: list[bytes],
    views: list[memoryview],
    progress: Progress,
) -> None:
    producer = topic.producer(
        "benchmark-producer", batch_size=settings.batch_size, thread_pool=pool
    )
    push, flush = producer.push, producer.flush
    count, interval = settings.num_events, settings.flush_interval
    distinct, slots = len(metadata), len(views)
    step = progress.step if progress.enabled else count + 1
    for i in range(count):
        if slots:
            push(metadata[i % distinct], views[i % slots])
        else:
            push(metadata[i % distinct])
        done = i + 1
        if interval and done % interval == 0:
            flush().wait(-1)
        if done % step == 0:
            progress.update(done)
    flush().wait(-1)
    progress.update(count)
    producer.close()


def run_producer(
    driver: Driver,
    settings: ProducerSettings,
    mpi: MpiContext | None = None,
    progress: bool = False,
    create_topic: bool = False,
    topic_options: dict[str, Any] | None = None,
) -> ProducerResult:
    """Run the benchmark with ``driver``; every process pushes ``settings.num_events``."""
    mpi = mpi or MpiContext()
    metadata = make_metadata(
        settings.metadata_size, min(settings.num_events, MAX_DISTINCT_METADATA) or 1
    )
    views = _data_views(settings.data_size, settings.num_events)
    pool = driver.make_thread_pool(settings.num_threads) if settings.num_threads else None
    topic = open_benchmark_topic(driver, settings.topic, create_topic, topic_options or {}, mpi)
    bar = Progress(
        settings.num_events, "producing", enabled=None if progress and mpi.is_root else False
    )
    try:
        mpi.barrier()
        start = time.perf_counter()
        _push_all(topic, settings, pool, metadata, views, bar)
        mpi.barrier()
        elapsed = time.perf_counter() - start
    finally:
        bar.close()
        topic.close()
    elapsed = mpi.max(elapsed)
    total = int(mpi.sum(settings.num_events))
    size = settings.data_size + settings.metadata_size
    return ProducerResult(
        total_time_s=elapsed,
        total_events=total,
        events_per_s=total / elapsed if elapsed > 0 else 0.0,
        mb_per_s=size * total / 2**20 / elapsed if elapsed > 0 else 0.0,
        processes=mpi.size,
    )


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        "diaspora-producer-benchmark",
        "Push events into a topic and report the throughput.",
        epilog="example:\n  diaspora-producer-benchmark -d files --driver.root_path /tmp/x "
        "-t my_topic -n 100000 -m 16 -s 128 -b 64",
    )
    add_common_arguments(parser)
    parser.add_argument(
        "-s", "--data-size", type=non_negative_int, default=0, metavar="BYTES",
        help="bytes of data per event (default: 0)",
    )  # fmt: skip
    parser.add_argument(
        "-m", "--metadata-size", type=non_negative_int, default=0, metavar="BYTES",
        help="bytes of JSON metadata per event: a string literal of that length, quotes "
        "included (below 2: the value 0) (default: 0)",
    )  # fmt: skip
    parser.add_argument(
        "-b", "--batch-size", type=batch_size_argument, default=1, metavar="N",
        help="producer batch size, or 'adaptive' (default: 1)",
    )  # fmt: skip
    parser.add_argument(
        "-f", "--flush-interval", type=non_negative_int, default=1000, metavar="N",
        help="flush and wait after every N pushes (0: only at the end; default: 1000)",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    mpi = mpi_context()

    def body() -> int:
        args, driver_options, topic_options = parse_benchmark_arguments(_parser(), argv)
        settings = ProducerSettings(
            topic=args.topic,
            num_events=args.num_events,
            data_size=args.data_size,
            metadata_size=args.metadata_size,
            batch_size=args.batch_size,
            num_threads=args.num_threads,
            flush_interval=args.flush_interval,
        )
        driver = Driver(backend=args.driver, options=driver_options)
        try:
            result = run_producer(
                driver,
                settings,
                mpi,
                progress=not args.no_progress,
                create_topic=args.create_topic,
                topic_options=topic_options,
            )
        finally:
            driver.close()
        if mpi.is_root:
            batch = "adaptive" if settings.batch_size == AdaptiveBatchSize else settings.batch_size
            options: list[tuple[str, Any]] = [
                ("Driver", args.driver),
                ("Driver config file", args.driver_config),
                ("Topic", settings.topic),
                ("Number of events", settings.num_events),
                ("Data size", settings.data_size),
                ("Metadata size", settings.metadata_size),
                ("Batch size", batch),
                ("Number of threads", settings.num_threads),
                ("Flush interval", settings.flush_interval),
            ]
            if mpi.size > 1:
                options.append(("Number of processes", mpi.size))
            print_report(
                "producer",
                options,
                [
                    ("Total time", f"{g6(result.total_time_s)} s"),
                    ("Total events", str(result.total_events)),
                    ("Throughput", f"{g6(result.events_per_s)} events/s"),
                    ("Bandwidth", f"{g6(result.mb_per_s)} MB/s"),
                ],
                args.json,
                asdict(result),
            )
        return 0

    return run_main(body, mpi)


if __name__ == "__main__":
    raise SystemExit(main())
