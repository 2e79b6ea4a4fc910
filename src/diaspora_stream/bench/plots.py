"""PNG plots of the benchmark matrix (matplotlib, imported only here).

``python -m diaspora_stream.bench.plots bench-results/results.json --output DIR`` draws them
again from the results of a run (``nox -s bench`` draws them after the run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .matrix import human_size

__all__ = ["draw_plots", "main", "redraw_command"]

_METRICS = (
    ("events_per_s", "events/s", "events_per_s.png"),
    ("mb_per_s", "MB/s", "mb_per_s.png"),
    ("ratio_file", "x the raw file baseline", "ratio_to_file.png"),
)


def _series(rows: list[dict[str, Any]], side: str) -> dict[str, dict[int, dict[str, Any]]]:
    """``{"backend, metadata": {data size: value}}`` for the largest batch, one partition and
    selectivity 1 (the plots keep the table's other dimensions fixed)."""
    batch = max(row["batch_size"] for row in rows)
    series: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        if (
            row["side"] == side
            and row["batch_size"] == batch
            and row["partitions"] == 1
            and row["selectivity"] == 1.0
        ):
            label = f"{row['backend']}, metadata {row['metadata_size']} B"
            series.setdefault(label, {})[row["data_size"]] = row
    return series


def _order(item: tuple[str, dict[int, dict[str, Any]]]) -> tuple[str, int]:
    row = next(iter(item[1].values()))
    return row["backend"], row["metadata_size"]


def draw_plots(
    document: dict[str, Any], directory: str, log: Callable[[str], None] = print
) -> list[str]:
    """Draw ``events_per_s.png``, ``mb_per_s.png`` and ``ratio_to_file.png`` (MB/s over the
    raw file write or read baseline of the same run) in ``directory``; return their names
    (none if matplotlib is not installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plots")
        return []
    rows = document["results"]
    if not rows:
        return []
    baselines = {b["event_size"]: b for b in document["baselines"]}
    written = []
    for key, unit, name in _METRICS:
        figure, axes = plt.subplots(1, 2, figsize=(13, 5))
        for axis, side in zip(axes, ("producer", "consumer"), strict=True):
            series = _series(rows, side)
            sizes = sorted({size for values in series.values() for size in values})
            width = 0.8 / max(1, len(series) + (key == "mb_per_s"))
            for index, (label, values) in enumerate(sorted(series.items(), key=_order)):
                shown = [s for s in sizes if s in values and values[s].get(key) is not None]
                positions = [i + index * width for i, s in enumerate(sizes) if s in shown]
                heights = [values[s][key] for s in shown]
                axis.bar(positions, heights, width, label=label)
            if key == "mb_per_s":
                raw = "file_write_mb_s" if side == "producer" else "file_read_mb_s"
                metadata_size = min(row["metadata_size"] for row in rows)
                heights = [baselines.get(metadata_size + size, {}).get(raw, 0.0) for size in sizes]
                positions = [i + len(series) * width for i in range(len(sizes))]
                axis.bar(positions, heights, width, label="raw file write / read baseline")
            axis.set_xticks([i + 0.4 - width / 2 for i in range(len(sizes))])
            axis.set_xticklabels([human_size(size) for size in sizes])
            axis.set_xlabel("data per event")
            axis.set_ylabel(unit)
            axis.set_yscale("log")
            if key == "ratio_file":
                axis.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
            axis.set_title(f"{side} ({unit})")
        # One legend under both plots: inside them it hides bars.
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(
            handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize="small"
        )
        figure.suptitle("diaspora-stream benchmark matrix (largest batch, 1 partition)")
        figure.tight_layout(rect=(0, 0.07, 1, 1))
        figure.savefig(os.path.join(directory, name), dpi=100)
        plt.close(figure)
        written.append(name)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: draw the plots of a ``results.json``."""
    return redraw_command(
        argv,
        draw_plots,
        prog="python -m diaspora_stream.bench.plots",
        description="Draw the benchmark matrix plots of a results.json again.",
        results_help="results.json written by the matrix",
    )


def redraw_command(
    argv: Sequence[str] | None,
    draw: Callable[[dict[str, Any], str], list[str]],
    *,
    prog: str,
    description: str,
    results_help: str,
) -> int:
    """A command that reads a benchmark's JSON file and draws its plots again with ``draw``
    (into ``--output``, by default the file's directory); 1 when nothing could be drawn."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("results", help=results_help)
    parser.add_argument("--output", default=None, help="directory (default: the file's)")
    args = parser.parse_args(argv)
    try:
        with open(args.results, encoding="utf-8") as stream:
            document = json.load(stream)
    except (OSError, json.JSONDecodeError) as error:
        parser.error(f"cannot read {args.results}: {error}")
    directory = args.output or os.path.dirname(os.path.abspath(args.results))
    os.makedirs(directory, exist_ok=True)
    written = draw(document, directory)
    if not written:
        print("Error: no plot drawn (is matplotlib installed?)", file=sys.stderr)
        return 1
    print("wrote " + ", ".join(os.path.join(directory, name) for name in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
