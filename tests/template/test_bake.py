"""The backend template, baked with cookiecutter's Python API into ``tmp_path``.

Checks the refusals of bad answers (``local_extensions.py``), the rendered files (no Jinja
left, GitHub expressions kept, valid TOML, YAML and Python, lint-clean), and runs the generated
project's tests and conformance suite in a child process of this environment's Python: the
project's
``src/`` and a stand-in ``.dist-info`` for its entry points go on ``PYTHONPATH``, so nothing is
installed into this environment. ``nox -s template`` does the full check (fresh virtual
environments, real installs).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from bake import (
    ANSWER_SETS,
    REFUSED_ANSWERS,
    clean_environment,
    entry_point_shim,
    read_report,
    refusal_output,
    render,
)
from journey import PERSISTENT_PATCH

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

pytest.importorskip("cookiecutter", reason="cookiecutter is in the dev extra")

#: Directories a generated project must not contain (caches copied from the template).
STRAY = {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", ".hypothesis", ".nox"}


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every answer set of ``bake.ANSWER_SETS``, rendered once for the module."""
    root = tmp_path_factory.mktemp("baked")
    return {label: render(answers, root / label) for label, answers in ANSWER_SETS.items()}


def _files(project: Path) -> list[Path]:
    """Every file of ``project``."""
    return sorted(path for path in project.rglob("*") if path.is_file())


@pytest.mark.parametrize(("answers", "message"), REFUSED_ANSWERS, ids=lambda v: str(v)[:40])
def test_bad_answers_are_refused_with_one_line(
    answers: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as refusal:
        render(answers, tmp_path)
    text = str(refusal.value.code)
    assert text.startswith("ERROR: ") and "\n" not in text and message in text, text
    assert list(tmp_path.iterdir()) == [], "cookiecutter left a half-made project"


@pytest.mark.parametrize(("answers", "message"), REFUSED_ANSWERS[:1] + REFUSED_ANSWERS[-1:])
def test_the_refusal_is_the_last_line_printed(
    answers: dict[str, str], message: str, tmp_path: Path
) -> None:
    """On the command line, the one-line reason ends the output: no traceback after it."""
    status, output = refusal_output(answers, tmp_path)
    assert status == 1
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("ERROR: ") and message in lines[-1], output
    assert "Traceback" not in output, output


def test_layout(baked: dict[str, Path]) -> None:
    project = baked["defaults"]
    assert project.name == "my_engine"
    # The data directory driver.py suggests as the default is kept out of git.
    assert "my_engine_data/" in (project / ".gitignore").read_text(encoding="utf-8").split()
    relative = {path.relative_to(project).as_posix() for path in _files(project)}
    assert relative == {
        ".github/workflows/ci.yml",
        ".gitignore",
        "LICENSE",
        "README.md",
        "docs/conf.py",
        "docs/index.md",
        "expected-failures.txt",
        "noxfile.py",
        "pyproject.toml",
        "src/diaspora_stream_my_engine/__init__.py",
        "src/diaspora_stream_my_engine/driver.py",
        "src/diaspora_stream_my_engine/py.typed",
        "src/diaspora_stream_my_engine/state.py",
        "src/diaspora_stream_my_engine/topic.py",
        "tests/test_backend.py",
        "tests/conftest.py",
        "tests/test_conformance.py",
    }


def test_layout_of_a_full_level_project(baked: dict[str, Path]) -> None:
    """The full-level choice: its own modules in place of state.py, nothing of the staging."""
    project = baked["full-bsd-title"]
    package = project / "src/diaspora_stream_ring2"
    assert sorted(path.name for path in package.iterdir()) == [
        "__init__.py",
        "consumer.py",
        "driver.py",
        "engine.py",
        "producer.py",
        "py.typed",
        "topic.py",
    ]
    assert not (project / "_level_full").exists()
    assert "DriverInterface" in (package / "driver.py").read_text(encoding="utf-8")
    tests = (project / "tests/test_backend.py").read_text(encoding="utf-8")
    assert "RingBufferProducer" in tests and "topic.append(" not in tests
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "*full-level* backend" in readme and "`producer.py`" in readme
    assert "state.py" not in readme and "*log-level*" not in readme
    for path in package.glob("*.py"):
        assert "CHANGE ME" in path.read_text(encoding="utf-8") or path.name == "__init__.py"


@pytest.mark.parametrize("label", list(ANSWER_SETS))
def test_no_template_syntax_left(baked: dict[str, Path], label: str) -> None:
    project = baked[label]
    for path in _files(project):
        text = path.read_text(encoding="utf-8")
        for marker in ("{%", "%}", "{#", "cookiecutter."):
            assert marker not in text, f"{path}: {marker!r} left by the template"
        outside_expressions = re.sub(r"\$\{\{.*?\}\}", "", text)
        assert "{{" not in outside_expressions, f"{path}: '{{{{' left by the template"
        assert not STRAY & set(path.relative_to(project).parts), path


@pytest.mark.parametrize("label", list(ANSWER_SETS))
def test_files_parse(baked: dict[str, Path], label: str) -> None:
    project = baked[label]
    answers = ANSWER_SETS[label]
    name = answers.get("backend_name", "my_engine")
    title = answers.get("title", "".join(part.title() for part in name.split("_")))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    metadata = pyproject["project"]
    assert metadata["name"] == "diaspora-stream-" + name.replace("_", "-")
    assert metadata["license"] == answers.get("licence", "Apache-2.0")
    assert metadata["description"] == answers.get(
        "short_description", f"A diaspora-stream backend for the {name} streaming engine"
    )
    assert metadata["authors"][0]["name"] == answers.get("author", "Your Name")
    assert metadata["entry-points"]["diaspora_stream.drivers"] == {
        name: f"diaspora_stream_{name}:{title}Driver"
    }
    assert sorted(metadata["optional-dependencies"]) == ["docs", "lint", "test"]
    assert "exclude" not in pyproject["tool"]["ruff"], "the template-only ruff block leaked"
    for path in project.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), str(path))
    licence = (project / "LICENSE").read_text(encoding="utf-8")
    expected = {"Apache-2.0": "Apache License", "MIT": "MIT License", "BSD-3-Clause": "BSD 3"}
    assert expected[answers.get("licence", "Apache-2.0")] in licence
    assert answers.get("author", "Your Name") in licence


