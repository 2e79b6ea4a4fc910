"""``Ordering.Strict`` with pipelined appends: one producer shared by several threads."""

from __future__ import annotations

import itertools
import threading

from diaspora_stream.api import Driver
from diaspora_stream.constants import Ordering
from mochi_service import RunningService

THREADS = 8
PUSHES = 1500


def test_a_producer_shared_by_threads_stores_each_threads_events_in_push_order(
    mochi_service: RunningService,
) -> None:
    """Each thread's events get increasing ids: a batch sealed later is never started first,
    even while the sealing thread waits for room among the appends in flight."""
    driver = Driver(backend="mochi", options=mochi_service.options())
    driver.create_topic("strict-threads")
    topic = driver.open_topic("strict-threads")
    producer = topic.producer(batch_size=4, ordering=Ordering.Strict)
    start = threading.Barrier(THREADS)

    def push(thread: int) -> None:
        start.wait()
        for index in range(PUSHES):
            producer.push({"t": thread, "i": index}, b"x" * 64)

    threads = [threading.Thread(target=push, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    producer.flush().wait()
    consumer = topic.consumer("strict-reader")
    seen: dict[int, list[int]] = {t: [] for t in range(THREADS)}
    for _ in range(THREADS * PUSHES):
        event = consumer.pull().wait(10_000)
        assert event is not None
        seen[event.metadata["t"]].append(event.metadata["i"])
    out_of_order = {t: sum(a > b for a, b in itertools.pairwise(i)) for t, i in seen.items()}
    assert all(len(indices) == PUSHES for indices in seen.values())
    assert out_of_order == dict.fromkeys(range(THREADS), 0)
    driver.close()
