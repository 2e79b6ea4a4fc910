"""Benchmark of the mochi backend against raw loopback TCP, memcpy and the files backend.

``python -m diaspora_stream_mochi.bench [--quick] [--json FILE]`` starts a service in a
temporary directory and runs, producer then consumer (a separate driver object, as another
process would):

* small events: 64 B metadata, no data, producer batch 128 (events/s);
* 64 KiB and 1 MiB events (MB/s), producer on the on-node path (shared memory over a Unix socket)
  and on the bulk TCP stream (``transport: "tcp"``), into file partitions (``fdatasync`` per batch
  unless ``--no-sync``) and into memory partitions (the transport alone: the server runs with a
  ``memory_reserve`` as large as what they receive, faulted in before measuring, as RDMA servers
  register their buffers up front), consumer reading all the data and consumer reading 25 % of each
  event's data (bytes moved are counted);

and, in the same run, loopback TCP and memcpy bandwidth for the same event sizes, copying into
fresh (never touched) memory (what memory partitions reach without a reserve: the page-fault
rate), ``os.write`` of the same bytes into a file with and without an ``fdatasync`` per
producer batch (what a file partition with ``sync`` on can reach at most), and the same
workloads on the ``files`` backend when it is installed. Each consumer run is paired with a
run of the loopback TCP baseline, alternately before and after it: a consumer's "x TCP" is its
median over the median of those paired TCP runs. ``--workload 1MiB`` runs one workload. It
prints a Markdown table of figures and ratios.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import mmap
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from diaspora_stream.api import Driver
from diaspora_stream.bench.baselines import loopback_tcp_mb_s, measure_baselines
from diaspora_stream.bench.consumer import ConsumerSettings, run_consumer
from diaspora_stream.bench.producer import ProducerSettings, run_producer

from . import driver as mochi_driver
from . import service
from .config import ServerConfig, read_group_file
from .memory_access import buffer_address

__all__ = ["Workload", "main", "run"]


@dataclass(frozen=True)
class Workload:
    """One produced topic, consumed in full and (with data) at 25 %."""

    name: str
    metadata_size: int
    data_size: int
    batch_size: int
    num_events: int


WORKLOADS = (
    Workload("small", 64, 0, 128, 200_000),
    Workload("64KiB", 64, 64 * 1024, 128, 4_000),
    Workload("1MiB", 64, 2**20, 8, 256),
)


def synced_write_mb_s(directory: str, batch_bytes: int, volume: int) -> float:
    """MB/s of ``os.write`` of ``batch_bytes`` chunks into a new file, each ``fdatasync``-ed
    (about ``volume`` bytes, at least 8 chunks)."""
    chunk = os.urandom(batch_bytes)
    count = max(8, volume // batch_bytes)
    path = os.path.join(directory, f"synced-{time.monotonic_ns()}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        start = time.perf_counter()
        for _ in range(count):
            view = memoryview(chunk)
            while view.nbytes:
                view = view[os.write(fd, view) :]
            os.fdatasync(fd)
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
        os.unlink(path)
    return count * batch_bytes / 2**20 / elapsed


def quick_workloads() -> list[Workload]:
    """The workloads with 20 times fewer events (a smoke run)."""
    return [
        Workload(w.name, w.metadata_size, w.data_size, w.batch_size, max(16, w.num_events // 20))
        for w in WORKLOADS
    ]


def fresh_memory_mb_s(batch_bytes: int, volume: int) -> float:
    """MB/s of copying ``batch_bytes`` chunks into new anonymous mappings, all kept (about
    ``volume`` bytes, at least 8): the page faults of memory never touched before included."""
    source = bytearray(os.urandom(batch_bytes))
    address = buffer_address(memoryview(source))
    count = max(8, volume // batch_bytes)
    kept = []
    start = time.perf_counter()
    for _ in range(count):
        mapping = mmap.mmap(-1, batch_bytes)
        view = memoryview(mapping)
        ctypes.memmove(buffer_address(view), address, batch_bytes)
        kept.append((mapping, view))
    elapsed = time.perf_counter() - start
    for mapping, view in kept:
        view.release()
        mapping.close()
    return count * batch_bytes / 2**20 / elapsed


def reserve_needed(workloads: list[Workload], repeat: int) -> int:
    """Bytes the memory-partition runs land: ``repeat`` times each data workload, on-node and
    over the TCP stream (plus a little alignment slack per batch)."""
    total = 0
    for workload in workloads:
        if workload.data_size:
            batches = -(-workload.num_events // workload.batch_size)
            total += workload.num_events * workload.data_size + 64 * batches
    return 2 * repeat * total


def wait_reserve_ready(config: ServerConfig, timeout: float = 300.0) -> None:
    """Wait until every member faulted its memory reserve in (printing progress)."""
    deadline = time.monotonic() + timeout
    for member in read_group_file(config.group_file):
        while True:
            answer = service.ping(member, config.group_file) or {}
            reserve = answer.get("memory_reserve") or {}
            if reserve.get("populated", 0) >= reserve.get("size", 0):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"memory reserve of member {member.rank} not ready: {reserve}")
            time.sleep(0.25)
    print(f"memory reserve of {config.memory_reserve / 2**20:,.0f} MiB faulted in")


def _measure(
    backend: str,
    options: dict[str, Any],
    workload: Workload,
    label: str,
    repeat: int,
    topic_options: dict[str, Any] | None = None,
    consume: bool = True,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    produced: list[dict[str, Any]] = []
    consumed: dict[float, list[dict[str, Any]]] = {1.0: [], 0.25: []}
    selectivities = (1.0, 0.25) if workload.data_size else (1.0,)
    for attempt in range(repeat):
        driver = Driver(backend=backend, options=options)
        topic = f"bench-{workload.name}-{label}-{attempt}-{time.monotonic_ns()}"
        driver.create_topic(topic, options=topic_options or {})
        before = dict(mochi_driver.TRANSFER_BYTES)
        seconds = dict(mochi_driver.TRANSFER_SECONDS)
        result = run_producer(
            driver,
            ProducerSettings(
                topic=topic,
                num_events=workload.num_events,
                data_size=workload.data_size,
                metadata_size=workload.metadata_size,
                batch_size=workload.batch_size,
                num_threads=0,
            ),
        )
        row = asdict(result)
        row["shm_bytes"] = mochi_driver.TRANSFER_BYTES["shm"] - before["shm"]
        row["bulk_bytes"] = mochi_driver.TRANSFER_BYTES["bulk"] - before["bulk"]
        pull_seconds = sum(mochi_driver.TRANSFER_SECONDS[k] - seconds[k] for k in seconds)
        pulled = row["shm_bytes"] + row["bulk_bytes"]
        # Bandwidth of the data path alone: bytes pulled / time the server spent pulling.
        row["pull_mb_per_s"] = pulled / 2**20 / pull_seconds if pull_seconds else None
        produced.append(row)
        driver.close()
        for selectivity in selectivities if consume else ():
            # Loopback TCP alternately before and after the consumer: its ratio to TCP is
            # taken in the same stretch of time (the machine's load drifts).
            tcp_first = attempt % 2 == 0
            tcp = _tcp_mb_s(workload) if tcp_first else None
            reader = Driver(backend=backend, options=options)
            before = dict(mochi_driver.TRANSFER_BYTES)
            consumer = run_consumer(
                reader,
                ConsumerSettings(
                    topic=topic,
                    num_events=workload.num_events,
                    num_threads=0,
                    data_selectivity=selectivity,
                    consumer_name=f"bench-{selectivity}",
                ),
            )
            row = asdict(consumer)
            row["fetched_bytes"] = mochi_driver.TRANSFER_BYTES["fetched"] - before["fetched"]
            reader.close()
            row["tcp_mb_s"] = tcp if tcp is not None else _tcp_mb_s(workload)
            consumed[selectivity].append(row)
    rows.append(_summary(backend, label, workload, "producer", 1.0, produced))
    for selectivity in selectivities if consume else ():
        rows.append(
            _summary(backend, label, workload, "consumer", selectivity, consumed[selectivity])
        )
    return rows


def _tcp_mb_s(workload: Workload) -> float:
    """One run of the loopback TCP baseline on the workload's events and volume."""
    size = workload.metadata_size + workload.data_size
    return loopback_tcp_mb_s(size, workload.num_events * size)


