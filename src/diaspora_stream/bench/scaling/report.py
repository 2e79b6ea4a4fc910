"""The text report of the scaling benchmark (Markdown tables on stdout)."""

from __future__ import annotations

from typing import Any

from ..matrix import human_size

__all__ = ["format_report", "growth"]


def growth(rows: list[dict[str, Any]], key: str) -> float | None:
    """``key`` at the largest size over ``key`` at the smallest (1.0: flat)."""
    values = [row[key] for row in rows if row.get(key)]
    if len(values) < 2:
        return None
    return float(values[-1] / values[0])


def _growth_line(rows: list[dict[str, Any]], keys: list[tuple[str, str]]) -> list[str]:
    parts = []
    for key, label in keys:
        ratio = growth(rows, key)
        if ratio is not None:
            parts.append(f"{label} x{ratio:.2f}")
    if not parts:
        return []
    first, last = rows[0]["events"], rows[-1]["events"]
    return ["", f"From {first:,} to {last:,} events: " + ", ".join(parts) + "."]


def _throughput(section: dict[str, Any]) -> list[str]:
    size = f"{section['metadata_size']} B metadata + {human_size(section['data_size'])} data"
    rows = section["rows"]
    lines = [
        "",
        f"## Producer throughput ({section['events']:,} events of {size} per run, "
        f"batch size {section['batch_size']})",
        "",
        "| partitions | producer processes | events/s | MB/s | events per CPU second |",
        "|---:|---:|---:|---:|---:|",
    ]
    ordered = sorted(
        rows, key=lambda row: (row["processes"] > 1, row["processes"], row["partitions"])
    )
    for row in ordered:
        lines.append(
            f"| {row['partitions']} | {row['processes']} | {row['events_per_s']:,.0f} "
            f"| {row['mb_per_s']:,.1f} | {row['events_per_cpu_s']:,.0f} |"
        )
    if section.get("skipped"):
        lines += ["", f"Several producer processes: skipped ({section['skipped']})."]
    return lines


def _latency(section: dict[str, Any]) -> list[str]:
    rate = section.get("fill_events_per_s")
    lines = [
        "",
        "## Open and resume latency (fresh process, 1 partition, tiny metadata, no data)",
        "",
    ]
    if rate:
        lines += [f"Topic filled with push_many at {rate:,.0f} events/s.", ""]
    lines += [
        "Milliseconds: all the steps (`Driver()`, `open_topic`, the consumer, the first event), "
        "then the steps after `Driver()` (wall clock, and CPU time of the process).",
        "",
        "| events in topic | open + first event | after Driver() | (CPU) "
        "| resume + next event | after Driver() | (CPU) | resumed after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in section["rows"]:
        lines.append(
            f"| {row['events']:,} | {row['open_ms']:.1f} | {row['open_topic_ms']:.2f} "
            f"| {row['open_topic_cpu_ms']:.2f} | {row['resume_ms']:.1f} "
            f"| {row['resume_topic_ms']:.2f} | {row['resume_topic_cpu_ms']:.2f} "
            f"| {row['resumed_after']:,} |"
        )
    lines += _growth_line(
        section["rows"],
        [
            ("open_ms", "open"),
            ("open_topic_cpu_ms", "open after Driver() (CPU)"),
            ("resume_ms", "resume"),
            ("resume_topic_cpu_ms", "resume after Driver() (CPU)"),
        ],
    )
    return lines


def _memory(section: dict[str, Any]) -> list[str]:
    size = f"{section['metadata_size']} B metadata + {human_size(section['data_size'])} data"
    lines = [
        "",
        f"## Peak memory of a consumer (fresh process, events of {size}, {section['rss_source']})",
        "",
        "| events read | peak RSS (MiB) | RSS before reading (MiB) | events/s |",
        "|---:|---:|---:|---:|",
    ]
    for row in section["rows"]:
        before = row["rss_before_mib"]
        lines.append(
            f"| {row['events']:,} | {row['peak_rss_mib']:.1f} "
            f"| {'-' if before is None else f'{before:.1f}'} | {row['events_per_s']:,.0f} |"
        )
    lines += _growth_line(section["rows"], [("peak_rss_mib", "peak RSS")])
    return lines


def format_report(document: dict[str, Any]) -> str:
    """The report of a run (the document :func:`.cli.run` returns)."""
    machine = document["machine"]
    lines = [
        f"# Scaling of the {document['backend']} backend",
        "",
        f"{machine['date']}; {machine['cpus']} CPU(s); load average "
        f"{', '.join(str(value) for value in machine['load_average'])}; "
        f"median of {document['repeat']} run(s)" + ("; quick run" if document["quick"] else ""),
    ]
    if "throughput" in document:
        lines += _throughput(document["throughput"])
    if "latency" in document:
        lines += _latency(document["latency"])
    if "memory" in document:
        lines += _memory(document["memory"])
    return "\n".join(lines) + "\n"
