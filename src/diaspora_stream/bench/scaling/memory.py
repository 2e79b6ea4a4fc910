"""Peak resident memory of a consumer against the number of events it reads."""

from __future__ import annotations

import os
import statistics
from typing import Any

from ...api import Driver
from ..roundtrip import metadata_of_size
from .fill import TopicFiller
from .launch import run_probe
from .settings import Settings
from .throughput import DATA_SIZE, METADATA_SIZE

__all__ = ["measure_memory"]

_MIB = 2**20


def _median_mib(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) / _MIB if values else None


def measure_memory(settings: Settings) -> dict[str, Any]:
    """Grow one topic (one partition, 64 B metadata and 1 KiB data per event) through
    ``memory_sizes``; at each size, ``repeat`` fresh processes read that many events with all
    their data and report their peak resident memory."""
    rows = []
    source = None
    with settings.scratch("memory") as (options, name):
        with Driver(backend=settings.backend, options=options) as driver:
            driver.create_topic(name, options={"num_partitions": 1})
            filler = TopicFiller(
                driver, name, metadata_of_size(METADATA_SIZE), os.urandom(DATA_SIZE), settings.chunk
            )
            try:
                for size in settings.memory_sizes:
                    filler.grow_to(size, "memory topic:")
                    request: dict[str, Any] = {"kind": "read", "topic": name, "events": size}
                    request |= {"backend": settings.backend, "options": options}
                    runs = []
                    for repetition in range(settings.repeat):
                        settings.log(
                            f"memory {repetition + 1}/{settings.repeat}: a consumer reads "
                            f"{size:,} events"
                        )
                        runs.append(run_probe(request, settings.workdir))
                    source = runs[-1]["rss_source"]
                    rows.append(
                        {
                            "events": size,
                            "peak_rss_mib": _median_mib(runs, "peak_rss"),
                            "rss_before_mib": _median_mib(runs, "rss_before"),
                            "events_per_s": size / statistics.median(r["seconds"] for r in runs),
                            "peak_rss_runs_mib": [run["peak_rss"] / _MIB for run in runs],
                        }
                    )
            finally:
                filler.close()
    return {
        "partitions": 1,
        "metadata_size": METADATA_SIZE,
        "data_size": DATA_SIZE,
        "rss_source": source,
        "fill_events_per_s": filler.rate,
        "rows": rows,
    }
