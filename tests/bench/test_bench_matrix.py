"""The benchmark matrix on a tiny scale: every installed backend, results, table, ratios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from diaspora_stream.bench.matrix import default_cases, installed_backends


def test_default_matrix_shape() -> None:
    cases = default_cases()
    assert len(cases) == 2 * 4 * 2 * 2
    assert {c.data_size for c in cases} == {0, 1024, 65536, 2**20}
    assert {c.metadata_size for c in cases} == {64, 256}
    assert {c.partitions for c in cases} == {1, 4}
    assert all(c.selectivities == ((1.0, 0.25) if c.data_size else (1.0,)) for c in cases)
    quick = default_cases(quick=True)
    assert all(q.num_events < c.num_events for q, c in zip(quick, cases, strict=True))
    assert {c.num_events for c in default_cases(counts=[3, 5])} == {3, 5}
    assert {"files", "memory"} <= set(installed_backends())
    assert "simple" not in installed_backends()  # an alias of memory


def test_matrix_run(tmp_path: Path) -> None:
    output = tmp_path / "out"
    command = [sys.executable, "-m", "diaspora_stream.bench.matrix", "--num-events", "3"]
    command += ["--output", str(output), "--no-plots", "--workdir", str(tmp_path), "--repeat", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    document = json.loads((output / "results.json").read_text())
    backends = {row["backend"] for row in document["results"]}
    assert {"files", "memory"} <= backends
    assert document["modes"]["files"] == "separate driver"
    assert document["modes"]["memory"] == "in-process"
    assert len(document["baselines"]) == 8
    per_backend = 32 + 56  # producer rows + consumer rows (two selectivities with data)
    assert len(document["results"]) == per_backend * len(backends)
    row = next(
        r
        for r in document["results"]
        if r["backend"] == "files" and r["side"] == "consumer" and r["selectivity"] == 0.25
        and r["data_size"] == 1024
    )  # fmt: skip
    assert row["data_bytes"] == 3 * 256
    assert row["ratio_file"] > 0 and row["ratio_tcp"] > 0 and row["ratio_memcpy"] > 0
    table = (output / "results.md").read_text()
    assert "| backend | side | metadata | data |" in table
    assert table.count("\n| files |") == per_backend
