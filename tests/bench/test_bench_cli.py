"""Tests of the producer and consumer benchmarks (subprocesses, small counts, files backend)
and of their building blocks (MPI aggregation, progress bar, the matrix)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from diaspora_stream.api import DataDescriptor, Driver
from diaspora_stream.bench.consumer import ConsumerSettings, make_data_selector, run_consumer
from diaspora_stream.bench.mpi import MpiContext, launched_under_mpi
from diaspora_stream.bench.producer import ProducerSettings, make_metadata, run_producer
from diaspora_stream.bench.progress import Progress

PRODUCER = [sys.executable, "-m", "diaspora_stream.bench.producer"]
CONSUMER = [sys.executable, "-m", "diaspora_stream.bench.consumer"]


def _run(command: list[str], *args: str, env: dict[str, str] | None = None) -> Any:
    environment = {key: value for key, value in os.environ.items() if key != "DIASPORA_BENCH_MPI"}
    environment.update(env or {})
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=60, env=environment, check=False
    )


def _one_line_error(result: Any, fragment: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert fragment in lines[0]


def _report(stdout: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)


@pytest.fixture
def topic(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "root"
    driver = Driver(backend="files", options={"root_path": str(root)})
    driver.create_topic("bench", options={"num_partitions": 2})
    driver.close()
    return root, "bench"


def test_producer_then_consumer_with_selectivity(topic: tuple[Path, str], tmp_path: Path) -> None:
    root, name = topic
    config = tmp_path / "driver.json"
    config.write_text(json.dumps({"root_path": str(root)}))
    produced = _run(
        PRODUCER, "-d", "files", "-c", str(config), "-t", name, "-n", "40", "-m", "16",
        "-s", "100", "-b", "8", "-f", "10", "-p", "1",
    )  # fmt: skip
    assert produced.returncode == 0, produced.stderr
    assert produced.stderr == ""  # no progress bar when stderr is not a terminal
    lines = produced.stdout.splitlines()
    assert lines[:10] == [
        "--- Benchmark Options ---",
        "Driver: files",
        f"Driver config file: {config}",
        f"Topic: {name}",
        "Number of events: 40",
        "Data size: 100",
        "Metadata size: 16",
        "Batch size: 8",
        "Number of threads: 1",
        "Flush interval: 10",
    ]
    assert lines[10:12] == ["", "--- Benchmark Results ---"]
    report = _report(produced.stdout)
    assert report["Total events"] == "40"
    assert report["Throughput"].endswith(" events/s")
    assert report["Bandwidth"].endswith(" MB/s")
    consumed = _run(
        CONSUMER, "-d", "files", "--driver.root_path", str(root), "-t", name, "-n", "40",
        "-s", "0.25", "-i", "1", "--json",
    )  # fmt: skip
    assert consumed.returncode == 0, consumed.stderr
    document = json.loads(consumed.stdout)
    assert document["benchmark"] == "consumer"
    assert document["options"]["Data selectivity"] == 0.25
    assert document["results"]["total_events"] == 40
    assert document["results"]["data_bytes"] == 40 * 25
    text = _run(CONSUMER, "-d", "files", "--driver.root_path", str(root), "-t", name, "-n", "40")
    report = _report(text.stdout)
    assert report["Total events"] == "40"  # without the reference's stray " s"
    assert report["Data read"] == "4000 bytes"
    assert report["Data interest"] == "1" and report["Data selectivity"] == "1"
    no_data = _run(
        CONSUMER, "-d", "files", "--driver.root_path", str(root), "-t", name, "-n", "40",
        "--data-interest", "0", "--json",
    )  # fmt: skip
    assert json.loads(no_data.stdout)["results"]["data_bytes"] == 0


def test_producer_metadata_size_zero_and_json(topic: tuple[Path, str]) -> None:
    root, name = topic
    result = _run(
        PRODUCER, "--driver", "files", "--driver.root_path", str(root), "--topic", name,
        "--num-events", "30", "--metadata-size", "0", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["results"]["total_events"] == 30
    assert document["options"]["Metadata size"] == 0
    driver = Driver(backend="files", options={"root_path": str(root)})
    consumer = driver.open_topic(name).consumer("check")
    assert consumer.pull().wait(1000).metadata == 0
    consumer.close()
    driver.close()


def test_consumer_fails_clearly_when_the_topic_is_short(topic: tuple[Path, str]) -> None:
    root, name = topic
    assert _run(PRODUCER, "-d", "files", "--driver.root_path", str(root), "-t", name, "-n", "5")
    result = _run(
        CONSUMER, "-d", "files", "--driver.root_path", str(root), "-t", name, "-n", "6",
        "--timeout", "0.3",
    )  # fmt: skip
    _one_line_error(result, "delivered 5 of the 6 events")


def test_benchmark_argument_errors(topic: tuple[Path, str]) -> None:
    root, name = topic
    _one_line_error(
        _run(CONSUMER, "-d", "files", "-t", name, "-s", "1.5"),
        "Invalid value (should be between 0 and 1) for arg data-selectivity",
    )
    _one_line_error(
        _run(CONSUMER, "-d", "files", "-t", name, "-i", "-1"),
        "Invalid value (should be between 0 and 1) for arg data-interest",
    )
    _one_line_error(
        _run(PRODUCER, "-d", "files", "-c", "/nonexistent.json", "-t", name),
        "Could not open config file: /nonexistent.json",
    )
    _one_line_error(
        _run(PRODUCER, "-d", "files", "--driver.root_path", str(root), "-t", "absent"),
        "Topic 'absent' does not exist",
    )
    _one_line_error(_run(PRODUCER, "-t", name), "--driver")
    _one_line_error(_run(PRODUCER, "-d", "files", "-t", name, "-n", "-3"), "must be >= 0")


def test_memory_backend_creates_its_topic_and_mpi_without_mpi4py() -> None:
    result = _run(
        PRODUCER, "-d", "memory", "-t", "t", "-n", "20", "-m", "8", "-s", "10", "-b", "4",
        env={"OMPI_COMM_WORLD_SIZE": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        assert "mpi4py is not installed" in result.stderr
    assert _report(result.stdout)["Total events"] == "20"


class FakeComm:
    """A communicator of ``size`` processes whose other ranks report the same values."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.barriers = 0

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return self.size

    def Barrier(self) -> None:
        self.barriers += 1

    def reduce(self, value: float, op: Any = None, root: int = 0) -> float:
        return value if op is not None else value * self.size


