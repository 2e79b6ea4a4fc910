"""Child processes of the fault campaigns, on any backend, through the public API only.

Run as ``python api_workers.py MODE BACKEND OPTIONS_JSON TOPIC ...``; every line is printed
(and flushed) only once what it states is true, so a parent that kills the child with SIGKILL at
any instant knows a lower bound of what was stored or acknowledged.

* ``producer ... WRITER COUNT SEED``: prints ``ready``, then pushes events ``0..COUNT-1`` of
  writer ``WRITER`` (content from :func:`event_content`), flushing after random runs of pushes;
  after each flush returns, prints ``flushed N`` (events ``0..N-1`` are stored); ends with
  ``done``.
* ``consumer ... NAME``: prints ``ready``, then pulls events of partition 0 and acknowledges
  each; prints ``acking ID`` before and ``acked ID`` after each acknowledgement, and ``bad ...``
  for an event whose content or id is not what the topic holds; ``idle`` when nothing came for
  a while (it keeps waiting, to be killed).
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

from diaspora_stream.api import Driver

#: How long the consumer child waits for one event before it says ``idle`` (ms).
IDLE_MS = 2000


def event_content(writer: int, i: int) -> tuple[dict[str, Any], bytes]:
    """Metadata and data of event ``i`` of ``writer`` (sizes vary, some data is empty)."""
    metadata = {"w": writer, "i": i, "pad": "." * ((writer * 31 + i) % 17)}
    length = 0 if i % 7 == 3 else (i * 7919 + writer * 104729) % 2048
    data = ((writer * 1_000_003 + i).to_bytes(8, "little") * (length // 8 + 1))[:length]
    return metadata, data


def _say(line: str) -> None:
    print(line, flush=True)


def producer(driver: Driver, topic: str, writer: int, count: int, seed: int) -> None:
    """Run the producer child (see the module docstring)."""
    rng = random.Random(seed)
    producer = driver.open_topic(topic).producer(
        f"writer-{writer}", batch_size=rng.choice([1, 8, 64])
    )
    _say("ready")
    pushed = 0
    while pushed < count:
        run = min(count - pushed, rng.randint(1, 60))
        for i in range(pushed, pushed + run):
            metadata, data = event_content(writer, i)
            producer.push(metadata, data)
        pushed += run
        producer.flush().wait()
        _say(f"flushed {pushed}")
    _say("done")


def consumer(driver: Driver, topic: str, name: str) -> None:
    """Run the consumer child (see the module docstring)."""
    consumer = driver.open_topic(topic).consumer(name, targets=[0])
    _say("ready")
    previous: int | None = None
    while True:
        event = consumer.pull().wait(IDLE_MS)
        if event is None:
            _say("idle")
            continue
        expected = event_content(event.metadata.get("w", -1), event.metadata.get("i", -1))
        data = b"".join(bytes(view) for view in event.data)
        if (event.metadata, data) != expected:
            _say(f"bad content {event.event_id}")
        if previous is not None and event.event_id != previous + 1:
            _say(f"bad order {previous} then {event.event_id}")
        previous = event.event_id
        _say(f"acking {event.event_id}")
        event.acknowledge()
        _say(f"acked {event.event_id}")


def main() -> None:
    """Dispatch on the mode given as first argument."""
    mode, backend, options, topic, *rest = sys.argv[1:]
    driver = Driver(backend=backend, options=json.loads(options))
    if mode == "producer":
        writer, count, seed = map(int, rest)
        producer(driver, topic, writer, count, seed)
    elif mode == "consumer":
        consumer(driver, topic, rest[0])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
