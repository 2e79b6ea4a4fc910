"""The reference's own Python tests (reference-api.md §9.3), run the way its test script runs
them (§9.1): each file with ``python -m unittest -v <module>`` in a process of its own, from a
fresh working directory (for ``files``, the driver's default ``./diaspora_data``, created empty
before each file, as ``files-driver-pre-test.sh`` does), with the backend given by
``DIASPORA_TEST_BACKEND``; on ``simple`` (the reference's default, through its
``"simple:libdiaspora-simple-backend.so"`` name) and on ``files``.

The files are in ``reference_unittests/`` (pytest does not collect them); their 44 tests are
the reference's, one for one, so these checks keep the 44/44 from regressing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DIRECTORY = Path(__file__).resolve().parent / "reference_unittests"

#: Each reference test file and the number of tests it holds (44 in all).
FILES = {
    "test_driver_factory": 3,
    "test_driver": 5,
    "test_topic_handle": 1,
    "test_producer": 2,
    "test_consumer": 4,
    "test_concurrent_producer_consumer": 3,
    "test_data_descriptor": 11,
    "test_validator": 7,
    "test_serializer": 5,
    "test_partition_selector": 3,
}

BACKENDS = {"simple": "simple:libdiaspora-simple-backend.so", "files": "files"}


def test_the_files_hold_the_references_44_tests() -> None:
    assert sum(FILES.values()) == 44
    on_disk = {path.stem for path in DIRECTORY.glob("test_*.py")}
    assert on_disk == set(FILES)
    for module, count in FILES.items():
        text = (DIRECTORY / f"{module}.py").read_text(encoding="utf-8")
        assert len(re.findall(r"^    def test_", text, re.MULTILINE)) == count, module


@pytest.mark.parametrize("module", list(FILES))
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_reference_file_passes_unchanged(backend: str, module: str, tmp_path: Path) -> None:
    if backend == "files":
        (tmp_path / "diaspora_data").mkdir()
    env = {
        **os.environ,
        "DIASPORA_TEST_BACKEND": BACKENDS[backend],
        "DIASPORA_TEST_BACKEND_ARGS": "{}",
        "DIASPORA_TEST_TOPIC_ARGS": "{}",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(DIRECTORY), os.environ.get("PYTHONPATH", "")])
        ),
    }
    run = subprocess.run(
        [sys.executable, "-m", "unittest", "-v", module],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # the reference script's per-file timeout
        check=False,
    )
    report = run.stderr
    assert run.returncode == 0, report
    assert f"Ran {FILES[module]} test" in report, report
    assert re.search(r"^OK$", report, re.MULTILINE), report
    assert len(re.findall(r" \.\.\. ok$", report, re.MULTILINE)) == FILES[module], report
