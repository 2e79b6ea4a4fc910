"""Produce-then-consume benchmark of one backend, with raw file I/O measured in the same run.

``python -m diaspora_stream.bench.roundtrip --backend NAME [--backend-options JSON]`` runs, for
each workload (metadata 64 B without data; 256 B with 1 KiB data; 64 B with 64 KiB data), N
events into a one-partition topic with batch size 128, then consumes them all, ``--repeat``
times, and reports the median events/s and MB/s of each side. For workloads with data it also
times writing and reading the same bytes with plain ``os.write``/``os.read`` in the same
directory (the baseline) and prints our rate as a ratio of it.

The run ends: it has a time budget per backend (``--budget``, :data:`DEFAULT_BUDGET_S` by
default), shared by the workloads; a workload that exhausts its share stops there and is
reported as "did not finish in the budget" with the events/s it reached. It runs in a temporary
directory (``"{tmp}"`` in the driver options names it too), removed at the end with everything
the backend wrote there. A progress bar shows each workload's progress on a terminal.
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
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..api import Driver
from ..backend.placeholders import substitute_placeholders
from .common import json_object_argument
from .progress import Progress

BATCH_SIZE = 128
#: Seconds each backend may take, all workloads together, unless ``--budget`` says otherwise.
DEFAULT_BUDGET_S = 60.0
#: Events pushed or pulled between two looks at the clock.
_CHECK_EVERY = BATCH_SIZE


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
    #: Whether every repetition produced and consumed all ``num_events`` within the budget.
    finished: bool = True
    #: Events produced (and consumed) in the last repetition (``num_events`` when finished).
    events_done: int = 0

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


@dataclass(frozen=True)
class Timed:
    """One side of one repetition: how many events it handled in how many seconds."""

    events: int
    seconds: float

    @property
    def rate(self) -> float:
        """Events per second (0 when nothing was timed)."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def produce_within(
    driver: Driver,
    topic_name: str,
    workload: Workload,
    data: bytes,
    deadline: float = float("inf"),
    progress: Progress | None = None,
) -> Timed:
    """Push the workload's events (batch size 128) and flush, stopping at ``deadline``
    (a ``time.perf_counter()`` value) if it comes first."""
    topic = driver.open_topic(topic_name)
    metadata = metadata_of_size(workload.metadata_size)
    payload = data if workload.data_size else b""
    producer = topic.producer("bench", batch_size=BATCH_SIZE)
    push = producer.push
    pushed = 0
    start = time.perf_counter()
    while pushed < workload.num_events:
        for _ in range(min(_CHECK_EVERY, workload.num_events - pushed)):
            push(metadata, payload)
        pushed = min(workload.num_events, pushed + _CHECK_EVERY)
        if progress is not None:
            progress.update(pushed)
        if time.perf_counter() > deadline:
            break
    producer.flush().wait()
    elapsed = time.perf_counter() - start
    producer.close()
    topic.close()
    return Timed(pushed, elapsed)


def consume_within(
    driver: Driver,
    topic_name: str,
    count: int,
    deadline: float = float("inf"),
    progress: Progress | None = None,
) -> Timed:
    """Pull ``count`` events (with their whole data), stopping at ``deadline`` if it comes
    first."""
    topic = driver.open_topic(topic_name)
    consumer = topic.consumer("bench", batch_size=BATCH_SIZE)
    pull = consumer.pull
    pulled = 0
    start = time.perf_counter()
    while pulled < count:
        for _ in range(min(_CHECK_EVERY, count - pulled)):
            if pull().wait(-1) is None:
                raise RuntimeError("benchmark topic has fewer events than expected")
        pulled = min(count, pulled + _CHECK_EVERY)
        if progress is not None:
            progress.update(pulled)
        if time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - start
    consumer.close()
    topic.close()
    return Timed(pulled, elapsed)


def produce_events(driver: Driver, topic_name: str, workload: Workload, data: bytes) -> float:
    """Seconds to push all the workload's events (batch size 128) and flush."""
    return produce_within(driver, topic_name, workload, data).seconds


