"""A producer → consumer round trip, the quick start's first command.

``python -m diaspora_stream.demo [--backend files] [--root ./diaspora_data] [--events N]`` creates
a topic, pushes events whose metadata and data it can check, flushes, reads them back with a
consumer that fetches only part of each event's data, acknowledges them, and prints a summary.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import sys
import time
import uuid
from typing import Any

from .api import Driver
from .api import Exception as DiasporaException


def _payload(index: int) -> bytes:
    return hashlib.sha256(str(index).encode()).digest() * (1 + index % 8)


def run(backend: str, options: dict[str, Any], num_events: int, partitions: int) -> int:
    """Run the round trip; return a process exit code."""
    driver = Driver(backend=backend, options=options)
    topic_name = f"demo-{uuid.uuid4().hex[:8]}"
    driver.create_topic(topic_name, options={"num_partitions": partitions})
    topic = driver.open_topic(topic_name)
    print(f"created topic {topic_name!r} with {partitions} partitions on backend {backend!r}")

    start = time.perf_counter()
    with topic.producer("demo-producer", batch_size=64) as producer:
        for index in range(num_events):
            producer.push({"index": index, "sensor": f"s{index % 3}"}, _payload(index))
        producer.flush().wait()
    produced = time.perf_counter() - start
    print(f"pushed {num_events} events in {produced:.3f} s")

    def first_half(metadata: Any, descriptor: Any) -> Any:
        return descriptor.make_sub_view(offset=0, size=descriptor.size // 2)

    seen = 0
    start = time.perf_counter()
    consumer = topic.consumer("demo-consumer", data_selector=first_half)
    for event in consumer.events(timeout_ms=200):
        expected = _payload(event.metadata["index"])
        got = bytes(event.data[0])
        if got != expected[: len(expected) // 2]:
            print(f"error: event {event.metadata} has unexpected data", file=sys.stderr)
            return 1
        event.acknowledge()
        seen += 1
    consumed = time.perf_counter() - start
    print(f"pulled {seen} events (first half of each event's data) in {consumed:.3f} s")
    if seen != num_events:
        print(f"error: expected {num_events} events, got {seen}", file=sys.stderr)
        return 1
    again = topic.consumer("demo-consumer").pull().wait(timeout_ms=0)
    print(
        "a new consumer with the same name resumes after the acknowledged events:",
        "nothing left" if again is None else f"got {again}",
    )
    print("round trip OK")
    _say_what_next(backend, options, topic_name)
    driver.close()
    return 0


def _say_what_next(backend: str, options: dict[str, Any], topic_name: str) -> None:
    """Print where the events are and the commands to look at them."""
    driver_args = f"--driver {shlex.quote(backend)}"
    if "root_path" in options:
        root = os.path.abspath(options["root_path"])
        print(f"\nthe events are stored under {os.path.join(root, topic_name)}")
        driver_args += f" --driver.root_path {shlex.quote(options['root_path'])}"
    else:
        print(f"\nthe events were kept in memory by the {backend!r} backend (gone now)")
        return
    ctl = os.path.join(os.path.dirname(sys.executable), "diaspora-ctl")
    relative = os.path.relpath(ctl)
    ctl = shlex.quote(ctl if relative.startswith("..") else relative)
    print("try next:")
    print(f"  {ctl} topic info {driver_args} {topic_name}")
    print(f"  {ctl} topic list {driver_args}")
    print("  the API in a few lines: the README's 'Using the API'; more in docs/usage.md")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="files", help="backend name (default: files)")
    parser.add_argument(
        "--root",
        default="./diaspora_data",
        help="root_path of the files backend (default: ./diaspora_data)",
    )
    parser.add_argument("--events", type=int, default=10000, help="number of events")
    parser.add_argument("--partitions", type=int, default=2, help="number of partitions")
    args = parser.parse_args(argv)
    options = {"root_path": args.root} if args.backend == "files" else {}
    try:
        return run(args.backend, options, args.events, args.partitions)
    except DiasporaException as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
