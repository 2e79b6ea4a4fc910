"""What the producer and consumer benchmarks share: options, driver and topic set-up, output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..api import AdaptiveBatchSize, Driver, TopicHandle
from ..ctl.errors import CommandError, one_line, report_error
from ..ctl.options import extract_hierarchical, load_config_file, merge_patch
from ..ctl.parsing import ArgumentParser
from .mpi import MpiContext

__all__ = [
    "add_common_arguments",
    "batch_size_argument",
    "fraction_argument",
    "g6",
    "json_object_argument",
    "non_negative_int",
    "open_benchmark_topic",
    "parse_benchmark_arguments",
    "print_report",
    "run_main",
]


def g6(value: float) -> str:
    """``value`` as a C++ output stream prints a double by default (6 significant digits)."""
    return f"{value:.6g}"


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def json_object_argument(text: str) -> dict[str, Any]:
    """argparse type: a JSON object (driver options)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text!r}")
    return value


def batch_size_argument(text: str) -> int:
    """argparse type: a batch size >= 1, or ``adaptive``."""
    if text.lower() == "adaptive":
        return AdaptiveBatchSize
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1 (or 'adaptive')")
    return value


def fraction_argument(name: str) -> Callable[[str], float]:
    """argparse type: a number in [0, 1] (the reference's message otherwise)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise argparse.ArgumentTypeError(
                f"Invalid value (should be between 0 and 1) for arg {name}"
            )
        return value

    parse.__name__ = name
    return parse


def add_common_arguments(parser: ArgumentParser) -> None:
    """``-d -c -t -n -p``, ``--create-topic``, ``--json``, ``--no-progress``."""
    parser.add_argument("-d", "--driver", required=True, help="driver (backend) name")
    parser.add_argument(
        "-c",
        "--driver-config",
        default="",
        metavar="FILE",
        help="JSON file with the driver's options (--driver.KEY VALUE options merge over it)",
    )
    parser.add_argument("-t", "--topic", required=True, help="topic name")
    parser.add_argument(
        "-n",
        "--num-events",
        type=non_negative_int,
        default=1000,
        metavar="N",
        help="events per process (default: 1000)",
    )
    parser.add_argument(
        "-p",
        "--num-threads",
        type=non_negative_int,
        default=1,
        metavar="N",
        help="threads of the thread pool (0: the calling thread; default: 1)",
    )
    parser.add_argument(
        "--create-topic",
        action="store_true",
        help="create the topic if it does not exist (always done for backends whose topics "
        "live only in the process, such as memory); --topic.KEY VALUE gives its options",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (shown only on a terminal)"
    )


def parse_benchmark_arguments(
    parser: ArgumentParser, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, dict[str, Any], dict[str, Any]]:
    """Parse ``argv``; return the arguments, the driver options and the topic options."""
    remaining, objects = extract_hierarchical(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(remaining)
    try:
        config = load_config_file(args.driver_config, "driver options")
    except CommandError:
        raise CommandError(f"Could not open config file: {args.driver_config}") from None
    driver_options = merge_patch(config, objects["driver"])
    return args, driver_options, objects["topic"]


def open_benchmark_topic(
    driver: Driver, name: str, create: bool, topic_options: dict[str, Any], mpi: MpiContext
) -> TopicHandle:
    """Open the topic, creating it first (on rank 0) if asked or if the backend's topics do
    not outlive the process."""
    create = create or not driver.capabilities.persistent_topics
    if create and mpi.is_root and not driver.topic_exists(name):
        driver.create_topic(name, options=topic_options)
    mpi.barrier()
    if not driver.topic_exists(name):
        raise CommandError(
            f"Topic '{name}' does not exist: create it with 'diaspora-ctl topic create' or pass "
            "--create-topic"
        )
    return driver.open_topic(name)


def print_report(
    kind: str,
    options: list[tuple[str, Any]],
    results: list[tuple[str, str]],
    as_json: bool,
    json_results: dict[str, Any],
) -> None:
    """Print the reference's two blocks, or one JSON object."""
    if as_json:
        document = {
            "benchmark": kind,
            "options": {label: value for label, value in options},
            "results": json_results,
        }
        print(json.dumps(document, indent=2), flush=True)
        return
    lines = ["--- Benchmark Options ---"]
    lines += [
        f"{label}: {g6(value) if isinstance(value, float) else value}" for label, value in options
    ]
    lines += ["", "--- Benchmark Results ---"]
    lines += [f"{label}: {value}" for label, value in results]
    print("\n".join(lines), flush=True)


def run_main(body: Callable[[], int], mpi: MpiContext | None = None) -> int:
    """Run ``body``; any failure is one ``Error: ...`` line on stderr and exit status 1 (and
    the other MPI processes are aborted)."""
    try:
        return body()
    except CommandError as error:
        message: object = error
    except KeyboardInterrupt:
        message = "interrupted"
    except Exception as error:  # noqa: BLE001 - every failure is one line
        message = one_line(error)
    if mpi is not None and mpi.size > 1:
        message = f"rank {mpi.rank} of {mpi.size}: {message}"
    status = report_error(message)
    if mpi is not None:
        mpi.abort(status)
    return status
