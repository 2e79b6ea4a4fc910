"""Bake the backend template and test the generated projects (``nox -s template`` runs this).

Importable helpers (used by ``test_bake.py`` and ``drift.py``):

* :func:`render` renders the template with cookiecutter's Python API, hermetically (its own
  config and replay directories, never the user's);
* :data:`ANSWER_SETS` and :data:`REFUSED_ANSWERS` are the answers the template is tested with;
* :func:`entry_point_shim` makes a generated project's entry points visible to a Python that
  has its ``src/`` on ``PYTHONPATH``, without installing anything.

As a script (``python tests/template/bake.py [--keep DIR] [--no-nox]``) it checks that every
refused answer is refused with its message, then, for each answer set, bakes a project, creates a
fresh virtual environment, installs the project there with this checkout (the README's
``pip install -e "$DIASPORA_STREAM_SOURCE" ...`` command, without nox), and runs its tests and
its conformance suite (``ci`` profile). Last (unless ``--no-nox``), the researcher's journey
(``journey.py``): with the generated project's own nox sessions, from ``cruft create`` through
a persistent storage change, a benchmark, the README's conformance statement and a template
update, each step timed. The journey's project has the first answer set (the defaults), so the
loop above leaves that set to it, unless ``--no-nox``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

__all__ = [
    "ANSWER_SETS",
    "REFUSED_ANSWERS",
    "REPOSITORY",
    "entry_point_shim",
    "render",
]

#: The root of this repository: the template (cookiecutter.json, hooks/, the template dir).
REPOSITORY = Path(__file__).resolve().parents[2]

#: Answer sets a generated project must work with: defaults, every licence, quotes and
#: non-ASCII text in free-text answers, an explicit class-name prefix, both levels (the
#: defaults are a log-level backend; "full-bsd-title" a full-level one).
ANSWER_SETS: dict[str, dict[str, str]] = {
    "defaults": {},
    "mit-quotes": {
        "backend_name": "kv_store",
        "author": "Zoë O'Brien",
        "email": "zoe@example.org",
        "short_description": 'A "fast" key-value engine, with a backslash \\ in its description',
        "licence": "MIT",
    },
    "full-bsd-title": {
        "backend_name": "ring2",
        "title": "RingBuffer",
        "licence": "BSD-3-Clause",
        "level": "full",
    },
}

#: Answers the template must refuse, with a part of the one-line message it prints last.
REFUSED_ANSWERS: list[tuple[dict[str, str], str]] = [
    ({"backend_name": "My-Engine"}, "is not a valid lower-case Python identifier"),
    ({"backend_name": "2fast"}, "is not a valid lower-case Python identifier"),
    ({"backend_name": "my engine"}, "is not a valid lower-case Python identifier"),
    ({"backend_name": "class"}, "is a Python keyword"),
    ({"backend_name": "memory"}, "built into diaspora-stream"),
    ({"backend_name": "ok_name", "title": "not-camel"}, "must be a CamelCase Python identifier"),
]

#: The environment variables of the conformance plugin: a generated project must not inherit
#: the caller's (the root test session sets DIASPORA_EXPECTED_FAILURES, for instance).
PLUGIN_VARIABLES = (
    "DIASPORA_TEST_BACKEND",
    "DIASPORA_TEST_BACKEND_ARGS",
    "DIASPORA_TEST_TOPIC_ARGS",
    "DIASPORA_CONFORMANCE_PROFILE",
    "DIASPORA_EXPECTED_FAILURES",
)


def _cookiecutter_config(directory: Path) -> Path:
    """A cookiecutter config file whose replay and clone directories are in ``directory``."""
    config = directory / "cookiecutter-config.yaml"
    config.write_text(
        f'replay_dir: "{directory / "replay"}"\ncookiecutters_dir: "{directory / "clones"}"\n',
        encoding="utf-8",
    )
    return config


def render(answers: dict[str, str], output_dir: Path, template: Path = REPOSITORY) -> Path:
    """Render the template with ``answers`` into ``output_dir``; return the project directory.

    Raises ``SystemExit`` (its code is the one-line message) when ``local_extensions.py``
    refuses an answer.
    """
    from cookiecutter.main import cookiecutter

    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="diaspora-cookiecutter-") as scratch:
        project = cookiecutter(
            str(template),
            no_input=True,
            extra_context=dict(answers),
            output_dir=str(output_dir),
            config_file=str(_cookiecutter_config(Path(scratch))),
        )
    return Path(project)


def refusal_output(answers: dict[str, str], output_dir: Path) -> tuple[int, str]:
    """Run the cookiecutter command line with ``answers``; return its exit status and output."""
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="diaspora-cookiecutter-") as scratch:
        command = [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--config-file",
            str(_cookiecutter_config(Path(scratch))),
            "--output-dir",
            str(output_dir),
            str(REPOSITORY),
            *(f"{key}={value}" for key, value in answers.items()),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    return completed.returncode, completed.stdout + completed.stderr


def entry_point_shim(project: Path, directory: Path) -> Path:
    """Write a minimal ``.dist-info`` declaring ``project``'s entry points into ``directory``.

    With ``directory`` and ``project/src`` on ``PYTHONPATH``, ``importlib.metadata`` finds the
    entry points of ``project/pyproject.toml``, as if the project were installed, and so do the
    child processes the conformance suite starts. Nothing is installed anywhere.
    """
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    metadata = pyproject["project"]
    name = metadata["name"]
    dist_info = directory / f"{name.replace('-', '_')}-{metadata['version']}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {metadata['version']}\n", encoding="utf-8"
    )
    lines = []
    for group, entries in metadata.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in entries.items()]
        lines.append("")
    (dist_info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    return directory


def clean_environment(**extra: str) -> dict[str, str]:
    """The current environment without the conformance plugin's variables, plus ``extra``."""
    environment = {k: v for k, v in os.environ.items() if k not in PLUGIN_VARIABLES}
    environment.update(extra)
    return environment


