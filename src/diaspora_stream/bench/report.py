"""The Markdown report of the benchmark matrix (``results.md``)."""

from __future__ import annotations

from typing import Any

from .matrix import human_size

__all__ = ["markdown_report"]


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2g}" if value < 1 else f"{value:.2f}"


def markdown_report(document: dict[str, Any]) -> str:
    """Machine, baselines and results tables (ratios: our MB/s over the baseline's)."""
    machine = document["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"{machine['date']}; diaspora-stream {machine['diaspora_stream']}; Python "
        f"{machine['python']}; {machine['platform']}; {machine['cpus']} CPU(s)"
        + ("; **quick run**" if document.get("quick") else "")
        + f"; median of {document['repeat']} run(s) per case.",
        "",
        "## Baselines (MB/s = 2^20 bytes/s, measured in the same run)",
        "",
        "| event size | file write | file read | loopback TCP | memcpy |",
        "|---:|---:|---:|---:|---:|",
    ]
    for baseline in document["baselines"]:
        lines.append(
            f"| {human_size(baseline['event_size'])} | {_number(baseline['file_write_mb_s'])} "
            f"| {_number(baseline['file_read_mb_s'])} | {_number(baseline['tcp_mb_s'])} "
            f"| {_number(baseline['memcpy_mb_s'])} |"
        )
    lines += [
        "",
        "## Results",
        "",
        "MB/s counts metadata and data bytes (for the consumer: the data actually read). "
        "`/ file` is the producer's MB/s over the file-write baseline and the consumer's over "
        "the file-read baseline of the same event size; `/ TCP` and `/ memcpy` likewise.",
        "",
    ]
    for backend, mode in document["modes"].items():
        how = (
            "consumed through a second driver object, as another process would"
            if mode == "separate driver"
            else "consumed through the producer's driver object (in-process only)"
        )
        lines.append(f"* `{backend}`: {how}.")
    for backend, reason in document.get("skipped", {}).items():
        lines.append(f"* `{backend}` skipped: {reason}")
    lines += [
        "",
        "| backend | side | metadata | data | batch | partitions | selectivity | events "
        "| events/s | MB/s | / file | / TCP | / memcpy |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in document["results"]:
        lines.append(
            f"| {row['backend']} | {row['side']} | {row['metadata_size']} B "
            f"| {human_size(row['data_size'])} | {row['batch_size']} | {row['partitions']} "
            f"| {row['selectivity']:g} | {row['num_events']} | {_number(row['events_per_s'])} "
            f"| {_number(row['mb_per_s'], 1)} | {_ratio(row.get('ratio_file'))} "
            f"| {_ratio(row.get('ratio_tcp'))} | {_ratio(row.get('ratio_memcpy'))} |"
        )
    return "\n".join(lines) + "\n"
