"""What the scaling benchmark measures in fresh processes (one measurement per process).

``python -m diaspora_stream.bench.scaling.probe REQUEST`` takes a JSON object (``kind``,
``backend``, ``options``, ``topic`` and the kind's fields), measures, and prints its result as
one JSON object on the last line of stdout:

* ``produce``: opens a producer (batch size 128), prints ``{"ready": true}``, waits for a line
  on stdin (so that several producer processes start together), pushes ``events`` events of
  ``metadata_size`` + ``data_size`` bytes, flushes: ``{"events", "seconds", "cpu_s"}``.
* ``first_event``: opens the driver and the topic, creates consumer ``consumer`` (where its
  name acknowledged, or at the beginning) and waits for its first event, which must have id
  ``expect``: ``{"seconds", "driver_s", "open_s", "consumer_s", "pull_s", "cpu_s",
  "topic_cpu_s", "event_id"}`` (the driver, then ``open_topic``, the consumer, the first event;
  ``seconds``: all four; ``cpu_s``: the process's CPU time for all four, ``topic_cpu_s`` for
  the last three).
* ``read``: a consumer with a new name reads ``events`` events with all their data, keeping
  none and acknowledging each: ``{"events", "bytes", "seconds", "peak_rss", "rss_before",
  "rss_source"}`` (bytes of memory; ``rss_before``: after opening, before reading).

Imports happen before any timing starts: the figures are those of the calls, in a process
with no cache of its own yet.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from ...api import Driver
from ..roundtrip import metadata_of_size
from .rss import current_rss, peak_rss, peak_rss_source

__all__ = ["PRODUCER_BATCH_SIZE", "main", "probe"]

#: Batch size of the producers whose throughput is measured.
PRODUCER_BATCH_SIZE = 128
#: Milliseconds a consumer waits for an event before the probe fails.
WAIT_MS = 60_000


def _emit(document: dict[str, Any]) -> None:
    print(json.dumps(document), flush=True)


def _produce(request: dict[str, Any]) -> dict[str, Any]:
    events = int(request["events"])
    metadata = metadata_of_size(int(request["metadata_size"]))
    data = os.urandom(int(request["data_size"]))
    with Driver(backend=request["backend"], options=request["options"]) as driver:
        topic = driver.open_topic(request["topic"])
        producer = topic.producer(batch_size=PRODUCER_BATCH_SIZE)
        push = producer.push
        _emit({"ready": True})
        sys.stdin.readline()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(events):
            push(metadata, data)
        producer.flush().wait(-1)
        seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        producer.close()
    return {"events": events, "seconds": seconds, "cpu_s": cpu_s}


def _first_event(request: dict[str, Any]) -> dict[str, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    with Driver(backend=request["backend"], options=request["options"]) as driver:
        created_driver, driver_cpu = time.perf_counter(), time.process_time()
        topic = driver.open_topic(request["topic"])
        opened = time.perf_counter()
        consumer = topic.consumer(request["consumer"], data_allocator=None)
        created = time.perf_counter()
        event = consumer.pull().wait(WAIT_MS)
        pulled, pulled_cpu = time.perf_counter(), time.process_time()
        if event is None:
            raise RuntimeError(f"no event in {WAIT_MS} ms")
        if event.event_id != request["expect"]:
            raise RuntimeError(f"the first event has id {event.event_id}, not {request['expect']}")
        consumer.close()
    return {
        "seconds": pulled - start,
        "driver_s": created_driver - start,
        "open_s": opened - created_driver,
        "consumer_s": created - opened,
        "pull_s": pulled - created,
        "cpu_s": pulled_cpu - cpu,
        "topic_cpu_s": pulled_cpu - driver_cpu,
        "event_id": event.event_id,
    }


def _read(request: dict[str, Any]) -> dict[str, Any]:
    events = int(request["events"])
    with Driver(backend=request["backend"], options=request["options"]) as driver:
        topic = driver.open_topic(request["topic"])
        consumer = topic.consumer(f"read-{uuid.uuid4().hex}")
        before = current_rss()
        pull = consumer.pull
        received = 0
        start = time.perf_counter()
        for count in range(events):
            event = pull().wait(WAIT_MS)
            if event is None:
                raise RuntimeError(f"the topic has only {count} events, not {events}")
            received += sum(len(view) for view in event.data)
            event.acknowledge()
        seconds = time.perf_counter() - start
        consumer.close()
    return {
        "events": events,
        "bytes": received,
        "seconds": seconds,
        "peak_rss": peak_rss(),
        "rss_before": before,
        "rss_source": peak_rss_source(),
    }


_KINDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "produce": _produce,
    "first_event": _first_event,
    "read": _read,
}


def probe(request: dict[str, Any]) -> dict[str, Any]:
    """Run the measurement ``request["kind"]`` in this process and return its result."""
    try:
        kind = _KINDS[request["kind"]]
    except KeyError:
        raise ValueError(f"unknown probe kind {request.get('kind')!r}") from None
    return kind(request)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: one request (JSON) in the arguments, its result on stdout."""
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m diaspora_stream.bench.scaling.probe REQUEST_JSON", file=sys.stderr)
        return 2
    _emit(probe(json.loads(arguments[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
