"""What the ``binding`` bridge costs per call: small events pushed and pulled through the bridge
over the double of ``pydiaspora_stream_api`` (itself over ``memory``), against ``memory``
directly, in one run.

    PYTHONPATH=tests/bridge/binding_double python tests/bridge/bridge_overhead.py

Each side runs the producer then the consumer benchmark workload (``diaspora_stream.bench``)
``--repeat`` times, alternating direct and bridged runs; the figure is the ratio of the medians
of events/s (bridged ÷ direct; 1 means free). The bridged path also pays for the double, which
converts every object as the C++ binding would, so the ratio bounds the bridge's own cost from
below.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

from diaspora_stream.api import Driver
from diaspora_stream.bench.consumer import ConsumerSettings, run_consumer
from diaspora_stream.bench.producer import ProducerSettings, run_producer

BRIDGED = {"module": "pydiaspora_stream_api", "backend": "memory"}


def one_run(backend: str, options: dict[str, Any], events: int, size: int) -> tuple[float, float]:
    """Events/s of the producer, then of the consumer, on a new driver and topic."""
    driver = Driver(backend=backend, options=options)
    try:
        driver.create_topic("overhead")
        produced = run_producer(
            driver,
            ProducerSettings(
                topic="overhead",
                num_events=events,
                data_size=size,
                metadata_size=size,
                batch_size=128,
                num_threads=0,
                flush_interval=events,
            ),
        )
        consumed = run_consumer(
            driver, ConsumerSettings(topic="overhead", num_events=events, num_threads=0)
        )
        return produced.events_per_s, consumed.events_per_s
    finally:
        driver.close()


def measure(events: int, size: int, repeat: int) -> dict[str, Any]:
    """Medians of each side and their ratios."""
    runs: dict[str, list[tuple[float, float]]] = {"direct": [], "bridged": []}
    for _ in range(repeat):
        runs["direct"].append(one_run("memory", {}, events, size))
        runs["bridged"].append(one_run("binding", BRIDGED, events, size))
    result: dict[str, Any] = {"events": events, "event_size": size, "repeat": repeat}
    for index, side in enumerate(("push", "pull")):
        direct = statistics.median(run[index] for run in runs["direct"])
        bridged = statistics.median(run[index] for run in runs["bridged"])
        result[side] = {
            "direct_events_per_s": round(direct),
            "bridged_events_per_s": round(bridged),
            "ratio": round(bridged / direct, 3),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per run")
    parser.add_argument("--size", type=int, default=64, help="metadata and data bytes per event")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side (median kept)")
    args = parser.parse_args(argv)
    result = measure(args.events, args.size, args.repeat)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
