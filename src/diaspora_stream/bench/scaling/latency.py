"""Open-to-first-event and resume-to-next-event latencies against the events in a topic."""

from __future__ import annotations

import statistics
import uuid
from typing import Any

from ...api import Driver, TopicHandle
from .fill import TopicFiller
from .launch import run_probe
from .settings import Settings

__all__ = ["TINY_METADATA", "acknowledge_middle", "measure_latency"]

#: Metadata of the events of the latency topic (no data): a topic of 10^7 events stays small.
TINY_METADATA = {"n": 0}
WAIT_MS = 60_000
#: The steps a ``first_event`` probe times: the driver, ``open_topic``, the consumer, the pull.
_PARTS = ("driver_s", "open_s", "consumer_s", "pull_s")


def acknowledge_middle(topic: TopicHandle, consumer_name: str, size: int, replay: bool) -> int:
    """Make ``consumer_name`` acknowledge an event of a one-partition topic of ``size`` events;
    return its id. With the ``replay`` capability it is the middle event, reached by
    starting there; without, the last of the first 1,000 events, read from the beginning."""
    if replay:
        consumer = topic.consumer(consumer_name, start={0: (size - 1) // 2}, data_allocator=None)
        events = [consumer.pull().wait(WAIT_MS)]
    else:
        consumer = topic.consumer(consumer_name, data_allocator=None)
        events = consumer.pull_many(min(1000, size - 1), timeout_ms=WAIT_MS)
    last = events[-1] if events else None
    if last is None or last.event_id is None:
        raise RuntimeError(f"the topic of {size} events gave no event to acknowledge")
    last.acknowledge()
    consumer.close()
    return last.event_id


def _median_ms(runs: list[dict[str, Any]], key: str = "seconds") -> float:
    return statistics.median(run[key] for run in runs) * 1000


def _after_driver_ms(runs: list[dict[str, Any]]) -> float:
    """Median milliseconds of the steps that touch the topic (all but ``Driver()``)."""
    return statistics.median(run["seconds"] - run["driver_s"] for run in runs) * 1000


def _row(
    size: int, position: int, opens: list[dict[str, Any]], resumes: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "events": size,
        "open_ms": _median_ms(opens),
        "resume_ms": _median_ms(resumes),
        "resumed_after": position,
        "open_driver_ms": _median_ms(opens, "driver_s"),
        "open_topic_ms": _after_driver_ms(opens),
        "resume_topic_ms": _after_driver_ms(resumes),
        "open_cpu_ms": _median_ms(opens, "cpu_s"),
        "resume_cpu_ms": _median_ms(resumes, "cpu_s"),
        "open_topic_cpu_ms": _median_ms(opens, "topic_cpu_s"),
        "resume_topic_cpu_ms": _median_ms(resumes, "topic_cpu_s"),
        "open_parts_ms": {part: _median_ms(opens, part) for part in _PARTS},
        "resume_parts_ms": {part: _median_ms(resumes, part) for part in _PARTS},
        "open_process_ms": _median_ms(opens, "process_s"),
        "resume_process_ms": _median_ms(resumes, "process_s"),
        "open_runs_ms": [run["seconds"] * 1000 for run in opens],
        "resume_runs_ms": [run["seconds"] * 1000 for run in resumes],
    }


def measure_latency(settings: Settings, replay: bool) -> dict[str, Any]:
    """Grow one topic (one partition, tiny metadata, no data) through ``latency_sizes``; at
    each size, time ``repeat`` fresh processes that open it and get the first event of a new
    consumer, and ``repeat`` that resume a consumer name that acknowledged the middle event
    and get the next one."""
    rows = []
    with settings.scratch("latency") as (options, name):
        with Driver(backend=settings.backend, options=options) as driver:
            driver.create_topic(name, options={"num_partitions": 1})
            filler = TopicFiller(driver, name, TINY_METADATA, None, settings.chunk)
            try:
                for size in settings.latency_sizes:
                    filler.grow_to(size, "latency topic:")
                    if filler.rate is not None and size == settings.latency_sizes[0]:
                        largest = max(settings.latency_sizes)
                        settings.log(
                            f"fill rate {filler.rate:,.0f} events/s: {largest:,} events take "
                            f"about {largest / filler.rate:,.0f} s"
                        )
                    resume_name = f"resume-{size}"
                    position = acknowledge_middle(filler.topic, resume_name, size, replay)
                    request: dict[str, Any] = {"kind": "first_event", "topic": name}
                    request |= {"backend": settings.backend, "options": options}
                    opens: list[dict[str, Any]] = []
                    resumes: list[dict[str, Any]] = []
                    for repetition in range(settings.repeat):
                        settings.log(
                            f"latency {repetition + 1}/{settings.repeat}: {size:,} events in "
                            "the topic"
                        )
                        fresh = {"consumer": f"open-{uuid.uuid4().hex}", "expect": 0}
                        resume = {"consumer": resume_name, "expect": position + 1}
                        for kind in ["open", "resume"] if repetition % 2 else ["resume", "open"]:
                            if kind == "open":
                                opens.append(run_probe(request | fresh, settings.workdir))
                            else:
                                resumes.append(run_probe(request | resume, settings.workdir))
                    rows.append(_row(size, position, opens, resumes))
            finally:
                filler.close()
    return {
        "partitions": 1,
        "metadata": TINY_METADATA,
        "fill_events_per_s": filler.rate,
        "rows": rows,
    }
