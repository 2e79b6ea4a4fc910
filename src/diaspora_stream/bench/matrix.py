"""The benchmark matrix of ``nox -s bench``: every installed backend, producer and consumer.

``python -m diaspora_stream.bench.matrix [--quick] [--output bench-results]`` runs, on every
installed backend (entry point group ``diaspora_stream.drivers``), each workload of the matrix —
metadata 64 / 256 B, data 0 / 1 KiB / 64 KiB / 1 MiB, producer batch size 1 / 128,
partitions 1 / 4 — through the producer benchmark, then reads the events back through the
consumer benchmark with data selectivity 1 and 0.25 (1 only without data). Backends whose topics
outlive the driver object (``files``) are consumed through a second driver object, as another
process would; the others (``memory``) in-process only. Raw baselines (file write/read, loopback
TCP, memcpy) are measured in the same run for each event size. Results go to
``results.json``, ``results.md`` (a table with ratios to the baselines) and PNG plots.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from ..api import Driver
from .baselines import Baselines, measure_baselines
from .consumer import ConsumerSettings, run_consumer
from .producer import ProducerSettings, run_producer

__all__ = [
    "Case",
    "default_cases",
    "installed_backends",
    "machine_info",
    "main",
    "run_matrix",
]

METADATA_SIZES = (64, 256)
DATA_SIZES = (0, 1024, 65536, 2**20)
BATCH_SIZES = (1, 128)
PARTITIONS = (1, 4)
SELECTIVITIES = (1.0, 0.25)
#: Events per case for each data size (about 128 MiB of data for the large sizes).
EVENT_COUNTS = {0: 50_000, 1024: 20_000, 65536: 2_000, 2**20: 128}
QUICK_DIVISOR = 50


@dataclass(frozen=True)
class Case:
    """One workload: produced once, consumed once per selectivity."""

    metadata_size: int
    data_size: int
    batch_size: int
    partitions: int
    num_events: int
    selectivities: tuple[float, ...]

    @property
    def label(self) -> str:
        """Short description for progress messages."""
        return (
            f"meta {self.metadata_size} B, data {human_size(self.data_size)}, batch "
            f"{self.batch_size}, {self.partitions} partition(s), {self.num_events} events"
        )


def human_size(size: int) -> str:
    """``1024`` → ``1 KiB``."""
    for unit, factor in (("MiB", 2**20), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def default_cases(quick: bool = False, counts: Sequence[int] | None = None) -> list[Case]:
    """The matrix; ``quick`` divides the event counts by 50; ``counts`` replaces them (each
    count is then a dimension of the matrix)."""
    cases = []
    for data_size in DATA_SIZES:
        if counts:
            per_size = list(counts)
        else:
            count = EVENT_COUNTS[data_size]
            per_size = [max(8, count // QUICK_DIVISOR) if quick else count]
        selectivities = SELECTIVITIES if data_size else (1.0,)
        for metadata_size in METADATA_SIZES:
            for batch_size in BATCH_SIZES:
                for partitions in PARTITIONS:
                    for num_events in per_size:
                        cases.append(
                            Case(
                                metadata_size,
                                data_size,
                                batch_size,
                                partitions,
                                num_events,
                                selectivities,
                            )
                        )
    return cases


#: Installed backends that are not backends by themselves: run them with ``--backend`` and
#: their ``--backend-options`` (the ``binding`` bridge needs the foreign driver to reach).
NOT_BY_DEFAULT = ("binding",)


def installed_backends() -> list[str]:
    """Names of the installed backends, one per implementation (aliases dropped), except the
    bridges of :data:`NOT_BY_DEFAULT`."""
    seen: dict[str, str] = {}
    for entry in sorted(metadata.entry_points(group="diaspora_stream.drivers"), key=_entry_key):
        if entry.name not in NOT_BY_DEFAULT:
            seen.setdefault(entry.value, entry.name)
    return sorted(seen.values())


def _entry_key(entry: metadata.EntryPoint) -> tuple[bool, str]:
    return (entry.name == "simple", entry.name)  # prefer "memory" to its alias "simple"


def _median_result(runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = dict(runs[0])
    for key in ("total_time_s", "events_per_s", "mb_per_s"):
        best[key] = statistics.median(run[key] for run in runs)
    return best


def _driver_options(backend: str, root: str, extra: dict[str, Any]) -> dict[str, Any]:
    options = dict(extra)
    if backend == "files":
        options.setdefault("root_path", root)
    return options


def run_case(
    backend: str, options: dict[str, Any], case: Case, repeat: int
) -> tuple[str, list[dict[str, Any]]]:
    """Produce then consume ``case`` ``repeat`` times; return the mode and one row per side."""
    producer_runs: list[dict[str, Any]] = []
    consumer_runs: dict[float, list[dict[str, Any]]] = {s: [] for s in case.selectivities}
    mode = "in-process"
    for attempt in range(repeat):
        driver = Driver(backend=backend, options=options)
        try:
            topic = f"bench-{attempt}-{time.monotonic_ns()}"
            driver.create_topic(topic, options={"num_partitions": case.partitions})
            settings = ProducerSettings(
                topic=topic,
                num_events=case.num_events,
                data_size=case.data_size,
                metadata_size=case.metadata_size,
                batch_size=case.batch_size,
                num_threads=0,
            )
            producer_runs.append(asdict(run_producer(driver, settings)))
            cross = driver.capabilities.persistent_topics
            mode = "separate driver" if cross else "in-process"
            for selectivity in case.selectivities:
                reader = Driver(backend=backend, options=options) if cross else driver
                try:
                    result = run_consumer(
                        reader,
                        ConsumerSettings(
                            topic=topic,
                            num_events=case.num_events,
                            num_threads=0,
                            data_selectivity=selectivity,
                            consumer_name=f"bench-{selectivity}",
                        ),
                    )
                finally:
                    if reader is not driver:
                        reader.close()
                row = asdict(result)
                moved = case.metadata_size * case.num_events + result.data_bytes
                row["mb_per_s"] = moved / 2**20 / result.total_time_s
                consumer_runs[selectivity].append(row)
        finally:
            driver.close()
    rows = [
        _row(backend, mode, "producer", case, 1.0, _median_result(producer_runs)),
        *(
            _row(backend, mode, "consumer", case, s, _median_result(runs))
            for s, runs in consumer_runs.items()
        ),
    ]
    return mode, rows


def _row(
    backend: str, mode: str, side: str, case: Case, selectivity: float, result: dict[str, Any]
) -> dict[str, Any]:
    return {
        "backend": backend,
        "mode": mode,
        "side": side,
        "metadata_size": case.metadata_size,
        "data_size": case.data_size,
        "batch_size": case.batch_size,
        "partitions": case.partitions,
        "selectivity": selectivity,
        "num_events": case.num_events,
        "events_per_s": result["events_per_s"],
        "mb_per_s": result["mb_per_s"],
        "total_time_s": result["total_time_s"],
        "data_bytes": result.get("data_bytes"),
    }


def add_ratios(row: dict[str, Any], baseline: Baselines) -> None:
    """Add ``ratio_file`` (producer: to file write, consumer: to file read), ``ratio_tcp`` and
    ``ratio_memcpy`` to ``row``."""
    file_rate = baseline.file_write_mb_s if row["side"] == "producer" else baseline.file_read_mb_s
    for key, rate in (
        ("ratio_file", file_rate),
        ("ratio_tcp", baseline.tcp_mb_s),
        ("ratio_memcpy", baseline.memcpy_mb_s),
    ):
        row[key] = row["mb_per_s"] / rate if rate else None


def machine_info() -> dict[str, Any]:
    """The machine and versions a run is made on (for the reports)."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "diaspora_stream": metadata.version("diaspora-stream"),
    }


