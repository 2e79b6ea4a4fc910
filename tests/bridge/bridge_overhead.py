"""What the ``binding`` bridge costs per call: small events pushed and pulled through the bridge
over the double of ``pydiaspora_stream_api`` (itself over ``memory``), against ``memory``
directly, in one run.

    PYTHONPATH=tests/bridge/binding_double python tests/bridge/bridge_overhead.py

Three sides run the same loops (push N events of ``--size`` bytes of metadata and data in
batches of 128 then flush; pull them back with a consumer that owns the data), alternating,
``--repeat`` times; medians of events/s are kept:

* ``direct``: this package's API on ``memory``;
* ``double``: the double's API (the binding's conventions) on ``memory``;
* ``bridged``: this package's API on ``binding`` over the double over ``memory``.

``bridged / direct`` is the cost of reaching ``memory`` through the bridge and the double;
``bridged / double`` is the bridge's own cost in front of a binding (the double re-enters this
package's public layer at every call, which a compiled binding does not).

The pull loop only checks that an event came. The bridge reads an event's ``metadata``,
``data`` and ``partition`` from the foreign event when they are first asked for, so
``--read-fields`` (every side reads ``metadata`` and ``data`` of each pulled event) measures
what a consumer that uses its events pays. ``--cpu-time`` times with this process's CPU time
instead of the wall clock: on a machine shared with other work, it leaves out the time the
others take.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pydiaspora_stream_api as binding

from diaspora_stream.api import Driver

BRIDGED = {"module": "pydiaspora_stream_api", "backend": "memory"}
BATCH = 128
Clock = Callable[[], float]


def _rates(
    producer: Any,
    consumer: Callable[[], Any],
    wait: Callable[[Any], Any],
    events: int,
    size: int,
    read: bool,
    clock: Clock,
) -> tuple[float, float]:
    metadata = {"k": "x" * max(0, size - 8)}
    data = b"d" * size
    push = producer.push
    start = clock()
    for _ in range(events):
        push(metadata, data)
    assert wait(producer.flush()) is True
    pushed = clock() - start
    pull = consumer().pull
    start = clock()
    if read:
        for _ in range(events):
            event = wait(pull())
            assert event.metadata is not None and event.data is not None
    else:
        for _ in range(events):
            assert wait(pull()) is not None
    pulled = clock() - start
    return events / pushed, events / pulled


def ours(
    backend: str,
    options: dict[str, Any],
    events: int,
    size: int,
    read: bool = False,
    clock: Clock = time.perf_counter,
) -> tuple[float, float]:
    """Events/s of push and pull through this package's API."""
    driver = Driver(backend=backend, options=options)
    try:
        driver.create_topic("overhead")
        topic = driver.open_topic("overhead")
        producer = topic.producer(batch_size=BATCH)
        rates = _rates(
            producer,
            lambda: topic.consumer("c"),
            lambda f: f.wait(10_000),
            events,
            size,
            read,
            clock,
        )
        producer.close()
        return rates
    finally:
        driver.close()


def double(
    events: int, size: int, read: bool = False, clock: Clock = time.perf_counter
) -> tuple[float, float]:
    """Events/s of push and pull through the double's API (the binding's conventions)."""
    driver = binding.Driver(backend="memory", options={})
    driver.create_topic("overhead")
    topic = driver.open_topic("overhead")
    producer = topic.producer(batch_size=BATCH)
    return _rates(
        producer,
        lambda: topic.consumer("c"),
        lambda f: f.wait(timeout_ms=10_000),
        events,
        size,
        read,
        clock,
    )


def measure(
    events: int, size: int, repeat: int, read: bool = False, clock: Clock = time.perf_counter
) -> dict[str, Any]:
    """Medians of each side and their ratios."""
    runs: dict[str, list[tuple[float, float]]] = {"direct": [], "double": [], "bridged": []}
    for _ in range(repeat):
        runs["direct"].append(ours("memory", {}, events, size, read, clock))
        runs["double"].append(double(events, size, read, clock))
        runs["bridged"].append(ours("binding", BRIDGED, events, size, read, clock))
    result: dict[str, Any] = {
        "events": events,
        "event_size": size,
        "repeat": repeat,
        "read_fields": read,
        "clock": "cpu" if clock is time.process_time else "wall",
    }
    for index, side in enumerate(("push", "pull")):
        median = {
            name: statistics.median(run[index] for run in values) for name, values in runs.items()
        }
        result[side] = {
            **{f"{name}_events_per_s": round(rate) for name, rate in median.items()},
            "bridged_vs_direct": round(median["bridged"] / median["direct"], 3),
            "bridged_vs_double": round(median["bridged"] / median["double"], 3),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per run")
    parser.add_argument("--size", type=int, default=64, help="metadata and data bytes per event")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side (median kept)")
    parser.add_argument(
        "--read-fields", action="store_true", help="read metadata and data of pulled events"
    )
    parser.add_argument("--cpu-time", action="store_true", help="time with this process's CPU time")
    args = parser.parse_args(argv)
    clock = time.process_time if args.cpu_time else time.perf_counter
    print(
        json.dumps(measure(args.events, args.size, args.repeat, args.read_fields, clock), indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
