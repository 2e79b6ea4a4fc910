#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox>=2024.4.15"]
# ///
"""Tasks of {{ cookiecutter.__distribution }}: ``nox`` runs tests, conformance and lint.

``nox --list`` shows every session. diaspora-stream and diaspora-stream-conformance are
installed, editable, from ``$DIASPORA_STREAM_SOURCE`` when it is set (a checkout of the
diaspora-stream repository), else from the diaspora-stream checkout this project sits in (as
its ``reference_backends/`` do), else by name from the package index.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"

#: The name this project registers in the ``diaspora_stream.drivers`` entry point group.
BACKEND = "{{ cookiecutter.backend_name }}"
PROJECT = Path(__file__).resolve().parent
SOURCE_VARIABLE = "DIASPORA_STREAM_SOURCE"
#: Whether diaspora-stream and diaspora-stream-conformance can be installed by name (a template
#: update turns this on once they are published; until then pip would only say "No matching
#: distribution found").
ON_PACKAGE_INDEX = False
CONFORMANCE_REPORT = "conformance-report"
BENCH_RESULTS = "bench-results"


def _is_checkout(path: Path) -> bool:
    """Whether ``path`` is a checkout of the diaspora-stream repository."""
    return (path / "src" / "diaspora_stream").is_dir() and (
        path / "conformance" / "pyproject.toml"
    ).is_file()


def diaspora_stream_source(session: nox.Session) -> Path | None:
    """The diaspora-stream checkout to install from, or ``None`` for the package index."""
    configured = os.environ.get(SOURCE_VARIABLE)
    if configured:
        path = Path(configured).expanduser().resolve()
        if not _is_checkout(path):
            session.error(
                f"{SOURCE_VARIABLE}={configured} is not a checkout of the diaspora-stream "
                "repository (no src/diaspora_stream and conformance/pyproject.toml there)"
            )
        return path
    for parent in PROJECT.parents:
        if _is_checkout(parent):
            return parent
    return None


def install(session: nox.Session, extras: str = "", *packages: str) -> Path | None:
    """Install this project (editable, with ``extras``), diaspora-stream and ``packages``.

    Returns the diaspora-stream checkout used, if any.
    """
    source = diaspora_stream_source(session)
    if source is None and not ON_PACKAGE_INDEX:
        session.error(
            f"diaspora-stream is not on the package index yet: set {SOURCE_VARIABLE} to a "
            "checkout of the diaspora-stream repository (see README.md, Install)"
        )
    if source is None:
        session.log(
            f"diaspora-stream from the package index; set {SOURCE_VARIABLE} to a checkout of "
            "the diaspora-stream repository to use it instead"
        )
        api: list[str] = []
    else:
        session.log(f"diaspora-stream from {source}")
        api = ["-e", str(source), "-e", str(source / "conformance")]
    project = f".[{extras}]" if extras else "."
    session.install(*api, "-e", project, *packages)
    return source


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests of the backend (arguments go to pytest)."""
    install(session, "test")
    session.run("pytest", "--ignore=tests/test_conformance.py", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """The conformance suite, ci profile; report in conformance-report/ (arguments go to pytest).

    The report's statement ("... conforms to diaspora-stream-conformance X.Y: MUST 100 % ...")
    is then written into README.md, between its conformance-statement markers.
    ``nox -s conformance -- --diaspora-profile thorough`` searches harder.
    """
    install(session, "test")
    report = PROJECT / CONFORMANCE_REPORT / "conformance.json"
    report.unlink(missing_ok=True)
    try:
        session.run(
            "pytest",
            "tests/test_conformance.py",
            "--diaspora-profile",
            "ci",
            "--diaspora-report",
            CONFORMANCE_REPORT,
            "--diaspora-expected-failures",
            "expected-failures.txt",
            *session.posargs,
        )
    finally:
        if report.is_file():
            statement = ["-m", "diaspora_stream_conformance.statement", CONFORMANCE_REPORT]
            session.run("python", *statement, "README.md")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Round-trip benchmark of this backend and of reference backends; see bench-results/.

    Quick by default (1 % of the events, one run, at most ``--budget`` seconds per backend,
    60 by default); ``-- --full`` runs every event, five times. ``-- --against files --against
    kafka`` chooses the reference backends (default: files), installed from the diaspora-stream
    checkout's reference_backends/ when they are there. ``-- --backend-options JSON`` gives this
    backend's driver options (default: ``DRIVER_OPTIONS`` of tests/conftest.py); ``"{tmp}"``
    becomes the run's temporary directory, removed at the end.
    """
    parser = argparse.ArgumentParser(prog="nox -s bench --")
    parser.add_argument("--against", action="append", metavar="BACKEND")
    parser.add_argument("--full", action="store_true", help="every event, five runs")
    parser.add_argument("--quick", action="store_true", help="the default (kept for scripts)")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--budget", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--backend-options", metavar="JSON")
    args = parser.parse_args(session.posargs)
    source = install(session)
    backends = [BACKEND]
    for name in args.against if args.against is not None else ["files"]:
        if name in backends:
            continue
        reference = source / "reference_backends" / name if source else None
        if reference is not None and (reference / "pyproject.toml").is_file():
            session.install("-e", str(reference))
            backends.append(name)
        else:
            session.warn(
                f"skipping {name}: no reference_backends/{name} in the diaspora-stream checkout "
                f"(set {SOURCE_VARIABLE}, or install diaspora-stream-{name} and run "
                f"python -m diaspora_stream.bench.roundtrip --backend {name})"
            )
    options = ["--budget", str(args.budget)]
    options += [] if args.full else ["--scale", "0.01"]
    repeat = args.repeat if args.repeat is not None else (5 if args.full else 1)
    options += ["--repeat", str(repeat)]
    own_options = args.backend_options or json.dumps(conftest_driver_options(session))
    results = PROJECT / BENCH_RESULTS
    results.mkdir(exist_ok=True)
    for backend in backends:
        output = results / f"roundtrip-{backend}.json"
        command = ["-m", "diaspora_stream.bench.roundtrip", "--backend", backend]
        if backend == BACKEND:
            command += ["--backend-options", own_options]
        session.run("python", *command, "--json", str(output), *options)
    table = comparison_table({name: results / f"roundtrip-{name}.json" for name in backends})
    (results / "comparison.md").write_text(table, encoding="utf-8")
    session.log(f"comparison written to {results / 'comparison.md'}:\n{table}")


def conftest_driver_options(session: nox.Session) -> object:
    """``DRIVER_OPTIONS`` of tests/conftest.py, read without importing the tests."""
    tree = ast.parse((PROJECT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "DRIVER_OPTIONS":
            try:
                return ast.literal_eval(node.value) if node.value is not None else {}
            except ValueError:
                session.error(
                    "DRIVER_OPTIONS in tests/conftest.py is not a plain JSON value: give this "
                    "backend's options with nox -s bench -- --backend-options JSON"
                )
    return {}


def comparison_table(files: dict[str, Path]) -> str:
    """A Markdown table of the round-trip results of several backends, workload by workload."""
    lines = [
        "| workload | backend | produce events/s | produce MB/s | consume events/s "
        "| consume MB/s | events |",
        "|---|---|---|---|---|---|---|",
    ]
    runs = {name: json.loads(path.read_text(encoding="utf-8")) for name, path in files.items()}
    workloads = [result["workload"] for result in next(iter(runs.values()))]
    for workload in workloads:
        for name, results in runs.items():
            for result in results:
                if result["workload"] == workload:
                    lines.append(
                        f"| {workload} | {name} | {result['produce_events_per_s']:,.0f} "
                        f"| {result['produce_mb_per_s']:,.1f} "
                        f"| {result['consume_events_per_s']:,.0f} "
                        f"| {result['consume_mb_per_s']:,.1f} | {_events(result)} |"
                    )
    return "\n".join(lines) + "\n"


def _events(result: dict[str, object]) -> str:
    """The events column: the count, or how far an unfinished workload got."""
    if result.get("finished", True):
        return f"{result['num_events']}"
    return f"did not finish in the budget ({result['events_done']} of {result['num_events']})"


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy."""
    install(session, "test,lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "src")


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """Build the HTML documentation into docs/_build/html."""
    install(session, "docs")
    session.run("sphinx-build", "-W", "-b", "html", "docs", "docs/_build/html")


if __name__ == "__main__":
    nox.main()
