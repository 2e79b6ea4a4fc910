"""Every Python example written in the documentation's pages runs: here those that need no
service (the kafka and mochi backends' tests run theirs against a real broker and service)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from api_helpers import subprocess_env
from doc_snippets import Snippet, snippets, snippets_needing


def test_the_pages_have_python_examples_and_each_is_run_somewhere() -> None:
    found = snippets()
    assert found, "no ```python block found under docs/: has the extraction broken?"
    needs = {snippet.needs for snippet in found}
    assert needs <= {"", "kafka", "mochi", "pytest"}
    # Each kind has a runner: this module for "" and "pytest", the backends' tests for the rest.
    assert {"kafka", "mochi"} <= needs


@pytest.mark.parametrize("snippet", snippets_needing(""), ids=str)
def test_example_runs(snippet: Snippet, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", snippet.code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert result.returncode == 0, f"{snippet} failed:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("snippet", snippets_needing("pytest"), ids=str)
def test_example_test_module_collects_and_passes_one_test(snippet: Snippet, tmp_path: Path) -> None:
    """The conformance subclass example: pytest collects the whole suite from it, and one of its
    tests passes on the backend it names."""
    (tmp_path / "test_example.py").write_text(snippet.code, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_example.py"]
    collected = subprocess.run(
        [*command, "--collect-only"], cwd=tmp_path, capture_output=True, text=True,
        env=subprocess_env(), timeout=300,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "test_acknowledge_then_resume_by_name" in collected.stdout
    ran = subprocess.run(
        [*command, "-k", "test_acknowledge_then_resume_by_name"], cwd=tmp_path,
        capture_output=True, text=True, env=subprocess_env(), timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout
