#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox>=2024.4.15"]
# ///
"""Tasks of diaspora-stream-mochi: ``nox`` runs tests, conformance and lint.

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
BACKEND = "mochi"
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
    """The mochi benchmark (diaspora_stream_mochi.bench): starts a service, measures small,
    64 KiB and 1 MiB events on both data paths, consumers at 100 % and 25 %, loopback TCP and
    memcpy in the same run, and the files backend on the same workloads; see bench-results/.

    ``-- --quick`` is a smoke run; ``-- --repeat N`` takes the median of N runs; ``-- --no-sync``
    runs the server without fdatasync per batch.
    """
    parser = argparse.ArgumentParser(prog="nox -s bench --")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--no-sync", action="store_true")
    args = parser.parse_args(session.posargs)
    source = install(session)
    reference = source / "reference_backends" / "files" if source else None
    options: list[str] = []
    if reference is not None and (reference / "pyproject.toml").is_file():
        session.install("-e", str(reference))
    else:
        session.warn("files backend not found next to this project: comparing with nothing")
        options.append("--no-files")
    if args.quick:
        options += ["--quick", "--repeat", "1"]
    if args.repeat is not None:
        options += ["--repeat", str(args.repeat)]
    if args.no_sync:
        options.append("--no-sync")
    results = PROJECT / BENCH_RESULTS
    results.mkdir(exist_ok=True)
    session.run(
        "python",
        "-m",
        "diaspora_stream_mochi.bench",
        "--json",
        str(results / "mochi.json"),
        "--markdown",
        str(results / "comparison.md"),
        *options,
    )


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
