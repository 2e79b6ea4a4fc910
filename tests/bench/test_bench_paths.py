"""The paths benchmark measures each side in a child process, alternates sides, and reports
every figure with the ratios computed from the medians."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from diaspora_stream.bench import paths


def test_a_measurement_runs_in_a_child_process_and_reads_every_byte(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_bytes(bytes(range(256)) * 64)  # 16 KiB: four events of 4 KiB
    spec = {"kind": "raw_read", "path": str(data), "size": 4096, "events": 4}
    wall, cpu = paths.measure(spec)
    assert wall > 0 and cpu > 0


def test_a_quick_run_reports_every_ratio_from_the_medians(tmp_path: Path) -> None:
    output = tmp_path / "paths.json"
    assert paths.main(["--quick", "--only", "small", "--only", "large", "--json", str(output)]) == 0
    results = json.loads(output.read_text())
    small = results["small_data"]
    runs = small["runs"]
    assert set(runs) == {"metadata_only", "with_1k_data", "file_write_mb_s"}
    for index, clock in enumerate(("wall", "cpu")):
        top = statistics.median(rate[index] for rate in runs["with_1k_data"])
        bottom = statistics.median(rate[index] for rate in runs["metadata_only"])
        assert small["ratio"][clock] == top / bottom
    assert [row["size"] for row in results["large_data"]] == paths.LARGE_SIZES
    for row in results["large_data"]:
        assert set(row["runs"]) == {"raw", "default", "bytearray", "pull_many"}
        assert all(min(rate) > 0 for rates in row["runs"].values() for rate in rates)
        raw = statistics.median(rate[0] for rate in row["runs"]["raw"])
        default = statistics.median(rate[0] for rate in row["runs"]["default"])
        assert row["default_over_raw"]["wall"] == default / raw


def test_sides_are_alternated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str] = []

    def fake_measure(spec: dict[str, object]) -> tuple[float, float]:
        calls.append(str(spec["side"]))
        return 1.0, 1.0

    monkeypatch.setattr(paths, "measure", fake_measure)
    run = paths._Run(str(tmp_path), repeat=3)
    run.sides({name: {"side": name} for name in ("a", "b", "c")}, fresh_topic=True)
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
