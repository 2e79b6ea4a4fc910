"""``python -m diaspora_stream.bench.plots``: redraws the plots of a results.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from diaspora_stream.bench.plots import main

COMMITTED_RUN = Path(__file__).resolve().parents[2] / "docs" / "bench-run" / "results.json"


def test_an_unreadable_results_file_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "results.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main([str(broken)])
    assert stopped.value.code == 2
    assert f"cannot read {broken}" in capsys.readouterr().err


def test_redraws_the_committed_run(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="plots need matplotlib (nox -s bench installs it)")
    results = tmp_path / "results.json"
    shutil.copy(COMMITTED_RUN, results)
    assert json.loads(results.read_text())["results"], "the committed run has no result"
    assert main([str(results), "--output", str(tmp_path / "plots")]) == 0
    for name in ("events_per_s.png", "mb_per_s.png", "ratio_to_file.png"):
        assert (tmp_path / "plots" / name).read_bytes().startswith(b"\x89PNG")
