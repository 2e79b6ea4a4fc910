#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox>=2024.4.15"]
# ///
"""Tasks of diaspora-stream-kafka: ``nox`` runs tests, conformance and lint.

``nox --list`` shows every session. diaspora-stream and diaspora-stream-conformance are
installed, editable, from ``$DIASPORA_STREAM_SOURCE`` when it is set (a checkout of the
diaspora-stream repository), else from the diaspora-stream checkout this project sits in (as
its ``reference_backends/`` do), else by name from the package index.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"

#: The name this project registers in the ``diaspora_stream.drivers`` entry point group.
BACKEND = "kafka"
PROJECT = Path(__file__).resolve().parent
SOURCE_VARIABLE = "DIASPORA_STREAM_SOURCE"
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
    if source is None:
        session.log(
            f"diaspora-stream from the package index; set {SOURCE_VARIABLE}=/path/to/checkout "
            "to use a checkout of the diaspora-stream repository instead"
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

    ``nox -s conformance -- --diaspora-profile thorough`` searches harder.
    """
    install(session, "test")
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


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """This backend against raw confluent-kafka on a local broker; see bench-results/.

    ``-- --quick`` is a smoke run; ``-- --repeat N`` takes the median of N runs;
    ``-- --bootstrap-servers HOST:PORT`` uses a running broker instead of starting one.
    """
    parser = argparse.ArgumentParser(prog="nox -s bench --")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--bootstrap-servers")
    args = parser.parse_args(session.posargs)
    install(session)
    options = ["--scale", "0.01"] if args.quick else []
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else None)
    if repeat is not None:
        options += ["--repeat", str(repeat)]
    if args.bootstrap_servers:
        options += ["--bootstrap-servers", args.bootstrap_servers]
    results = PROJECT / BENCH_RESULTS
    results.mkdir(exist_ok=True)
    output = results / f"{BACKEND}.json"
    session.run("python", "-m", "diaspora_stream_kafka.bench", "--json", str(output), *options)


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
