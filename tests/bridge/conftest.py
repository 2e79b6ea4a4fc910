"""Fixtures of the bridge tests: the double of ``pydiaspora_stream_api`` made importable."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
#: Directory holding the double (and the defective variants the tests build on it).
DOUBLE_DIR = HERE / "binding_double"
if str(DOUBLE_DIR) not in sys.path:
    sys.path.insert(0, str(DOUBLE_DIR))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def double_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """PYTHONPATH with the double's directory first, for subprocesses; yields its value."""
    value = os.pathsep.join(filter(None, [str(DOUBLE_DIR), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", value)
    yield value
