"""Batch path benchmark: ``push_many`` against a ``push`` loop, ``pull_many`` against a ``pull``
loop, on one backend (files by default), 64 B events without data, one partition.

``python -m diaspora_stream.bench.batch [--events N] [--repeat R] [--chunk C] [--json PATH]``
runs each side ``--repeat`` times, alternating which side goes first, in one process, and
prints the median events/s of each side (of wall-clock time, and of the process's CPU time,
which a loaded machine disturbs less) and their ratios (batch / loop). Pushes use the default
producer settings and end with a flush; each pull side reads the same N events with a new
consumer name. Everything is written in a temporary directory removed at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from ..api import Driver, TopicHandle
from ..backend.placeholders import substitute_placeholders

__all__ = ["main", "run"]

#: Metadata whose JSON text is 64 bytes (``{"n": 1234567, "pad": "..."}``).
METADATA_SIZE = 64
WAIT_MS = 60_000


def _metadata(count: int) -> list[dict[str, Any]]:
    events = []
    for n in range(count):
        head = {"n": n, "pad": ""}
        missing = METADATA_SIZE - len(json.dumps(head, separators=(",", ":")))
        head["pad"] = "x" * max(0, missing)
        events.append(head)
    return events


def _push_loop(topic: TopicHandle, metadata: Sequence[Any], chunk: int) -> None:
    producer = topic.producer()
    push = producer.push
    for item in metadata:
        push(item)
    producer.flush().wait(WAIT_MS)
    producer.close()


def _push_batch(topic: TopicHandle, metadata: Sequence[Any], chunk: int) -> None:
    producer = topic.producer()
    for start in range(0, len(metadata), chunk):
        producer.push_many(metadata[start : start + chunk])
    producer.flush().wait(WAIT_MS)
    producer.close()


def _pull_loop(topic: TopicHandle, count: int, chunk: int) -> None:
    consumer = topic.consumer(f"loop-{uuid.uuid4().hex}")
    pull = consumer.pull
    for _ in range(count):
        if pull().wait(WAIT_MS) is None:
            raise RuntimeError("the pull loop timed out")
    consumer.close()


def _pull_batch(topic: TopicHandle, count: int, chunk: int) -> None:
    consumer = topic.consumer(f"batch-{uuid.uuid4().hex}")
    taken = 0
    while taken < count:
        events = consumer.pull_many(min(chunk, count - taken), timeout_ms=WAIT_MS)
        if not events:
            raise RuntimeError("pull_many timed out")
        taken += len(events)
    consumer.close()


def _timed(body: Callable[[], None], count: int) -> tuple[float, float]:
    """Events per second of wall-clock time and of process CPU time (every thread)."""
    start, cpu = time.perf_counter(), time.process_time()
    body()
    return count / (time.perf_counter() - start), count / (time.process_time() - cpu)


def run(
    backend: str, options: dict[str, Any], events: int, repeat: int, chunk: int
) -> dict[str, Any]:
    """Measure both comparisons; return the medians (events/s) and ratios."""
    metadata = _metadata(events)
    sides = ("push", "push_many", "pull", "pull_many")
    rates: dict[str, list[float]] = {side: [] for side in sides}
    cpu_rates: dict[str, list[float]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="diaspora-bench-batch-") as tmp:
        driver = Driver(backend=backend, options=substitute_placeholders(options, tmp))
        try:
            pushes: dict[str, Callable[..., None]] = {"push": _push_loop, "push_many": _push_batch}
            for rep in range(repeat):
                order = ["push", "push_many"] if rep % 2 == 0 else ["push_many", "push"]
                for side in order:
                    name = f"{side}-{rep}"
                    driver.create_topic(name)
                    topic = driver.open_topic(name)
                    body = pushes[side]
                    wall, cpu = _timed(lambda t=topic, b=body: b(t, metadata, chunk), events)  # type: ignore[misc]
                    rates[side].append(wall)
                    cpu_rates[side].append(cpu)
            source = driver.open_topic("push-0")
            pulls: dict[str, Callable[..., None]] = {"pull": _pull_loop, "pull_many": _pull_batch}
            for rep in range(repeat):
                order = ["pull", "pull_many"] if rep % 2 == 0 else ["pull_many", "pull"]
                for side in order:
                    body = pulls[side]
                    wall, cpu = _timed(lambda b=body: b(source, events, chunk), events)  # type: ignore[misc]
                    rates[side].append(wall)
                    cpu_rates[side].append(cpu)
        finally:
            driver.close()
    medians = {side: statistics.median(values) for side, values in rates.items()}
    cpu_medians = {side: statistics.median(values) for side, values in cpu_rates.items()}
    return {
        "backend": backend,
        "events": events,
        "repeat": repeat,
        "chunk": chunk,
        "rates": rates,
        "cpu_rates": cpu_rates,
        "median_events_per_s": medians,
        "median_events_per_cpu_s": cpu_medians,
        "push_ratio": medians["push_many"] / medians["push"],
        "pull_ratio": medians["pull_many"] / medians["pull"],
        "push_cpu_ratio": cpu_medians["push_many"] / cpu_medians["push"],
        "pull_cpu_ratio": cpu_medians["pull_many"] / cpu_medians["pull"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module's docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m diaspora_stream.bench.batch", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--backend", default="files")
    parser.add_argument(
        "--backend-options",
        default='{"root_path": "{tmp}"}',
        help='driver options as JSON; "{tmp}" is the temporary directory of the run',
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=4096, help="events per push_many/pull_many")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    result = run(
        args.backend, json.loads(args.backend_options), args.events, args.repeat, args.chunk
    )
    medians = result["median_events_per_s"]
    cpu = result["median_events_per_cpu_s"]
    print(f"{args.backend}, {args.events} events of 64 B, 1 partition, median of {args.repeat}")
    print(f"  {'':10} {'events/s':>12} {'events/CPU s':>14}")
    for side in ("push", "push_many", "pull", "pull_many"):
        print(f"  {side:10} {medians[side]:>12,.0f} {cpu[side]:>14,.0f}")
    print(
        f"  push_many / push loop: {result['push_ratio']:.2f}x "
        f"(per CPU second: {result['push_cpu_ratio']:.2f}x)"
    )
    print(
        f"  pull_many / pull loop: {result['pull_ratio']:.2f}x "
        f"(per CPU second: {result['pull_cpu_ratio']:.2f}x)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
