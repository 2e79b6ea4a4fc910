"""The round-trip benchmark ends within its budget, takes driver options with ``"{tmp}"``, and
leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from diaspora_stream.bench.roundtrip import Workload, run


def test_a_workload_past_its_budget_is_reported_unfinished(tmp_path: Path) -> None:
    # Far more events than a microsecond allows: the producer stops after its first check.
    workload = Workload("many", 64, 16, 1_000_000)
    (result,) = run("memory", {}, [workload], repeat=3, budget_s=1e-6, parent=str(tmp_path))
    assert not result.finished
    assert 0 < result.events_done < workload.num_events
    assert result.produce_events_per_s > 0 and result.consume_events_per_s > 0


def test_a_workload_within_its_budget_finishes(tmp_path: Path) -> None:
    workload = Workload("few", 64, 16, 300)
    (result,) = run("memory", {}, [workload], repeat=1, budget_s=600, parent=str(tmp_path))
    assert result.finished and result.events_done == 300


def test_options_get_the_temporary_directory_which_is_removed(tmp_path: Path) -> None:
    options = {"root_path": "{tmp}/topics"}
    run("files", options, [Workload("few", 64, 16, 200)], 1, 600, parent=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_the_command_leaves_nothing_in_the_working_directory(tmp_path: Path) -> None:
    """A backend run with its default options (relative paths) writes in the run's temporary
    directory, not in the caller's."""
    output = tmp_path / "out.json"
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "diaspora_stream.bench.roundtrip", "--backend", "files"),
            *("--scale", "0.001", "--repeat", "1", "--budget", "120", "--json", "out.json"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["out.json"]
    results = json.loads(output.read_text(encoding="utf-8"))
    assert [result["finished"] for result in results] == [True, True, True]


@pytest.mark.parametrize(
    ("options", "message"),
    [("[1]", "must be a JSON object"), ("{", "not valid JSON")],
)
def test_bad_options_are_refused(options: str, message: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "diaspora_stream.bench.roundtrip", "--backend-options", options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2 and message in completed.stderr


def test_the_budget_must_be_positive() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "diaspora_stream.bench.roundtrip", "--budget", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2 and "must be a number of seconds > 0" in completed.stderr


def test_temporary_directory_detection() -> None:
    from diaspora_stream.backend.placeholders import points_at_temporary_directory

    inside = os.path.join(tempfile.gettempdir(), "somewhere")
    assert points_at_temporary_directory({"root_path": "{tmp}"})
    assert points_at_temporary_directory({"nested": {"paths": [inside]}})
    assert not points_at_temporary_directory({})
    assert not points_at_temporary_directory({"root_path": "./data"})
