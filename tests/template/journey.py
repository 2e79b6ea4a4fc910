"""The researcher's journey through ``docs/template.md``, step by step, timed.

``nox -s template`` runs it after ``bake.py``; ``python tests/template/journey.py [--keep DIR]``
too (with cookiecutter, cruft and nox installed). It follows the page as a user would, on one
project made with ``cruft create`` from a git repository of the template (``update.py``'s
helpers), with ``DIASPORA_STREAM_SOURCE`` naming this checkout:

1. **generation**: ``cruft create --no-input``, the project committed in git, ``nox -s tests``
   green; without ``DIASPORA_STREAM_SOURCE``, ``nox`` stops with one line saying what to set;
2. **persistent storage**: the change the generated README proposes first, for real
   (:data:`PERSISTENT_PATCH`: topics in files under a ``root_path`` option, found again by a
   new driver or another process, ``persistent_topics`` declared, ``{"root_path": "{tmp}"}`` in
   ``tests/conftest.py``), applied with ``git apply`` and committed; then
   ``nox -R -s tests conformance``: unit tests green, the suite at MUST 100 %, the capability
   declared in the report;
3. **benchmark**: ``nox -R -s bench -- --against files`` ends (each backend within its
   budget), writes ``bench-results/`` and leaves the project's tree as it was otherwise (no
   topic data);
4. **conformance statement**: ``nox -R -s conformance lint`` writes the report's statement
   into the README (checked against ``conformance.json``), and the project is lint clean;
5. **template update**: the README committed, the template improved (``update.py``),
   ``cruft check`` sees it, ``cruft update`` brings it, the persistent change is kept, and
   ``nox -r -s tests`` is green again.

Each step is timed; a table of step, seconds and outcome is printed at the end, also when a
step fails (the later ones are then "not run"). Nox reuses each session's virtual environment
from one step to the next, as a user who types ``nox -R`` after editing the package's code
(installed editable: nothing to reinstall) and ``nox -r`` after a template update (which may
change the dependencies: reinstall) would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bake import REPOSITORY, clean_environment, read_report
from update import (
    TEMPLATE_LINE,
    change_template,
    commit,
    create_project,
    run_quietly,
)

__all__ = ["PERSISTENT_PATCH", "StepResult", "project_tree", "run_journey", "table"]

#: The persistent storage change, as a diff of the project generated with the default answers.
#: To refresh it after a template change: generate, apply what still applies, fix the rest, and
#: save ``git diff`` of the result here.
PERSISTENT_PATCH = Path(__file__).resolve().parent / "persistent_storage.patch"
#: The project's name with the default answers.
PROJECT_NAME = "my_engine"
#: A guard against a step that never ends (a hang, not a slow run): no step comes near it.
STEP_GUARD_S = 1800
#: What runs may write inside the project (all ignored by git); anything else they add, such as
#: topic data in ``my_engine_data/``, is a finding.
RUN_OUTPUTS = (
    ".nox",
    ".git",
    "bench-results",
    "conformance-report",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
)


class JourneyError(Exception):
    """A step of the journey did not give what docs/template.md promises."""


@dataclass
class StepResult:
    """One step of the journey: its name, how long it took and how it ended."""

    name: str
    seconds: float | None = None
    outcome: str = "not run"


def _environment() -> dict[str, str]:
    """The user's environment: the plugin's variables unset, diaspora-stream from here."""
    return clean_environment(DIASPORA_STREAM_SOURCE=str(REPOSITORY))


def _nox(project: Path, *arguments: str) -> None:
    """Run the generated project's ``nox`` with ``arguments``, its output shown."""
    command = [sys.executable, "-m", "nox", *arguments]
    print(f"$ nox {' '.join(arguments)}  (in {project})", flush=True)
    try:
        completed = subprocess.run(
            command, cwd=project, env=_environment(), check=False, timeout=STEP_GUARD_S
        )
    except subprocess.TimeoutExpired:
        raise JourneyError(f"nox {' '.join(arguments)} did not end in {STEP_GUARD_S} s") from None
    if completed.returncode != 0:
        raise JourneyError(f"nox {' '.join(arguments)} failed (exit status {completed.returncode})")


