"""The pieces of the researcher's journey (``journey.py``) that need no nox run.

``nox -s template`` runs the journey itself; these tests keep its persistent storage change in
step with the template between those runs, and check its table and its tree comparison.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bake import render
from journey import PERSISTENT_PATCH, StepResult, project_tree, table

pytest.importorskip("cookiecutter", reason="cookiecutter is in the dev extra")


def test_persistent_patch_applies_to_a_freshly_generated_project(tmp_path: Path) -> None:
    """The patch fits the template as it is (else: regenerate it, see journey.py)."""
    project = render({}, tmp_path)
    completed = subprocess.run(
        ["git", "apply", "--check", str(PERSISTENT_PATCH)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_table_gives_every_step_with_its_outcome() -> None:
    results = [
        StepResult("1. generation", 12.4, "ok"),
        StepResult("2. persistent storage", 3.0, "FAILED: MUST conformance is not 100 %"),
        StepResult("3. bench"),
    ]
    lines = table(results).splitlines()
    assert lines[2] == "| 1. generation | 12 | ok |"
    assert lines[3] == "| 2. persistent storage | 3 | FAILED: MUST conformance is not 100 % |"
    assert lines[4] == "| 3. bench |  | not run |"
    assert lines[5] == "| total | 15 | |"


def test_tree_ignores_run_outputs_but_not_topic_data(tmp_path: Path) -> None:
    for relative in (
        "README.md",
        ".nox/tests/bin/python",
        "bench-results/comparison.md",
        "src/pkg/__pycache__/driver.cpython-311.pyc",
        "my_engine_data/topics/t/0.log",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x", encoding="utf-8")
    assert "my_engine_data/topics/t/0.log" in project_tree(tmp_path)
    assert not any(path.startswith((".nox", "bench-results")) for path in project_tree(tmp_path))
    assert not any("__pycache__" in path for path in project_tree(tmp_path))