def consume_events(driver: Driver, topic_name: str, workload: Workload) -> float:
    """Seconds to pull all the workload's events (with their whole data)."""
    return consume_within(driver, topic_name, workload.num_events).seconds


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
    backend: str,
    options: dict[str, Any],
    workload: Workload,
    repeat: int,
    directory: str,
    budget_s: float = float("inf"),
    show_progress: bool | None = None,
) -> Result:
    """Run one workload ``repeat`` times within ``budget_s`` seconds; return the medians.

    Each repetition gets an equal share of the budget, half of it to produce (the consumer
    then reads what was produced, in what is left of the share). A repetition that runs out
    of time ends the workload: the result says it did not finish, with the rates reached.
    """
    driver = Driver(backend=backend, options=options)
    data = os.urandom(workload.data_size)
    size = workload.metadata_size + workload.data_size
    produce: list[Timed] = []
    consume: list[Timed] = []
    raw_write: list[float] = []
    raw_read: list[float] = []
    raw_data_megabytes: list[float] = []
    raw_files = []
    finished = True
    share = budget_s / repeat
    try:
        for repetition in range(repeat):
            topic_name = f"bench-{uuid.uuid4().hex[:12]}"
            driver.create_topic(topic_name, options={"num_partitions": 1})
            raw_first = repetition % 2 == 1  # alternate which side runs first
            for side in ("raw", "ours") if raw_first else ("ours", "raw"):
                # Write back dirty pages before each timed write phase, so neither side pays
                # for the other's (the kernel throttles whoever writes when too many pages are
                # dirty).
                os.sync()
                if side == "ours":
                    label = f"  {repetition + 1}/{repeat}"
                    started = time.perf_counter()
                    bar = Progress(workload.num_events, f"{label} produce", enabled=show_progress)
                    produce.append(
                        produce_within(driver, topic_name, workload, data, started + share / 2, bar)
                    )
                    bar.close()
                    count = produce[-1].events
                    bar = Progress(count, f"{label} consume", enabled=show_progress)
                    consume.append(consume_within(driver, topic_name, count, started + share, bar))
                    bar.close()
                    finished = consume[-1].events == workload.num_events
                elif workload.data_size:
                    # As many events as ours handled, so the baseline keeps to the budget too.
                    done = produce[-1].events if produce else workload.num_events
                    raw_files.append(os.path.join(directory, f"raw-{uuid.uuid4().hex}"))
                    written, read = _raw_io(raw_files[-1], replace(workload, num_events=done), data)
                    raw_data_megabytes.append(done * workload.data_size / 2**20)
                    raw_write.append(written)
                    raw_read.append(read)
            if not finished:
                break
    finally:
        driver.close()
        for path in raw_files:
            os.unlink(path)

    def rate(amounts: list[float], times: list[float]) -> float:
        return statistics.median(amount / time for amount, time in zip(amounts, times, strict=True))

    def median_rate(runs: list[Timed]) -> float:
        return statistics.median(run.rate for run in runs)

    megabytes_per_event = size / 2**20
    return Result(
        workload=workload.name,
        num_events=workload.num_events,
        produce_events_per_s=median_rate(produce),
        produce_mb_per_s=median_rate(produce) * megabytes_per_event,
        consume_events_per_s=median_rate(consume),
        consume_mb_per_s=median_rate(consume) * megabytes_per_event,
        raw_write_mb_per_s=rate(raw_data_megabytes, raw_write) if raw_write else None,
        raw_read_mb_per_s=rate(raw_data_megabytes, raw_read) if raw_read else None,
        finished=finished,
        events_done=consume[-1].events,
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
        events = (
            str(result.num_events)
            if result.finished
            else f"did not finish in the budget ({result.events_done} of {result.num_events})"
        )
        lines.append(
            f"| {result.workload} | {events} | {result.produce_events_per_s:,.0f} "
            f"| {result.produce_mb_per_s:,.1f} | {result.consume_events_per_s:,.0f} "
            f"| {result.consume_mb_per_s:,.1f} | {ratios[0]} | {ratios[1]} |"
        )
    return "\n".join(lines)


def _positive_seconds(text: str) -> float:
    """argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text!r}")
    return value


def run(
    backend: str,
    options: dict[str, Any],
    workloads: list[Workload],
    repeat: int,
    budget_s: float,
    parent: str | None = None,
) -> list[Result]:
    """Every workload on ``backend`` within ``budget_s`` seconds in all, in a temporary
    directory (under ``parent``) that is the working directory meanwhile, ``"{tmp}"`` in the
    options, and removed at the end."""
    results = []
    deadline = time.perf_counter() + budget_s
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="diaspora-bench-", dir=parent) as directory:
        os.chdir(directory)  # relative default paths of the backend land here too
        try:
            resolved = substitute_placeholders(options, directory)
            for index, workload in enumerate(workloads):
                share = max(0.0, deadline - time.perf_counter()) / (len(workloads) - index)
                print(
                    f"running {workload.name} x{repeat} ({share:.0f} s at most) ...",
                    file=sys.stderr,
                    flush=True,
                )
                results.append(run_workload(backend, resolved, workload, repeat, directory, share))
        finally:
            os.chdir(previous)
    return results


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="files")
    parser.add_argument(
        "--backend-options",
        type=json_object_argument,
        default={},
        metavar="JSON",
        help='driver options as a JSON object; "{tmp}" becomes the run\'s temporary directory '
        '(e.g. \'{"root_path": "{tmp}"}\')',
    )
    parser.add_argument(
        "--root",
        default=None,
        help="where to create the temporary directory (default: the system's)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--budget",
        type=_positive_seconds,
        default=DEFAULT_BUDGET_S,
        metavar="SECONDS",
        help=f"time for all workloads of the backend (default {DEFAULT_BUDGET_S:.0f}); a "
        "workload that exceeds its share is reported as not finished, with the rates reached",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every workload's event count (e.g. 0.01 for a smoke run)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    workloads = [
        Workload(w.name, w.metadata_size, w.data_size, max(1, int(w.num_events * args.scale)))
        for w in WORKLOADS
    ]
    json_path = os.path.abspath(args.json) if args.json else None
    results = run(
        args.backend, args.backend_options, workloads, args.repeat, args.budget, args.root
    )
    print(_format(results, args.backend, args.repeat))
    if json_path:
        with open(json_path, "w", encoding="utf-8") as output:
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
