"""Command line of the scaling benchmark: options, the run in its temporary directory, output."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ...api import Driver
from ...ctl.errors import CommandError
from ..common import json_object_argument, run_main
from ..matrix import machine_info
from .latency import measure_latency
from .memory import measure_memory
from .plots import draw_plots
from .report import format_report
from .settings import Settings
from .throughput import measure_throughput

__all__ = ["QUICK_EVENTS", "QUICK_MAX_EVENTS", "SECTIONS", "main", "parse_arguments", "run"]

SECTIONS = ("throughput", "latency", "memory")
#: ``--quick``: events per throughput run, and the largest topic.
QUICK_EVENTS = 10_000
QUICK_MAX_EVENTS = 10**5


def count(text: str) -> int:
    """argparse type: a positive number of events: ``10000``, ``10_000``, ``1e4`` or ``10^4``."""
    cleaned = text.strip().replace("_", "")
    try:
        if "^" in cleaned:
            base, exponent = cleaned.split("^")
            value = int(base) ** int(exponent)
        elif "e" in cleaned.lower():
            number = float(cleaned)
            value = int(number) if number.is_integer() else -1
        else:
            value = int(cleaned)
    except ValueError:
        value = -1
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def counts(text: str) -> tuple[int, ...]:
    """argparse type: a comma-separated list of :func:`count` values, in increasing order."""
    values = tuple(sorted({count(item) for item in text.split(",") if item.strip()}))
    if not values:
        raise argparse.ArgumentTypeError(f"must list at least one number, got {text!r}")
    return values


def _parser() -> argparse.ArgumentParser:
    from . import __doc__ as description

    parser = argparse.ArgumentParser(
        prog="python -m diaspora_stream.bench.scaling",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backend", default="files", help="backend name (default: files)")
    parser.add_argument(
        "--backend-options",
        type=json_object_argument,
        default=None,
        metavar="JSON",
        help='driver options; "{tmp}" becomes a scratch directory of the run, removed at the end '
        '(default for files: {"root_path": "{tmp}"}, else {})',
    )
    parser.add_argument("--root", help="where to create the temporary directory")
    parser.add_argument("--repeat", type=count, default=3, help="runs per figure (default: 3)")
    parser.add_argument(
        "--events",
        type=count,
        default=None,
        help="events per throughput run, shared by the producer processes (default: 200000; "
        f"--quick: {QUICK_EVENTS})",
    )
    parser.add_argument("--partitions", type=counts, default=Settings.partitions, metavar="LIST")
    parser.add_argument("--processes", type=counts, default=Settings.processes, metavar="LIST")
    parser.add_argument(
        "--sizes",
        type=counts,
        default=Settings.latency_sizes,
        metavar="LIST",
        help="events in the topic for the latencies (default: 10^4,10^5,10^6,10^7)",
    )
    parser.add_argument(
        "--memory-sizes",
        type=counts,
        default=Settings.memory_sizes,
        metavar="LIST",
        help="events read for the peak memory (default: 10^4,10^5,10^6)",
    )
    parser.add_argument(
        "--max-events",
        type=count,
        default=None,
        metavar="N",
        help="leave out the sizes above N (of both lists; N itself if none is left)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_EVENTS} events per throughput run, sizes up to "
        f"{QUICK_MAX_EVENTS:,}",
    )
    parser.add_argument(
        "--chunk", type=count, default=Settings.chunk, help="events per push_many when filling"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="measure only this (repeatable; default: all three)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--plots", metavar="DIR", help="also draw PNG plots there (matplotlib)")
    return parser


def _capped(sizes: tuple[int, ...], cap: int | None) -> tuple[int, ...]:
    if cap is None:
        return sizes
    return tuple(size for size in sizes if size <= cap) or (cap,)


def parse_arguments(argv: Sequence[str] | None) -> tuple[Settings, argparse.Namespace]:
    """The settings of the run (``workdir`` left empty) and the parsed arguments."""
    args = _parser().parse_args(argv)
    cap = args.max_events
    if args.quick:
        cap = min(cap or QUICK_MAX_EVENTS, QUICK_MAX_EVENTS)
    options = args.backend_options
    if options is None:
        options = {"root_path": "{tmp}"} if args.backend == "files" else {}
    latency_sizes = _capped(args.sizes, cap)
    if latency_sizes[0] < 2:
        _parser().error("--sizes: a topic needs at least 2 events to resume a consumer in it")
    settings = Settings(
        backend=args.backend,
        options=options,
        workdir="",
        repeat=args.repeat,
        events=args.events or (QUICK_EVENTS if args.quick else Settings.events),
        partitions=args.partitions,
        processes=args.processes,
        latency_sizes=latency_sizes,
        memory_sizes=_capped(args.memory_sizes, cap),
        chunk=args.chunk,
    )
    return settings, args


def _machine() -> dict[str, Any]:
    return machine_info() | {"load_average": [round(value, 2) for value in os.getloadavg()]}


def run(
    settings: Settings,
    sections: Sequence[str] = SECTIONS,
    quick: bool = False,
    root: str | None = None,
) -> dict[str, Any]:
    """Measure ``sections`` in a temporary directory under ``root`` (the working directory
    meanwhile, removed at the end); return the results document."""
    document: dict[str, Any] = {
        "benchmark": "scaling",
        "backend": settings.backend,
        "options": settings.options,
        "repeat": settings.repeat,
        "quick": quick,
        "machine": _machine(),
    }
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="diaspora-bench-scaling-", dir=root) as workdir:
        os.chdir(workdir)  # relative default paths of the backend land here too
        try:
            settings = replace(settings, workdir=workdir)
            with settings.scratch("capabilities") as (options, _):
                with Driver(backend=settings.backend, options=options) as driver:
                    capabilities = driver.capabilities
            if not capabilities.persistent_topics:
                raise CommandError(
                    f"backend {settings.backend!r}: its topics do not outlive the process, and "
                    "this benchmark reads them from fresh processes"
                )
            if "throughput" in sections:
                document["throughput"] = measure_throughput(
                    settings, capabilities.multi_process_producers
                )
            if "latency" in sections:
                document["latency"] = measure_latency(settings, capabilities.replay)
            if "memory" in sections:
                document["memory"] = measure_memory(settings)
        finally:
            os.chdir(previous)
    document["machine"]["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
    return document


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the package's docstring)."""
    settings, args = parse_arguments(argv)
    json_path = os.path.abspath(args.json) if args.json else None
    plots = os.path.abspath(args.plots) if args.plots else None

    def body() -> int:
        document = run(settings, args.only or SECTIONS, args.quick, args.root)
        print(format_report(document), end="", flush=True)
        if json_path:
            with open(json_path, "w", encoding="utf-8") as stream:
                json.dump(document, stream, indent=2)
        if plots:
            os.makedirs(plots, exist_ok=True)
            for name in draw_plots(document, plots, settings.log):
                settings.log(f"wrote {os.path.join(plots, name)}")
        return 0

    return run_main(body)


if __name__ == "__main__":
    sys.exit(main())