def test_workflow_keeps_github_expressions(baked: dict[str, Path]) -> None:
    text = (baked["defaults"] / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    assert "${{ matrix.python-version }}" in text
    assert "${{ vars.DIASPORA_STREAM_REPOSITORY }}" in text
    workflow: dict[Any, Any] = yaml.safe_load(text)
    steps = workflow["jobs"]["nox"]["steps"]
    assert any(step.get("run") == "nox -s tests conformance lint" for step in steps)


def test_noxfile_sessions(baked: dict[str, Path]) -> None:
    tree = ast.parse((baked["defaults"] / "noxfile.py").read_text(encoding="utf-8"))
    sessions = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any("session" in ast.unparse(decorator) for decorator in node.decorator_list)
    }
    assert sessions == {"tests", "conformance", "bench", "lint", "docs"}


@pytest.mark.parametrize("label", list(ANSWER_SETS))
def test_generated_project_is_lint_clean(baked: dict[str, Path], label: str) -> None:
    if shutil.which("ruff") is None and not _has_module("ruff"):
        pytest.skip("ruff is not installed")
    project = baked[label]
    for command in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        completed = subprocess.run(
            [sys.executable, "-m", "ruff", *command],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("label", ["defaults", "full-bsd-title"])
def test_generated_project_type_checks(baked: dict[str, Path], tmp_path: Path, label: str) -> None:
    if not _has_module("mypy"):
        pytest.skip("mypy is not installed")
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"), "src", "tests"],
        cwd=baked[label],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _has_module(name: str) -> bool:
    """Whether this environment's Python can import ``name``."""
    completed = subprocess.run(
        [sys.executable, "-c", f"import {name}"], capture_output=True, check=False
    )
    return completed.returncode == 0


def _run_generated_pytest(
    project: Path, tmp_path: Path, *arguments: str
) -> subprocess.CompletedProcess[str]:
    """Run pytest in ``project`` with its package and entry points importable, not installed."""
    shim = entry_point_shim(project, tmp_path / "entry-points")
    path = os.pathsep.join(
        [str(project / "src"), str(shim), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments],
        cwd=project,
        env=clean_environment(PYTHONPATH=path),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("label", "backend"), [("defaults", "my_engine"), ("full-bsd-title", "ring2")]
)
@pytest.mark.slow
def test_generated_tests_and_conformance_pass(
    baked: dict[str, Path], tmp_path: Path, label: str, backend: str
) -> None:
    """Right after generation, with no edits: unit tests and the whole suite (ci profile), for
    a log-level and a full-level project."""
    project = baked[label]
    report = tmp_path / "report"
    completed = _run_generated_pytest(
        project, tmp_path, "--diaspora-profile", "ci", "--diaspora-report", str(report)
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]
    assert re.search(r"\b\d+ passed", completed.stdout)
    data = read_report(report)
    assert data["backend"] == backend
    assert data["capabilities"]["persistent_topics"] is False
    assert data["summary"]["must"]["percent"] == 100.0
    assert not [r for r in data["results"] if r["outcome"] in ("failed", "error")]
    unit = [line for line in completed.stdout.splitlines() if "test_backend.py" in line]
    assert unit, "the generated unit tests did not run"


def test_expected_failures_file_is_honoured(baked: dict[str, Path], tmp_path: Path) -> None:
    """An entry of expected-failures.txt turns the matching suite test into an expected one."""
    project = tmp_path / "project"
    shutil.copytree(baked["defaults"], project)
    entry = "TopicRules::test_duplicate_create_raises"
    with open(project / "expected-failures.txt", "a", encoding="utf-8") as stream:
        stream.write(f"{entry}  # checking the wiring\nBehaviourTests::test_no_such_test\n")
    report = tmp_path / "report"
    completed = _run_generated_pytest(
        project,
        tmp_path,
        "tests/conftest.py",
        "tests/test_conformance.py",
        "-k",
        "test_duplicate_create_raises",
        "--diaspora-report",
        str(report),
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    data = json.loads((report / "conformance.json").read_text(encoding="utf-8"))
    ran = [result for result in data["results"] if result["outcome"] != "not run"]
    outcomes = {result["behaviour_id"]: result["outcome"] for result in ran}
    assert outcomes == {entry: "xpassed"}
    assert data["unmatched_expected_failures"] == ["BehaviourTests::test_no_such_test"]


def _make_persistent(project: Path, driver_options: str) -> None:
    """The first change the generated README proposes, for real: the journey's patch (topics
    in files under a ``root_path`` option, declared persistent); ``driver_options`` becomes
    ``DRIVER_OPTIONS`` in ``tests/conftest.py``."""
    subprocess.run(
        ["git", "apply", "--whitespace=nowarn", str(PERSISTENT_PATCH)], cwd=project, check=True
    )
    conftest = project / "tests/conftest.py"
    text = conftest.read_text(encoding="utf-8")
    old = 'DRIVER_OPTIONS: dict[str, Any] = {"root_path": "{tmp}"}'
    assert old in text
    new = f"DRIVER_OPTIONS: dict[str, Any] = {driver_options}"
    conftest.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("driver_options", ['{"root_path": "{tmp}"}', "{}"])
def test_unit_tests_survive_persistent_storage(
    baked: dict[str, Path], tmp_path: Path, driver_options: str
) -> None:
    """Topics that outlive the driver, with a temporary root or the default one: the generated
    unit tests still pass (no "Topic already exists"), and the persistence test checks it."""
    project = tmp_path / "project"
    shutil.copytree(baked["defaults"], project)
    _make_persistent(project, driver_options)
    completed = _run_generated_pytest(project, tmp_path, "tests/test_backend.py", "-v")
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]
    assert "test_topics_outlive_the_driver_as_declared PASSED" in completed.stdout


@pytest.mark.parametrize(
    ("driver_options", "warned"), [("{}", True), ('{"root_path": "{tmp}"}', False)]
)
def test_suite_warns_of_persistent_topics_outside_a_temporary_directory(
    baked: dict[str, Path], tmp_path: Path, driver_options: str, warned: bool
) -> None:
    project = tmp_path / "project"
    shutil.copytree(baked["defaults"], project)
    _make_persistent(project, driver_options)
    completed = _run_generated_pytest(
        project, tmp_path, "tests/test_conformance.py", "-k", "test_duplicate_create_raises"
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]
    warnings = [line for line in completed.stdout.splitlines() if "point at no temporary" in line]
    assert len(warnings) == (1 if warned else 0), completed.stdout[-3000:]
