"""What integrity mode costs: producing and consuming with and without checksums.

``python -m diaspora_stream_files.integrity_bench [--root DIR]`` pushes then pulls the same
events on two fresh topics, one per mode, for small and large events, alternating modes over
several rounds, and prints the median throughputs and their ratio (integrity / default). A
measurement, never an assertion: the ratio depends on the machine and the file system.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence

from diaspora_stream.api import Driver

__all__ = ["measure", "main"]

#: (data bytes per event, events per round).
WORKLOADS = ((128, 100_000), (64 * 1024, 10_000))


def _round(root: str, integrity: bool, data_size: int, count: int) -> tuple[float, float]:
    """Events per second pushed (flushed) and pulled (with their whole data)."""
    driver = Driver(backend="files", options={"root_path": root, "integrity": integrity})
    name = f"bench-{uuid.uuid4().hex[:8]}"
    driver.create_topic(name, options={"num_partitions": 1})
    topic = driver.open_topic(name)
    producer = topic.producer()
    metadata = {"payload": "x" * 48}
    data = bytes(data_size)
    start = time.perf_counter()
    for _ in range(count):
        producer.push(metadata, data)
    producer.flush().wait()
    produced = time.perf_counter() - start
    consumer = topic.consumer("bench")
    start = time.perf_counter()
    for _ in range(count):
        event = consumer.pull().wait(10_000)
        if event is None:
            raise RuntimeError(f"an event of {name!r} did not arrive within 10 s")
    consumed = time.perf_counter() - start
    return count / produced, count / consumed


def measure(root: str, rounds: int = 3) -> list[dict[str, float]]:
    """Median throughputs per workload and mode, and the ratios."""
    rows = []
    for data_size, count in WORKLOADS:
        samples: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(rounds):
            for integrity in (False, True):
                samples[integrity].append(_round(root, integrity, data_size, count))
        medians = {
            mode: [statistics.median(values) for values in zip(*runs, strict=True)]
            for mode, runs in samples.items()
        }
        rows.append(
            {
                "data_bytes": data_size,
                "events": count,
                "push_per_s": medians[False][0],
                "push_per_s_integrity": medians[True][0],
                "push_ratio": medians[True][0] / medians[False][0],
                "pull_per_s": medians[False][1],
                "pull_per_s_integrity": medians[True][1],
                "pull_ratio": medians[True][1] / medians[False][1],
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Print the table of :func:`measure`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="directory for the topics (default: a temporary one)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode (default: 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.root) as root:
        rows = measure(root, args.rounds)
    print(
        "| data bytes | push ev/s | push ev/s, integrity | ratio "
        "| pull ev/s | pull ev/s, integrity | ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['data_bytes']} | {row['push_per_s']:,.0f} | "
            f"{row['push_per_s_integrity']:,.0f} | {row['push_ratio']:.2f} | "
            f"{row['pull_per_s']:,.0f} | {row['pull_per_s_integrity']:,.0f} | "
            f"{row['pull_ratio']:.2f} |"
        )


if __name__ == "__main__":
    main()