def project_tree(project: Path) -> set[str]:
    """Every path in ``project`` but the run outputs git ignores (.nox, reports, results)."""
    paths = set()
    for path in project.rglob("*"):
        relative = path.relative_to(project)
        if relative.parts[0] not in RUN_OUTPUTS and "__pycache__" not in relative.parts:
            paths.add(relative.as_posix())
    return paths


def generate(workdir: Path) -> Path:
    """Step 1: cruft create, commit, ``nox -s tests``; the missing-source message."""
    _template, project = create_project(workdir)
    _nox(project, "-s", "tests")
    _check_missing_source(project)
    return project


def _check_missing_source(project: Path) -> None:
    """Without DIASPORA_STREAM_SOURCE, the generated noxfile stops with one line saying so."""
    unset = {k: v for k, v in _environment().items() if k != "DIASPORA_STREAM_SOURCE"}
    command = [sys.executable, "-m", "nox", "-r", "-s", "tests"]
    completed = subprocess.run(
        command, cwd=project, env=unset, capture_output=True, text=True, check=False
    )
    output = completed.stdout + completed.stderr
    said = [line for line in output.splitlines() if "set DIASPORA_STREAM_SOURCE" in line]
    if completed.returncode == 0 or not said:
        raise JourneyError(
            f"nox without DIASPORA_STREAM_SOURCE did not stop with a message:\n{output}"
        )
    print(f"without DIASPORA_STREAM_SOURCE, nox stops with: {said[0].strip()}")


def make_persistent(project: Path) -> None:
    """Step 2: apply and commit the persistent storage change, then tests and conformance."""
    run_quietly(["git", "apply", "--whitespace=nowarn", str(PERSISTENT_PATCH)], project)
    commit(project, "topics on disk under root_path, declared persistent")
    before = project_tree(project)
    _nox(project, "-R", "-s", "tests", "conformance")
    report = read_report(project / "conformance-report")
    must = report["summary"]["must"]
    if must["percent"] != 100.0:
        raise JourneyError(f"MUST conformance is not 100 % after the change: {must}")
    if not report["capabilities"].get("persistent_topics"):
        raise JourneyError("the report does not show persistent_topics declared")
    _check_same_tree(project, before, "the tests and the suite")


def benchmark(project: Path) -> None:
    """Step 3: the benchmark against files ends, writes its results and leaves no topic."""
    before = project_tree(project)
    _nox(project, "-R", "-s", "bench", "--", "--against", "files")
    results = project / "bench-results"
    for name in ("comparison.md", f"roundtrip-{PROJECT_NAME}.json", "roundtrip-files.json"):
        if not (results / name).is_file():
            raise JourneyError(f"nox -s bench wrote no bench-results/{name}")
    _check_same_tree(project, before, "the benchmark")
    unfinished = [
        f"{backend}: {result['workload']}"
        for backend in (PROJECT_NAME, "files")
        for result in json.loads((results / f"roundtrip-{backend}.json").read_text("utf-8"))
        if not result.get("finished", True)
    ]
    if unfinished:
        print(f"did not finish in the budget (reported as such): {', '.join(unfinished)}")


def _check_same_tree(project: Path, before: set[str], what: str) -> None:
    """The project holds the same paths as ``before`` (run outputs aside)."""
    after = project_tree(project)
    if after != before:
        added, removed = sorted(after - before), sorted(before - after)
        raise JourneyError(f"{what} changed the project's tree: added {added}, removed {removed}")


def state_conformance(project: Path) -> None:
    """Step 4: ``nox -s conformance`` writes the report's statement into the README."""
    _nox(project, "-R", "-s", "conformance", "lint")
    report = read_report(project / "conformance-report")
    expected = f"{report['statement']} (run of {str(report['started'])[:10]})"
    lines = (project / "README.md").read_text(encoding="utf-8").splitlines()
    marker = next(
        (
            index
            for index, line in enumerate(lines)
            if line.startswith("<!-- conformance-statement")
        ),
        None,
    )
    if marker is None or lines[marker + 1] != expected:
        found = lines[marker + 1] if marker is not None else "no statement markers"
        raise JourneyError(f"README statement is not the report's:\n{found}\n!= {expected}")
    if "MUST 100 %" not in expected:
        raise JourneyError(f"the statement does not say MUST 100 %: {expected}")
    print(f"README: {expected}")


