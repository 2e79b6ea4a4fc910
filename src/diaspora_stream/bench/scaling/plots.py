"""PNG plots of the scaling benchmark (matplotlib, imported only here and only if installed).

``python -m diaspora_stream.bench.scaling.plots scaling.json --output DIR`` draws them again
from the JSON of a run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..plots import redraw_command

__all__ = ["PLOTS", "draw_plots", "main"]

#: The files :func:`draw_plots` writes, by section of the results.
PLOTS = {
    "throughput": "scaling_throughput.png",
    "latency": "scaling_latency.png",
    "memory": "scaling_memory.png",
}


def _throughput(plt: Any, section: dict[str, Any], title: str) -> Any:
    rows = section["rows"]
    megabytes_per_event = (section["metadata_size"] + section["data_size"]) / 2**20
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    sweeps = (
        ("partitions", "processes", "partitions (1 producer process)"),
        ("processes", "partitions", "producer processes (1 partition)"),
    )
    for axis, (key, fixed, label) in zip(axes, sweeps, strict=True):
        points = sorted((row[key], row) for row in rows if row[fixed] == 1)
        if not points:
            axis.set_visible(False)
            continue
        xs = [x for x, _ in points]
        axis.plot(xs, [row["events_per_s"] for _, row in points], marker="o")
        for x, row in points:
            low, high = min(row["runs_s"]), max(row["runs_s"])
            axis.vlines(x, section["events"] / high, section["events"] / low, color="grey")
        axis.set_xscale("log", base=2)
        axis.set_xticks(xs)
        axis.set_xticklabels([str(x) for x in xs])
        axis.set_xlabel(label)
        axis.set_ylabel("events/s")
        axis.yaxis.set_major_formatter("{x:,.0f}")
        axis.set_ylim(0, max(section["events"] / min(row["runs_s"]) for _, row in points) * 1.1)
        secondary = axis.secondary_yaxis(
            "right",
            functions=(lambda v: v * megabytes_per_event, lambda v: v / megabytes_per_event),
        )
        secondary.set_ylabel("MB/s")
    figure.suptitle(f"{title}: producer throughput (median, runs' range in grey)")
    return figure


def _curves(
    axis: Any,
    rows: list[dict[str, Any]],
    curves: Sequence[tuple[str, str, str]],
    xlabel: str,
    ylabel: str,
    title: str,
) -> None:
    """One line per curve ``(key, key of the runs or "", label)`` against the rows' events."""
    xs = [row["events"] for row in rows]
    top = 0.0
    for key, runs_key, label in curves:
        if any(row.get(key) is None for row in rows):
            continue  # not measured on this platform
        values = [float(row[key]) for row in rows]
        axis.plot(xs, values, marker="o", label=label)
        top = max(top, *values)
        for x, row in zip(xs, rows, strict=True):
            runs = row.get(runs_key) or []
            if runs:
                axis.vlines(x, min(runs), max(runs), color="grey")
                top = max(top, *runs)
    axis.set_xscale("log")
    axis.set_xticks(xs)
    axis.set_xticklabels([_tick(x) for x in xs])
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_ylim(0, top * 1.25)  # room for the legend above the curves
    axis.legend(loc="upper left", fontsize="small")
    axis.set_title(title)


def _tick(value: int) -> str:
    """``10^4`` for 10000 (as math text), ``20,000`` for 20000."""
    text = str(value)
    if len(text) > 1 and text[0] == "1" and set(text[1:]) == {"0"}:
        return f"$10^{{{len(text) - 1}}}$"
    return f"{value:,}"


def draw_plots(
    document: dict[str, Any], directory: str, log: Callable[[str], None] = print
) -> list[str]:
    """Draw the plots of every section of ``document`` in ``directory``; return the names
    written (none if matplotlib is not installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plots")
        return []
    title = f"{document['backend']} backend"
    figures = {}
    if document.get("throughput", {}).get("rows"):
        figures["throughput"] = _throughput(plt, document["throughput"], title)
    if document.get("latency", {}).get("rows"):
        rows = document["latency"]["rows"]
        figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
        _curves(
            left,
            rows,
            [
                ("open_ms", "open_runs_ms", "open + first event of a new consumer"),
                ("resume_ms", "resume_runs_ms", "resume a consumer + next event"),
                ("open_driver_ms", "", "of the first: Driver() (imports the backend)"),
            ],
            "events in the topic",
            "ms, wall clock (median)",
            "all the steps",
        )
        _curves(
            right,
            rows,
            [
                ("open_topic_cpu_ms", "", "open_topic + consumer + first event"),
                ("resume_topic_cpu_ms", "", "open_topic + named consumer + next event"),
            ],
            "events in the topic",
            "ms of CPU time (median)",
            "the steps after Driver()",
        )
        figure.suptitle(f"{title}: open and resume latency in a fresh process")
        figures["latency"] = figure
    if document.get("memory", {}).get("rows"):
        figure, axis = plt.subplots(figsize=(7, 4.5))
        _curves(
            axis,
            document["memory"]["rows"],
            [
                ("peak_rss_mib", "peak_rss_runs_mib", "peak RSS"),
                ("rss_before_mib", "", "RSS before reading"),
            ],
            "events read (1 KiB of data each)",
            "MiB (fresh process, median)",
            f"{title}: peak memory of a consumer",
        )
        figures["memory"] = figure
    written = []
    for section, figure in figures.items():
        figure.tight_layout()
        figure.savefig(os.path.join(directory, PLOTS[section]), dpi=100)
        plt.close(figure)
        written.append(PLOTS[section])
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: draw the plots of a scaling JSON file."""
    return redraw_command(
        argv,
        draw_plots,
        prog="python -m diaspora_stream.bench.scaling.plots",
        description="Draw the scaling benchmark's plots again from its JSON file.",
        results_help="JSON file written by --json",
    )


if __name__ == "__main__":
    sys.exit(main())
