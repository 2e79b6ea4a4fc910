"""Fixtures of the files backend tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from files_helpers import fixture_directory, make_writable

from diaspora_stream_files import FilesDriver


@pytest.fixture(scope="session")
def fixture_dir() -> Path:
    """Directory of the C++ fixture (read only: copy before opening)."""
    return fixture_directory()


@pytest.fixture
def cxx_root(fixture_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the fixture's ``root/``."""
    root = tmp_path / "cxx-root"
    shutil.copytree(fixture_dir / "root", root)
    make_writable(root)
    return root


@pytest.fixture
def make_driver(tmp_path: Path) -> Callable[..., FilesDriver]:
    """``make_driver(**options)``: a driver whose ``root_path`` defaults to ``tmp_path/root``."""

    def make(**options: Any) -> FilesDriver:
        options.setdefault("root_path", str(tmp_path / "root"))
        return FilesDriver(options)

    return make
