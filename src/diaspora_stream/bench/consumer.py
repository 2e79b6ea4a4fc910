"""``diaspora-consumer-benchmark``: pull N events from a topic and report the throughput.

Options and report are the reference's (reference-api.md §8.2), with its defects fixed:
``--data-interest`` (probability of reading an event's data) and ``--data-selectivity`` (fraction
of the data read) really select data, through the consumer's data selector and allocator; a
topic with fewer events than asked ends with a clear error once no event arrived for
``--timeout`` seconds; the report adds the data bytes read. Under ``mpirun`` (with mpi4py) rank
``r`` of ``P`` reads partitions ``r, r+P, ...`` and rank 0 prints the totals.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..api import AdaptiveBatchSize, ByteArrayAllocator, DataDescriptor, Driver, TopicHandle
from ..ctl.errors import CommandError
from ..ctl.parsing import ArgumentParser
from .common import (
    add_common_arguments,
    batch_size_argument,
    fraction_argument,
    g6,
    open_benchmark_topic,
    parse_benchmark_arguments,
    print_report,
    run_main,
)
from .mpi import MpiContext, mpi_context
from .progress import Progress

__all__ = ["ConsumerResult", "ConsumerSettings", "main", "make_data_selector", "run_consumer"]

DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ConsumerSettings:
    """What one consumer benchmark run does."""

    topic: str
    num_events: int = 1000
    num_threads: int = 1
    data_interest: float = 1.0
    data_selectivity: float = 1.0
    batch_size: int = AdaptiveBatchSize
    timeout_s: float = DEFAULT_TIMEOUT_S
    seed: int | None = None
    consumer_name: str = "benchmark-consumer"


@dataclass(frozen=True)
class ConsumerResult:
    """Totals over every process."""

    total_time_s: float
    total_events: int
    events_per_s: float
    data_bytes: int
    mb_per_s: float
    processes: int


def make_data_selector(
    interest: float, selectivity: float, seed: int | None = None
) -> Callable[[Any, DataDescriptor], DataDescriptor | None]:
    """A data selector reading an event's data with probability ``interest``, and then only
    its first ``selectivity`` fraction (rounded down to whole bytes)."""
    rng = random.Random(seed)

    def select(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor | None:
        if interest < 1.0 and rng.random() >= interest:
            return None
        if selectivity >= 1.0:
            return descriptor
        size = int(descriptor.size * selectivity)
        if size == 0:
            return None
        return descriptor.make_sub_view(offset=0, size=size)

    return select


def _targets(topic: TopicHandle, mpi: MpiContext) -> list[int] | None:
    count = len(topic.partitions)
    if mpi.size == 1:
        return None
    if mpi.is_root:
        if count % mpi.size:
            print(
                "WARNING: number of processes does not evenly divide number of partitions",
                file=sys.stderr,
            )
        if count < mpi.size:
            print(
                "WARNING: number of processes is lower than number of partitions", file=sys.stderr
            )
    targets = list(range(mpi.rank, count, mpi.size))
    if not targets:
        raise CommandError(f"Rank {mpi.rank} has no partition to read ({count} partition(s))")
    return targets


def _pull_all(
    topic: TopicHandle,
    settings: ConsumerSettings,
    pool: Any,
    targets: list[int] | None,
    progress: Progress,
) -> int:
    """Pull the events; return the data bytes received."""
    consumer = topic.consumer(
        settings.consumer_name,
        data_selector=make_data_selector(
            settings.data_interest, settings.data_selectivity, settings.seed
        ),
        data_allocator=ByteArrayAllocator,
        batch_size=settings.batch_size,
        thread_pool=pool,
        targets=targets,
    )
    pull = consumer.pull
    timeout_ms = int(settings.timeout_s * 1000)
    count = settings.num_events
    step = progress.step if progress.enabled else count + 1
    data_bytes = received = 0
    try:
        while received < count:
            event = pull().wait(timeout_ms)
            if event is None or event.event_id is None:
                raise CommandError(
                    f"Topic '{settings.topic}' delivered {received} of the {count} events asked "
                    f"for: no event for {g6(settings.timeout_s)} s. Produce more events, lower "
                    "--num-events or raise --timeout"
                )
            for buffer in event.data:
                data_bytes += len(buffer)
            received += 1
            if received % step == 0:
                progress.update(received)
        progress.update(received)
    finally:
        consumer.close()
    return data_bytes


def run_consumer(
    driver: Driver,
    settings: ConsumerSettings,
    mpi: MpiContext | None = None,
    progress: bool = False,
    create_topic: bool = False,
    topic_options: dict[str, Any] | None = None,
) -> ConsumerResult:
    """Run the benchmark with ``driver``; every process pulls ``settings.num_events``."""
    mpi = mpi or MpiContext()
    pool = driver.make_thread_pool(settings.num_threads) if settings.num_threads else None
    topic = open_benchmark_topic(driver, settings.topic, create_topic, topic_options or {}, mpi)
    bar = Progress(
        settings.num_events, "consuming", enabled=None if progress and mpi.is_root else False
    )
    try:
        targets = _targets(topic, mpi)
        mpi.barrier()
        start = time.perf_counter()
        data_bytes = _pull_all(topic, settings, pool, targets, bar)
        mpi.barrier()
        elapsed = time.perf_counter() - start
    finally:
        bar.close()
        topic.close()
    elapsed = mpi.max(elapsed)
    total = int(mpi.sum(settings.num_events))
    data_total = int(mpi.sum(data_bytes))
    return ConsumerResult(
        total_time_s=elapsed,
        total_events=total,
        events_per_s=total / elapsed if elapsed > 0 else 0.0,
        data_bytes=data_total,
        mb_per_s=data_total / 2**20 / elapsed if elapsed > 0 else 0.0,
        processes=mpi.size,
    )


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        "diaspora-consumer-benchmark",
        "Pull events from a topic and report the throughput.",
        epilog="example:\n  diaspora-consumer-benchmark -d files --driver.root_path /tmp/x "
        "-t my_topic -n 100000 -s 0.5 -i 0.8",
    )
    add_common_arguments(parser)
    parser.add_argument(
        "-s", "--data-selectivity", type=fraction_argument("data-selectivity"), default=1.0,
        metavar="F", help="fraction of each selected event's data to read, in [0,1] (default: 1)",
    )  # fmt: skip
    parser.add_argument(
        "-i", "--data-interest", type=fraction_argument("data-interest"), default=1.0,
        metavar="P", help="probability of reading an event's data, in [0,1] (default: 1)",
    )  # fmt: skip
    parser.add_argument(
        "-b", "--batch-size", type=batch_size_argument, default=AdaptiveBatchSize, metavar="N",
        help="consumer batch size, or 'adaptive' (default: adaptive)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
        help="fail when no event arrives for this long before N events were received "
        f"(default: {DEFAULT_TIMEOUT_S:g})",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the --data-interest random choices"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    mpi = mpi_context()

    def body() -> int:
        args, driver_options, topic_options = parse_benchmark_arguments(_parser(), argv)
        if args.timeout <= 0:
            raise CommandError(f"--timeout must be > 0, got {args.timeout:g}")
        settings = ConsumerSettings(
            topic=args.topic,
            num_events=args.num_events,
            num_threads=args.num_threads,
            data_interest=args.data_interest,
            data_selectivity=args.data_selectivity,
            batch_size=args.batch_size,
            timeout_s=args.timeout,
            seed=args.seed,
        )
        driver = Driver(backend=args.driver, options=driver_options)
        try:
            result = run_consumer(
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
            options: list[tuple[str, Any]] = [
                ("Driver", args.driver),
                ("Driver config file", args.driver_config),
                ("Topic", settings.topic),
                ("Number of events", settings.num_events),
                ("Number of threads", settings.num_threads),
                ("Data interest", settings.data_interest),
                ("Data selectivity", settings.data_selectivity),
            ]
            if mpi.size > 1:
                options.append(("Number of processes", mpi.size))
            print_report(
                "consumer",
                options,
                [
                    ("Total time", f"{g6(result.total_time_s)} s"),
                    ("Total events", str(result.total_events)),
                    ("Throughput", f"{g6(result.events_per_s)} events/s"),
                    ("Data read", f"{result.data_bytes} bytes"),
                    ("Bandwidth", f"{g6(result.mb_per_s)} MB/s"),
                ],
                args.json,
                asdict(result),
            )
        return 0

    return run_main(body, mpi)


if __name__ == "__main__":
    raise SystemExit(main())
