"""Measuring what handles dropped without ``close()`` leave behind (file descriptors, threads).

The README's examples never call ``close()``: a driver, a topic handle, a producer or a
consumer that is dropped must release what it holds. :func:`measure_dropped_cycles` runs the
example's cycle many times, dropping every object, and reports the open file descriptors and
live threads before and after, so a backend's tests can assert that nothing accumulates.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from diaspora_stream.api import Driver

__all__ = [
    "ResourceCount",
    "assert_dropped_handles_release",
    "count_resources",
    "measure_dropped_cycles",
    "settled_resources",
]

_FD_DIRECTORY = "/proc/self/fd"
_TASK_DIRECTORY = "/proc/self/task"


@dataclass(frozen=True)
class ResourceCount:
    """Open file descriptors, live Python threads and operating system threads (native ones
    of C libraries included); ``-1`` where the system does not list them."""

    fds: int
    threads: int
    os_threads: int

    def within(self, ceiling: ResourceCount) -> bool:
        """Whether no count is above ``ceiling``'s."""
        return (
            self.fds <= ceiling.fds
            and self.threads <= ceiling.threads
            and self.os_threads <= ceiling.os_threads
        )


def count_resources() -> ResourceCount:
    """The process's open file descriptors and live threads, now."""
    return ResourceCount(
        _entries(_FD_DIRECTORY), threading.active_count(), _entries(_TASK_DIRECTORY)
    )


def _entries(directory: str) -> int:
    try:
        return len(os.listdir(directory))
    except OSError:
        return -1


def settled_resources(ceiling: ResourceCount, wait_s: float = 10.0) -> ResourceCount:
    """The resources once collected garbage is gone and exiting threads have ended.

    Returns as soon as the counts are at most ``ceiling``, else the last count after
    ``wait_s`` seconds (threads of a backend's clients may take a moment to stop).
    """
    deadline = time.monotonic() + wait_s
    while True:
        gc.collect()
        now = count_resources()
        if now.within(ceiling) or time.monotonic() >= deadline:
            return now
        time.sleep(0.05)


def measure_dropped_cycles(
    make_driver: Callable[[], Driver],
    cycles: int,
    *,
    num_partitions: int = 2,
    producers: bool = True,
) -> tuple[ResourceCount, ResourceCount]:
    """Run ``cycles`` times Driver -> open_topic -> consumer -> pull -> acknowledge, then
    ``cycles`` times Driver -> open_topic -> producer -> push -> flush, then ``cycles`` times
    Driver -> open_topic, dropping every object without ``close()`` (``producers=False``: no
    producer cycles).

    One topic (with one event per partition) is created first, and one cycle runs before the
    first count so that what a backend keeps once per process is not counted. Returns the
    counts ``(before, after)``; ``after`` is taken without forcing a garbage collection, so
    objects kept alive only by reference cycles count as leaked.
    """
    topic_name = f"dropped-{uuid.uuid4().hex[:12]}"
    driver = make_driver()
    driver.create_topic(topic_name, options={"num_partitions": num_partitions})
    producer = driver.open_topic(topic_name).producer()
    for partition in range(num_partitions):
        producer.push({"partition": partition}, b"payload")
    producer.flush().wait()
    del producer, driver

    def consume(cycle: int) -> None:
        topic = make_driver().open_topic(topic_name)
        event: Any = topic.consumer(f"dropped-{cycle}").pull().wait(30_000)
        if event is None:
            raise AssertionError(f"cycle {cycle}: no event pulled from {topic_name!r}")
        event.acknowledge()

    consume(-1)
    before = settled_resources(ResourceCount(0, 0, 0), wait_s=0)
    for cycle in range(cycles):
        consume(cycle)
    for cycle in range(cycles if producers else 0):
        producer = make_driver().open_topic(topic_name).producer()
        producer.push({"cycle": cycle}, b"payload")
        producer.flush().wait()
        del producer
    for _ in range(cycles):
        make_driver().open_topic(topic_name)
    return before, count_resources()


def assert_dropped_handles_release(
    make_driver: Callable[[], Driver], cycles: int, *, slack: int = 2, wait_s: float = 10.0
) -> None:
    """Fail unless :func:`measure_dropped_cycles` ends, once garbage is collected, with at
    most ``slack`` more file descriptors and threads than it started with."""
    before, after = measure_dropped_cycles(make_driver, cycles)
    ceiling = ResourceCount(before.fds + slack, before.threads + slack, before.os_threads + slack)
    settled = settled_resources(ceiling, wait_s)
    assert settled.within(ceiling), (
        f"{cycles} cycles of each kind with handles dropped without close(): {before} before, "
        f"{after} right after, {settled} after collecting garbage and waiting {wait_s:g} s"
    )