def read_report(directory: Path) -> dict[str, Any]:
    """The ``conformance.json`` a conformance run wrote into ``directory``."""
    report: dict[str, Any] = json.loads((directory / "conformance.json").read_text("utf-8"))
    return report


def _run(command: list[str], cwd: Path, environment: dict[str, str]) -> None:
    """Print and run ``command`` in ``cwd``; raise if it fails."""
    print(f"$ {' '.join(command)}  (in {cwd})", flush=True)
    subprocess.run(command, cwd=cwd, env=environment, check=True)


def _check_refusals(workdir: Path) -> None:
    """Check that every answer set of :data:`REFUSED_ANSWERS` is refused with its message."""
    for answers, message in REFUSED_ANSWERS:
        status, output = refusal_output(answers, workdir / "refused")
        lines = [line for line in output.splitlines() if line.strip()]
        if status == 0 or not lines or message not in lines[-1]:
            raise SystemExit(
                f"answers {answers} were not refused with {message!r} as the last line:\n{output}"
            )
        line = lines[-1]
        print(f"refused {answers}: {line}", flush=True)


def _bake_and_test(label: str, answers: dict[str, str], workdir: Path) -> None:
    """Bake one project, install it in a fresh venv, run its tests and conformance suite."""
    project = render(answers, workdir / label)
    print(f"== {label}: {project}", flush=True)
    environment_dir = workdir / f"venv-{label}"
    venv.create(environment_dir, with_pip=True, clear=True)
    python = str(environment_dir / "bin" / "python")
    source = str(REPOSITORY)
    environment = clean_environment(DIASPORA_STREAM_SOURCE=source)
    # The README's install command, with DIASPORA_STREAM_SOURCE pointing at this checkout.
    pip = [python, "-m", "pip", "install", "--quiet"]
    _run([*pip, "-e", source, "-e", f"{source}/conformance", "-e", ".[test]"], project, environment)
    report = workdir / f"report-{label}"
    pytest = [python, "-m", "pytest", "-p", "no:cacheprovider", "--diaspora-profile", "ci"]
    _run([*pytest, "--diaspora-report", str(report)], project, environment)
    summary = read_report(report)["summary"]
    if summary["must"]["percent"] != 100.0:
        raise SystemExit(f"{label}: MUST conformance is not 100 %: {summary}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Bake the backend template and test the results.")
    parser.add_argument("--keep", metavar="DIR", help="bake into DIR and keep it")
    parser.add_argument(
        "--no-nox", action="store_true", help="skip the journey (the generated nox sessions)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="diaspora-template-") as scratch:
        workdir = Path(args.keep) if args.keep else Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        _check_refusals(workdir)
        # The journey installs, tests and checks the first answer set with the project's nox.
        labels = list(ANSWER_SETS)[0 if args.no_nox else 1 :]
        for label in labels:
            _bake_and_test(label, ANSWER_SETS[label], workdir)
        print(f"template: {len(REFUSED_ANSWERS)} refusals and {len(labels)} projects OK")
        if args.no_nox:
            return 0
        from journey import run_journey, table  # cruft and nox are needed from here on

        results = run_journey(workdir / "journey")
    print(f"\nthe researcher's journey (docs/template.md):\n{table(results)}", flush=True)
    return 0 if all(result.outcome == "ok" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