def update(workdir: Path, project: Path) -> None:
    """Step 5: cruft check, update (the template's change in, the project's kept), tests."""
    cruft = [sys.executable, "-m", "cruft"]
    commit(project, "conformance statement")
    if run_quietly([*cruft, "check"], project, check=False).returncode != 0:
        raise JourneyError("cruft check: the project was reported out of date before any change")
    change_template(workdir / "template")
    if run_quietly([*cruft, "check"], project, check=False).returncode == 0:
        raise JourneyError("cruft check did not report the template change")
    run_quietly([*cruft, "update", "--skip-apply-ask", "--allow-untracked-files"], project)
    if TEMPLATE_LINE not in (project / ".gitignore").read_text(encoding="utf-8"):
        raise JourneyError("cruft update did not bring the template change")
    package = project / "src" / f"diaspora_stream_{PROJECT_NAME}"
    kept = (
        (package / "disk.py").is_file()
        and "persistent_topics=True" in (package / "driver.py").read_text(encoding="utf-8")
        and '"root_path": "{tmp}"' in (project / "tests/conftest.py").read_text(encoding="utf-8")
    )
    if not kept:
        raise JourneyError("cruft update lost the persistent storage change")
    commit(project, "template update")
    if run_quietly([*cruft, "check"], project, check=False).returncode != 0:
        raise JourneyError("cruft check: the updated project is still reported out of date")
    _nox(project, "-r", "-s", "tests")


@contextlib.contextmanager
def _timed(result: StepResult) -> Iterator[None]:
    """Time the step and record its outcome ("ok" or the failure's message)."""
    print(f"== journey: {result.name}", flush=True)
    start = time.monotonic()
    try:
        yield
    except (JourneyError, SystemExit) as error:
        result.outcome = f"FAILED: {str(error).splitlines()[0] if str(error) else error}"
        raise
    else:
        result.outcome = "ok"
    finally:
        result.seconds = time.monotonic() - start


def run_journey(workdir: Path) -> list[StepResult]:
    """Every step in order, in ``workdir``; the results, also those of steps not run."""
    workdir.mkdir(parents=True, exist_ok=True)
    project: Path = workdir / "projects" / PROJECT_NAME
    steps: list[tuple[str, Callable[[], object]]] = [
        ("1. generation, nox -s tests", lambda: generate(workdir)),
        ("2. persistent storage, tests + conformance", lambda: make_persistent(project)),
        ("3. nox -s bench -- --against files", lambda: benchmark(project)),
        ("4. conformance statement in README, lint", lambda: state_conformance(project)),
        ("5. template update, nox -s tests", lambda: update(workdir, project)),
    ]
    results = [StepResult(name) for name, _ in steps]
    for result, (_, action) in zip(results, steps, strict=True):
        try:
            with _timed(result):
                action()
        except (JourneyError, SystemExit):
            break
    return results


def table(results: list[StepResult]) -> str:
    """The results as a Markdown table: step, seconds, outcome."""
    lines = ["| step | seconds | outcome |", "|---|---:|---|"]
    for result in results:
        seconds = f"{result.seconds:.0f}" if result.seconds is not None else ""
        lines.append(f"| {result.name} | {seconds} | {result.outcome} |")
    total = sum(result.seconds or 0.0 for result in results)
    lines.append(f"| total | {total:.0f} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="diaspora-journey-") as scratch:
        results = run_journey(Path(args.keep) if args.keep else Path(scratch))
    print(f"\nthe researcher's journey (docs/template.md):\n{table(results)}", flush=True)
    return 0 if all(result.outcome == "ok" for result in results) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