def _summary(
    backend: str,
    label: str,
    workload: Workload,
    side: str,
    selectivity: float,
    runs: list[dict[str, Any]],
) -> dict[str, Any]:
    best = dict(runs[0])
    for key in ("events_per_s", "mb_per_s", "total_time_s", "pull_mb_per_s", "tcp_mb_s"):
        values = [run[key] for run in runs if run.get(key) is not None]
        if values:
            best[key] = statistics.median(values)
    if side == "consumer":
        # MB/s of the bytes delivered (metadata + selected data), as the matrix counts them.
        moved = workload.metadata_size * workload.num_events + best["data_bytes"]
        best["mb_per_s"] = moved / 2**20 / best["total_time_s"]
    return {
        "backend": backend,
        "path": label,
        "workload": workload.name,
        "side": side,
        "selectivity": selectivity,
        **{key: best[key] for key in best if key not in ("processes",)},
    }


def run(
    quick: bool = False,
    repeat: int = 3,
    with_files: bool = True,
    sync: bool = True,
    only: Sequence[str] = (),
) -> dict[str, Any]:
    """Run every workload (those named in ``only``, if given); return the results document."""
    workloads = quick_workloads() if quick else list(WORKLOADS)
    if only:
        workloads = [workload for workload in workloads if workload.name in only]
    results: list[dict[str, Any]] = []
    baselines: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mochi-bench-") as scratch:
        directory = Path(scratch)
        for workload in workloads:
            size = workload.metadata_size + workload.data_size
            volume = workload.num_events * size
            baselines[workload.name] = asdict(measure_baselines(scratch, size, volume, repeat))
            baselines[workload.name]["synced_write_mb_s"] = synced_write_mb_s(
                scratch, size * workload.batch_size, min(volume, 128 * 2**20)
            )
            baselines[workload.name]["fresh_memory_mb_s"] = fresh_memory_mb_s(
                size * workload.batch_size, min(volume, 256 * 2**20)
            )
        config = ServerConfig.from_dict(
            {
                "root": "data",
                "group_file": "group.json",
                "sync": sync,
                "memory_reserve": reserve_needed(workloads, repeat),
            },
            directory,
        )
        service.start(config)
        try:
            wait_reserve_ready(config)
            options = {"group_file": str(config.group_file)}
            tcp = {**options, "transport": "tcp"}
            memory = {"type": "memory"}
            for workload in workloads:
                results += _measure("mochi", options, workload, "on-node, file", repeat)
                results += _measure(
                    "mochi", options, workload, "on-node, memory", repeat, memory, False
                )
                if workload.data_size:
                    results += _measure(
                        "mochi", tcp, workload, "tcp-stream, file", repeat, None, False
                    )
                    results += _measure(
                        "mochi", tcp, workload, "tcp-stream, memory", repeat, memory, False
                    )
        finally:
            service.stop(config)
        if with_files:
            for workload in workloads:
                root = directory / f"files-{workload.name}"
                try:
                    results += _measure("files", {"root_path": str(root)}, workload, "-", repeat)
                except Exception as error:  # noqa: BLE001 - files not installed: say so
                    print(f"files backend skipped: {error}")
                    break
    for row in results:
        base = baselines[row["workload"]]
        # Consumers: against loopback TCP measured alternately with them (same run).
        tcp = row.get("tcp_mb_s") or base["tcp_mb_s"]
        row["ratio_tcp"] = row["mb_per_s"] / tcp if tcp else None
        row["ratio_memcpy"] = row["mb_per_s"] / base["memcpy_mb_s"] if base["memcpy_mb_s"] else None
    return {
        "baselines": baselines,
        "results": results,
        "repeat": repeat,
        "sync": sync,
        "memory_reserve": config.memory_reserve,
    }


