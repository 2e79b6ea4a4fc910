"""PNG plots of the benchmark matrix (matplotlib, imported only here)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .matrix import human_size

__all__ = ["draw_plots"]

_METRICS = (("events_per_s", "events/s", "events_per_s.png"), ("mb_per_s", "MB/s", "mb_per_s.png"))


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
    """Draw ``events_per_s.png`` and ``mb_per_s.png`` in ``directory``; return their names
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
                positions = [i + index * width for i, s in enumerate(sizes) if s in values]
                heights = [values[s][key] for s in sizes if s in values]
                axis.bar(positions, heights, width, label=label)
            if key == "mb_per_s":
                raw = "file_write_mb_s" if side == "producer" else "file_read_mb_s"
                metadata_size = min(row["metadata_size"] for row in rows)
                heights = [baselines.get(metadata_size + size, {}).get(raw, 0.0) for size in sizes]
                positions = [i + len(series) * width for i in range(len(sizes))]
                axis.bar(positions, heights, width, label="raw file " + raw.split("_")[1])
            axis.set_xticks([i + 0.4 - width / 2 for i in range(len(sizes))])
            axis.set_xticklabels([human_size(size) for size in sizes])
            axis.set_xlabel("data per event")
            axis.set_ylabel(unit)
            axis.set_yscale("log")
            axis.set_title(f"{side} ({unit})")
            axis.legend(fontsize="small")
        figure.suptitle("diaspora-stream benchmark matrix (largest batch, 1 partition)")
        figure.tight_layout()
        figure.savefig(os.path.join(directory, name), dpi=100)
        plt.close(figure)
        written.append(name)
    return written
