"""Tasks: tests, lint, bench, docs, demo (``nox -s NAME``)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

PACKAGES = ("-e", ".[test]", "-e", "reference_backends/files")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (arguments are passed to pytest)."""
    session.install(*PACKAGES)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy."""
    session.install(*PACKAGES, "ruff", "mypy")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "src", "reference_backends")
    session.run("mypy", "src", "reference_backends/files/src")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (``nox -s bench -- --repeat 3`` passes options to the benchmark)."""
    session.install(*PACKAGES)
    session.run("python", "-m", "diaspora_stream.bench.roundtrip", "--backend", "files",
                *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML documentation into docs/_build/html."""
    session.install(*PACKAGES, "sphinx>=7", "myst-parser>=2")
    session.run("sphinx-build", "-W", "-b", "html", "docs", "docs/_build/html")


@nox.session
def demo(session: nox.Session) -> None:
    """The quick start's producer -> consumer round trip on the files backend."""
    session.install(*PACKAGES)
    session.run("python", "-m", "diaspora_stream.demo", *session.posargs)
