"""The benchmark programs, the workload matrix and ``diaspora-ctl`` through the bridge (over the
double of ``pydiaspora_stream_api``), as the guide ``docs/other-languages.md`` runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from diaspora_stream.api import Driver

CTL_TESTS = Path(__file__).resolve().parent.parent / "ctl"
if str(CTL_TESTS) not in sys.path:
    sys.path.insert(0, str(CTL_TESTS))

from ctl_helpers import (  # noqa: E402
    Daemon,
    create_topic,
    is_fifo,
    produce,
    read_events,
    wait_events,
    wait_until,
    write_fifo,
)


def _bridged_files(root: Path) -> dict[str, Any]:
    return {
        "module": "pydiaspora_stream_api",
        "backend": "files",
        "options": {"root_path": str(root)},
        "capabilities": {"persistent_topics": True},
    }


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "DIASPORA_BENCH_MPI"}
    return subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


def test_benchmarks_through_the_bridge(tmp_path: Path, double_on_path: str) -> None:
    config = tmp_path / "bridged.json"
    config.write_text(json.dumps(_bridged_files(tmp_path / "root")))
    common = ["-d", "binding", "-c", str(config), "-t", "bench", "-n", "50", "--json"]
    produced = _run(
        "-m", "diaspora_stream.bench.producer", *common, "-s", "100", "-m", "16", "-b", "8",
        "--create-topic", "--topic.num_partitions", "2",
    )  # fmt: skip
    assert produced.returncode == 0, produced.stderr
    assert json.loads(produced.stdout)["results"]["total_events"] == 50
    consumed = _run("-m", "diaspora_stream.bench.consumer", *common, "-s", "0.5")
    assert consumed.returncode == 0, consumed.stderr
    results = json.loads(consumed.stdout)["results"]
    assert results["total_events"] == 50 and results["data_bytes"] == 50 * 50
    # The topic is a files topic: the backend itself reads it without the bridge.
    direct = Driver(backend="files", options={"root_path": str(tmp_path / "root")})
    assert len(direct.open_topic("bench").partitions) == 2


def test_the_matrix_compares_a_bridged_backend_with_a_python_one(
    tmp_path: Path, double_on_path: str
) -> None:
    output = tmp_path / "out"
    bridged = json.dumps({"module": "pydiaspora_stream_api", "backend": "memory"})
    result = _run(
        "-m", "diaspora_stream.bench.matrix", "--num-events", "2", "--repeat", "1",
        "--backend", "memory", "--backend", "binding", "--backend-options", f"binding={bridged}",
        "--output", str(output), "--no-plots", "--workdir", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads((output / "results.json").read_text())["results"]
    assert {row["backend"] for row in rows} == {"memory", "binding"}
    assert sum(row["backend"] == "binding" for row in rows) == sum(
        row["backend"] == "memory" for row in rows
    )


def _forward_config(tmp_path: Path, bridged_root: Path, files_root: Path) -> Path:
    bridged = {"type": "binding", "options": _bridged_files(bridged_root)}
    files = {"type": "files", "options": {"root_path": str(files_root)}}
    document = {
        "drivers": {"cxx": bridged, "py": files},
        "forward": [
            {"from": "cxx/out", "to": "py/in"},
            {"from": "py/back", "to": "cxx/home"},
        ],
    }
    path = tmp_path / "forward.yaml"
    path.write_text(json.dumps(document))  # JSON is YAML
    return path


@pytest.mark.parametrize("partitions", [1, 3])
def test_ctl_forward_between_a_bridged_topic_and_a_files_topic(
    tmp_path: Path, double_on_path: str, partitions: int
) -> None:
    bridged_root, files_root = tmp_path / "bridged", tmp_path / "files"
    create_topic(bridged_root, "out", partitions=partitions)
    create_topic(bridged_root, "home")
    create_topic(files_root, "in")
    create_topic(files_root, "back", partitions=2)
    produce(bridged_root, "out", [({"i": i}, bytes([i]) * i) for i in range(30)])
    produce(files_root, "back", [({"j": j}, b"b" * j) for j in range(20)])
    config = _forward_config(tmp_path, bridged_root, files_root)
    daemon = Daemon(["forward", "--config", str(config)], tmp_path)
    try:
        arrived = wait_events(files_root, "in", 30)
        returned = wait_events(bridged_root, "home", 20)
        assert daemon.stop() == 0, daemon.log()
    finally:
        daemon.kill()
    # The bridged source declares no acknowledgements: forwarded all the same, without errors.
    assert "cxx/out -> py/in: the source declares no acknowledgements" in daemon.log()
    assert "Error" not in daemon.log(), daemon.log()
    assert sorted((m["i"], d) for _, _, m, d in arrived) == [(i, bytes([i]) * i) for i in range(30)]
    assert sorted((m["j"], d) for _, _, m, d in returned) == [(j, b"b" * j) for j in range(20)]
    assert len(read_events(files_root, "in")) == 30


def test_ctl_fifo_produces_into_a_bridged_topic(tmp_path: Path, double_on_path: str) -> None:
    root, control, lines = tmp_path / "bridged", tmp_path / "control", tmp_path / "lines"
    create_topic(root, "lines")
    daemon = Daemon(
        [
            "fifo", "--driver", "binding", "--driver.backend", "files",
            "--driver.options.root_path", str(root),
            "--driver.capabilities.persistent_topics", "true", "--control-file", str(control),
        ],
        tmp_path,
    )  # fmt: skip
    try:
        wait_until(lambda: is_fifo(control) or not daemon.alive(), what="the control FIFO")
        assert daemon.alive(), daemon.log()
        write_fifo(control, f"{lines} -> lines\n".encode())
        wait_until(lambda: is_fifo(lines), what="the producer FIFO")
        write_fifo(lines, b"first\nsecond\n")
        events = wait_events(root, "lines", 2)
        assert [metadata for _, _, metadata, _ in events] == ["first", "second"]
        assert daemon.stop() == 0, daemon.log()
    finally:
        daemon.kill()
