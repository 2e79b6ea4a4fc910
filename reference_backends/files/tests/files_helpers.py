"""Helpers of the files backend tests (fixture location, directory snapshots)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

FIXTURE_NAME = "cxx-files-v0.5.2"
_DEFAULT_FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"


def fixture_directory() -> Path:
    """The C++ fixture: ``$DIASPORA_FIXTURES/cxx-files-v0.5.2`` (or ``$DIASPORA_FIXTURES`` if
    it is the fixture itself), else the project's ``tests/fixtures/cxx-files-v0.5.2``."""
    configured = os.environ.get("DIASPORA_FIXTURES")
    candidates = []
    if configured:
        candidates += [Path(configured) / FIXTURE_NAME, Path(configured)]
    candidates.append(_DEFAULT_FIXTURES / FIXTURE_NAME)
    for candidate in candidates:
        if (candidate / "root").is_dir() and (candidate / "expected_events.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"C++ fixture {FIXTURE_NAME} not found in {[str(c) for c in candidates]}; it ships in "
        "the repository's tests/fixtures/, or set DIASPORA_FIXTURES to the folder holding it"
    )


def make_writable(path: Path) -> None:
    """Add the owner's write permission to everything under ``path`` (fixture files are 0444)."""
    for directory, _, files in os.walk(path):
        os.chmod(directory, os.stat(directory).st_mode | stat.S_IWUSR | stat.S_IXUSR)
        for name in files:
            file_path = os.path.join(directory, name)
            os.chmod(file_path, os.stat(file_path).st_mode | stat.S_IWUSR)


def snapshot(path: Path) -> dict[str, Any]:
    """Everything under ``path``: relative path -> file bytes and mode, or ``"dir"``."""
    result: dict[str, Any] = {}
    if not path.exists():
        return result
    for directory, directories, files in os.walk(path):
        for name in directories:
            result[os.path.relpath(os.path.join(directory, name), path)] = "dir"
        for name in files:
            file_path = os.path.join(directory, name)
            with open(file_path, "rb") as stream:
                result[os.path.relpath(file_path, path)] = (
                    stream.read(),
                    os.stat(file_path).st_mode,
                )
    return result