def run_matrix(
    backends: Sequence[str],
    cases: Sequence[Case],
    workdir: str,
    repeat: int = 1,
    backend_options: dict[str, dict[str, Any]] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Run every case on every backend; return the results document."""
    baselines: dict[int, Baselines] = {}
    sizes = sorted({c.metadata_size + c.data_size for c in cases})
    for size in sizes:
        volume = max(c.num_events * size for c in cases if c.metadata_size + c.data_size == size)
        log(f"baselines for {human_size(size)} events")
        baselines[size] = measure_baselines(workdir, size, volume, repeat)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    modes: dict[str, str] = {}
    total = len(backends) * len(cases)
    step = 0
    for backend in backends:
        for case in cases:
            step += 1
            root = os.path.join(workdir, f"{backend}-{step}")
            options = _driver_options(backend, root, (backend_options or {}).get(backend, {}))
            log(f"[{step}/{total}] {backend}: {case.label}")
            try:
                modes[backend], case_rows = run_case(backend, options, case, repeat)
            except Exception as error:  # noqa: BLE001 - a backend that cannot run is reported
                skipped[backend] = f"{type(error).__name__}: {error}"
                log(f"skipping {backend}: {skipped[backend]}")
                step += len(cases) - cases.index(case) - 1
                break
            finally:
                shutil.rmtree(root, ignore_errors=True)
            for row in case_rows:
                add_ratios(row, baselines[case.metadata_size + case.data_size])
            rows.extend(case_rows)
    return {
        "machine": machine_info(),
        "repeat": repeat,
        "modes": modes,
        "skipped": skipped,
        "baselines": [asdict(baselines[size]) for size in sizes],
        "results": rows,
    }


def _parse_backend_options(values: Sequence[str]) -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for value in values:
        name, separator, text = value.partition("=")
        try:
            parsed = json.loads(text) if separator else None
        except json.JSONDecodeError as error:
            raise SystemExit(f"Error: --backend-options {value!r}: invalid JSON: {error}") from None
        if not isinstance(parsed, dict):
            raise SystemExit(f"Error: --backend-options expects NAME=JSON-object, got {value!r}")
        options[name] = parsed
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m diaspora_stream.bench.matrix",
        description="Run the benchmark matrix on every installed backend.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 times fewer events")
    parser.add_argument("--output", default="bench-results", help="output directory")
    parser.add_argument(
        "--backend",
        action="append",
        default=[],
        help="backend to run (repeatable; default: every installed backend)",
    )
    parser.add_argument(
        "--backend-options",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="driver options of a backend (files gets a fresh root_path per case)",
    )
    parser.add_argument(
        "--num-events",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="event count of every workload (repeatable: each count is a dimension)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per case, the median is kept (default: 3, or 1 with --quick)",
    )
    parser.add_argument("--workdir", default=None, help="scratch directory (default: a temp dir)")
    parser.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1 or any(n < 1 for n in args.num_events):
        parser.error("--repeat and --num-events must be >= 1")
    backends = args.backend or installed_backends()
    cases = default_cases(args.quick, args.num_events)
    options = _parse_backend_options(args.backend_options)
    os.makedirs(args.output, exist_ok=True)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="diaspora-matrix-", dir=args.workdir) as workdir:
        document = run_matrix(backends, cases, workdir, args.repeat, options, log)
    document["quick"] = args.quick
    document["duration_s"] = time.monotonic() - started

    from .report import markdown_report

    with open(os.path.join(args.output, "results.json"), "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2)
    with open(os.path.join(args.output, "results.md"), "w", encoding="utf-8") as stream:
        stream.write(markdown_report(document))
    written = ["results.json", "results.md"]
    if not args.no_plots:
        from .plots import draw_plots

        written += draw_plots(document, args.output, log)
    log(f"wrote {', '.join(os.path.join(args.output, name) for name in written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