def table(document: dict[str, Any]) -> str:
    """The results as a Markdown table, with the baselines and the target ratios."""
    lines = [
        "| backend | path | workload | side | selectivity | events/s | MB/s | x TCP | TCP MB/s "
        "| x memcpy | data bytes moved | data path MB/s (x TCP) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in document["results"]:
        moved = row.get("fetched_bytes") if row["side"] == "consumer" else None
        if row["side"] == "producer":
            moved = (row.get("shm_bytes") or 0) + (row.get("bulk_bytes") or 0)
        lines.append(
            f"| {row['backend']} | {row['path']} | {row['workload']} | {row['side']} "
            f"| {row['selectivity']:g} | {row['events_per_s']:,.0f} | {row['mb_per_s']:,.1f} "
            f"| {row['ratio_tcp']:.3f} | {_tcp_used(row, document):,.0f} "
            f"| {row['ratio_memcpy']:.3f} "
            f"| {moved if moved is not None else '-'} | {_pull(row, document)} |"
        )
    lines.append("")
    lines.append(
        "| workload | loopback TCP MB/s | memcpy MB/s | memcpy into fresh memory MB/s "
        "| file write MB/s | file write + fdatasync per batch MB/s |"
    )
    lines.append("|---|---|---|---|---|---|")
    for name, base in document["baselines"].items():
        lines.append(
            f"| {name} | {base['tcp_mb_s']:,.0f} | {base['memcpy_mb_s']:,.0f} "
            f"| {base.get('fresh_memory_mb_s', 0):,.0f} "
            f"| {base['file_write_mb_s']:,.0f} | {base.get('synced_write_mb_s', 0):,.0f} |"
        )
    mochi = [row for row in document["results"] if row["backend"] == "mochi"]
    for name in ("64KiB", "1MiB"):
        full = [r for r in mochi if r["workload"] == name and r["selectivity"] == 1.0]
        part = [r for r in mochi if r["workload"] == name and r["selectivity"] == 0.25]
        full_c = [r for r in full if r["side"] == "consumer"]
        if full_c and part and full_c[0].get("fetched_bytes"):
            share = part[0]["fetched_bytes"] / full_c[0]["fetched_bytes"]
            lines.append("")
            lines.append(f"{name}: the 25 % consumer moved {share:.3f} of the full one's bytes")
    return "\n".join(lines) + "\n"


def _tcp_used(row: dict[str, Any], document: dict[str, Any]) -> float:
    """The loopback TCP MB/s ``row`` is divided by: measured alternately with a consumer,
    else the workload's baseline."""
    return float(row.get("tcp_mb_s") or document["baselines"][row["workload"]]["tcp_mb_s"])


def _pull(row: dict[str, Any], document: dict[str, Any]) -> str:
    rate = row.get("pull_mb_per_s")
    if not rate:
        return "-"
    tcp = document["baselines"][row["workload"]]["tcp_mb_s"]
    return f"{rate:,.0f} ({rate / tcp:.2f})"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m diaspora_stream_mochi.bench")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 times fewer events")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--no-files", action="store_true", help="skip the files backend")
    parser.add_argument("--no-sync", action="store_true", help="server without fdatasync per batch")
    parser.add_argument(
        "--workload",
        action="append",
        default=[],
        choices=[workload.name for workload in WORKLOADS],
        help="run only this workload (repeatable; default: all)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table")
    args = parser.parse_args(argv)
    document = run(
        quick=args.quick,
        repeat=args.repeat,
        with_files=not args.no_files,
        sync=not args.no_sync,
        only=args.workload,
    )
    text = table(document)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(document, indent=2), encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
