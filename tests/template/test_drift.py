"""The drift check (``nox -s drift``) in the repository's test command, and tests of it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bake import render
from drift import REFERENCE_ANSWERS, check, compare, reference_backends

pytest.importorskip("cookiecutter", reason="cookiecutter is in the dev extra")


@pytest.mark.parametrize("name", reference_backends())
def test_reference_backend_scaffolding_matches_template(name: str, tmp_path: Path) -> None:
    problems = check(name, workdir=tmp_path)
    assert not problems, f"reference_backends/{name} drifted from the template:\n" + "\n".join(
        problems
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template rendered for a backend named ``files``."""
    answers = {"backend_name": "files", **REFERENCE_ANSWERS}
    return render(answers, tmp_path_factory.mktemp("rendered"))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


EDITS: dict[str, tuple[Callable[[Path], None], str]] = {
    "entry point": (
        lambda p: _edit(p / "pyproject.toml", '"files" = ', "file = "),
        "entry points of 'diaspora_stream.drivers'",
    ),
    "extra": (
        lambda p: _edit(p / "pyproject.toml", "lint = [", "linters = ["),
        "optional-dependency extras",
    ),
    "tool section": (
        lambda p: _edit(p / "pyproject.toml", "line-length = 100", "line-length = 88"),
        "[tool.ruff]",
    ),
    "build system": (
        lambda p: _edit(p / "pyproject.toml", "setuptools>=77", "hatchling"),
        "[build-system]",
    ),
    "session": (
        lambda p: _edit(p / "noxfile.py", "def lint(", "def check("),
        "noxfile.py: sessions",
    ),
    "wiring": (
        lambda p: _edit(p / "tests/test_conformance.py", "os.environ.setdefault", "print"),
        "tests/test_conformance.py: the suite is wired differently",
    ),
    "workflow": (
        lambda p: _edit(p / ".github/workflows/ci.yml", "nox -s tests conformance lint", "nox"),
        ".github/workflows/ci.yml: differs",
    ),
    "readme": (
        lambda p: _edit(p / "README.md", "## Expected failures", "## Known failures"),
        "README.md: no section 'Expected failures'",
    ),
    "expected failures": (
        lambda p: (p / "expected-failures.txt").unlink(),
        "expected-failures.txt: missing",
    ),
}


def test_identical_scaffolding_has_no_drift(rendered: Path) -> None:
    assert compare(rendered, rendered) == []


def test_backend_options_and_docstrings_are_not_drift(rendered: Path, tmp_path: Path) -> None:
    reference = shutil.copytree(rendered, tmp_path / "reference")
    wiring = reference / "tests/test_conformance.py"
    _edit(
        wiring,
        ", DRIVER_OPTIONS)",
        ', {"a": "{tmp}"})',
    )  # options written in place rather than imported from conftest
    _edit(wiring, '"""The whole conformance suite', '"""Another docstring; the whole suite')
    assert compare(rendered, reference) == []


@pytest.mark.parametrize("kind", list(EDITS))
def test_drift_is_reported(kind: str, rendered: Path, tmp_path: Path) -> None:
    reference = shutil.copytree(rendered, tmp_path / "reference")
    edit, message = EDITS[kind]
    edit(reference)
    problems = compare(rendered, reference)
    assert problems, f"a changed {kind} went unnoticed"
    assert any(message in problem for problem in problems), problems
