"""Child processes of the fault tests (run as scripts): a producer and a consumer.

``producer GROUP_FILE TOPIC WRITER COUNT OUT``: pushes ``COUNT`` events (metadata
``{"writer": W, "i": i}``, data ``b"W:i"``), waits for each batch of futures and appends
``i id`` to ``OUT`` for every acknowledged event; stops at the first failure (``failed`` line).

``consumer GROUP_FILE TOPIC NAME UPTO OUT``: pulls and acknowledges events ``0..UPTO``, writes
``acked UPTO`` to ``OUT``, then waits to be killed.
"""

from __future__ import annotations

import sys
import time

from diaspora_stream.api import Driver


def producer(group_file: str, topic: str, writer: int, count: int, out: str) -> None:
    """Push and record acknowledged ids."""
    driver = Driver(backend="mochi", options={"group_file": group_file, "timeout_s": 5})
    producer = driver.open_topic(topic).producer(f"writer-{writer}", batch_size=8)
    with open(out, "a", encoding="utf-8") as log:
        for start in range(0, count, 8):
            futures = [
                (i, producer.push({"writer": writer, "i": i}, b"%d:%d" % (writer, i)))
                for i in range(start, min(start + 8, count))
            ]
            try:
                acknowledged = [(i, future.wait(10_000)) for i, future in futures]
            except Exception as error:  # noqa: BLE001 - recorded for the test
                log.write(f"failed {error}\n")
                log.flush()
                return
            for i, event_id in acknowledged:
                log.write(f"{i} {event_id}\n")
            log.flush()
    with open(out, "a", encoding="utf-8") as log:
        log.write("done\n")


def consumer(group_file: str, topic: str, name: str, upto: int, out: str) -> None:
    """Acknowledge events up to ``upto``, say so, then wait to be killed."""
    driver = Driver(backend="mochi", options={"group_file": group_file})
    consumer = driver.open_topic(topic).consumer(name)
    for _ in range(upto + 1):
        event = consumer.pull().wait(30_000)
        if event is None:
            raise SystemExit("no event within 30 s")
        event.acknowledge()
    with open(out, "a", encoding="utf-8") as log:
        log.write(f"acked {event.event_id}\n")
    time.sleep(3600)


if __name__ == "__main__":
    role, group, topic_name, arg, number, output = sys.argv[1:7]
    if role == "producer":
        producer(group, topic_name, int(arg), int(number), output)
    else:
        consumer(group, topic_name, arg, int(number), output)
