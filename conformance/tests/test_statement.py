"""The conformance statement is copied from the report into a README between its markers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diaspora_stream_conformance.statement import BEGIN, END, StatementError, main, update_readme

STATEMENT = "my_engine conforms to diaspora-stream-conformance 1.0: MUST 100.0 %"


def _report(directory: Path) -> Path:
    directory.mkdir()
    report = {"statement": STATEMENT, "started": "2026-01-02T03:04:05Z"}
    (directory / "conformance.json").write_text(json.dumps(report), encoding="utf-8")
    return directory


def test_the_statement_replaces_the_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{BEGIN}\nold sentence\n{END}\n\nrest\n", encoding="utf-8")
    assert main([str(_report(tmp_path / "r")), str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == (
        f"# x\n\n{BEGIN}\n{STATEMENT} (run of 2026-01-02)\n{END}\n\nrest\n"
    )


def test_a_readme_without_markers_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# x\n", encoding="utf-8")
    with pytest.raises(StatementError, match="add the two lines"):
        update_readme(_report(tmp_path / "r"), readme)
    assert readme.read_text(encoding="utf-8") == "# x\n"


def test_a_missing_report_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEGIN}\n{END}\n", encoding="utf-8")
    with pytest.raises(StatementError, match="run the conformance suite first"):
        update_readme(tmp_path / "nowhere", readme)
