"""Producer throughput against the number of partitions and of producer processes."""

from __future__ import annotations

import statistics
from typing import Any

from ...api import Driver
from .launch import run_producers
from .probe import PRODUCER_BATCH_SIZE
from .settings import Settings

__all__ = ["DATA_SIZE", "METADATA_SIZE", "measure_throughput", "shares"]

METADATA_SIZE = 64
DATA_SIZE = 1024


def shares(events: int, processes: int) -> list[int]:
    """``events`` split between ``processes`` as evenly as possible (the first get more)."""
    base, extra = divmod(events, processes)
    return [base + (1 if index < extra else 0) for index in range(processes)]


def _cases(settings: Settings, multi_process: bool) -> list[tuple[int, int]]:
    """``(partitions, processes)`` of every run: the partition sweep with one process, then the
    process sweep on one partition (the case both share once)."""
    cases = [(partitions, 1) for partitions in settings.partitions]
    if multi_process:
        cases += [(1, count) for count in settings.processes if (1, count) not in cases]
    elif 1 in settings.processes and (1, 1) not in cases:
        cases.append((1, 1))
    return cases


def _run(settings: Settings, partitions: int, processes: int) -> tuple[float, float]:
    """Seconds for ``processes`` processes to push ``settings.events`` events in all into a
    new topic of ``partitions`` partitions, and the CPU seconds of the processes together."""
    with settings.scratch("throughput") as (options, topic):
        with Driver(backend=settings.backend, options=options) as driver:
            driver.create_topic(topic, options={"num_partitions": partitions})
        request = {
            "backend": settings.backend,
            "options": options,
            "topic": topic,
            "metadata_size": METADATA_SIZE,
            "data_size": DATA_SIZE,
        }
        seconds, results = run_producers(
            request, shares(settings.events, processes), settings.workdir
        )
        return seconds, sum(result["cpu_s"] for result in results)


def measure_throughput(settings: Settings, multi_process: bool) -> dict[str, Any]:
    """Every case ``settings.repeat`` times (the repetitions interleaved, so that a slow
    moment of the machine does not fall on one case only); the medians.

    ``multi_process``: whether the backend takes producers of several processes on one
    partition (else the process sweep is skipped).
    """
    cases = _cases(settings, multi_process)
    seconds: dict[tuple[int, int], list[float]] = {case: [] for case in cases}
    cpu: dict[tuple[int, int], list[float]] = {case: [] for case in cases}
    for repetition in range(settings.repeat):
        for partitions, processes in cases:
            settings.log(
                f"throughput {repetition + 1}/{settings.repeat}: {partitions} partition(s), "
                f"{processes} producer process(es), {settings.events:,} events"
            )
            wall, cpu_s = _run(settings, partitions, processes)
            seconds[(partitions, processes)].append(wall)
            cpu[(partitions, processes)].append(cpu_s)
    megabytes = settings.events * (METADATA_SIZE + DATA_SIZE) / 2**20
    rows = []
    for (partitions, processes), runs in seconds.items():
        median = statistics.median(runs)
        rows.append(
            {
                "partitions": partitions,
                "processes": processes,
                "seconds": median,
                "events_per_s": settings.events / median,
                "mb_per_s": megabytes / median,
                # Less disturbed by other work on the machine than the wall-clock rate.
                "events_per_cpu_s": settings.events / statistics.median(cpu[partitions, processes]),
                "runs_s": runs,
                "runs_cpu_s": cpu[partitions, processes],
            }
        )
    result: dict[str, Any] = {
        "events": settings.events,
        "metadata_size": METADATA_SIZE,
        "data_size": DATA_SIZE,
        "batch_size": PRODUCER_BATCH_SIZE,
        "rows": rows,
    }
    if not multi_process and any(count > 1 for count in settings.processes):
        result["skipped"] = (
            "the backend does not take producers of several processes on one partition"
        )
    return result