def test_results_are_aggregated_over_the_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("diaspora_stream.bench.mpi._mpi_max", lambda: "max")
    driver = Driver(backend="memory")
    comm = FakeComm(3)
    mpi = MpiContext(comm)
    result = run_producer(
        driver, ProducerSettings(topic="t", num_events=10, data_size=4, metadata_size=6), mpi
    )
    assert (result.total_events, result.processes) == (30, 3)
    assert comm.barriers >= 2
    consumed = run_consumer(
        driver, ConsumerSettings(topic="t", num_events=10, data_selectivity=0.5), MpiContext()
    )
    assert (consumed.total_events, consumed.data_bytes) == (10, 20)


def test_building_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_metadata(0, 2) == [b"0", b"0"]
    (text,) = make_metadata(10, 1, seed=1)
    assert len(text) == 10 and json.loads(text).isalnum()
    descriptor = DataDescriptor("x", 100)
    assert make_data_selector(1.0, 1.0)(None, descriptor) is descriptor
    assert make_data_selector(1.0, 0.25)(None, descriptor).size == 25
    assert make_data_selector(0.0, 1.0)(None, descriptor) is None
    monkeypatch.delenv("DIASPORA_BENCH_MPI", raising=False)
    monkeypatch.setenv("PMI_SIZE", "2")
    assert launched_under_mpi()
    monkeypatch.setenv("DIASPORA_BENCH_MPI", "0")
    assert not launched_under_mpi()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    quiet = io.StringIO()
    Progress(10, "x", stream=quiet).update(5)
    assert quiet.getvalue() == ""
    terminal = _Terminal()
    bar = Progress(10, "producing", stream=terminal)
    bar.update(5)
    bar.close()
    assert "producing [###############...............]  50% 5/10" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")
