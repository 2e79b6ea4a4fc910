"""Tasks: tests, lint, bench, docs, demo (``nox -s NAME``)."""

from __future__ import annotations

import json

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

PACKAGES = (
    "-e",
    ".[test]",
    "-e",
    "reference_backends/files",
    "-e",
    "reference_backends/mochi",
    "-e",
    "conformance",
)

#: Backends the conformance session runs on, with their driver options ("{tmp}": a temp dir).
CONFORMANCE_BACKENDS = {
    "memory": {},
    "files": {"root_path": "{tmp}"},
    # A service is started for the run; "{group_file}" becomes its group file.
    "mochi": {"group_file": "{group_file}"},
}


def _mochi_service(session: nox.Session, directory: str) -> str:
    """Start a mochi service in ``directory`` (stopped at the end of the session)."""
    import os

    config = os.path.join(directory, "mochi.json")
    with open(config, "w", encoding="utf-8") as file:
        json.dump({"root": "data", "group_file": "group.json"}, file)
    session.run("python", "-m", "diaspora_stream_mochi.cli", "start", "--config", config)
    return config


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
    session.run("mypy", "src", "reference_backends/files/src", "reference_backends/mochi/src")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: the produce/consume round trip, then the workload matrix on every installed
    backend, with raw baselines, into bench-results/ (results.json, results.md, PNG plots).

    ``nox -s bench -- --quick`` is a smoke run; other arguments go to the matrix (see
    ``python -m diaspora_stream.bench.matrix --help``); ``--repeat N`` goes to both.
    """
    import os

    session.install(*PACKAGES, "matplotlib")
    args = list(session.posargs)
    roundtrip = ["--backend", "files", "--json", "bench-results/roundtrip.json"]
    if "--quick" in args:
        roundtrip += ["--scale", "0.01", "--repeat", "1"]
    elif "--repeat" in args and args.index("--repeat") + 1 < len(args):
        roundtrip += ["--repeat", args[args.index("--repeat") + 1]]
    os.makedirs("bench-results", exist_ok=True)
    session.run("python", "-m", "diaspora_stream.bench.roundtrip", *roundtrip)
    mochi = ["--json", "bench-results/mochi.json", "--markdown", "bench-results/mochi.md"]
    if "--quick" in args:
        mochi += ["--quick", "--repeat", "1"]
    session.run("python", "-m", "diaspora_stream_mochi.bench", *mochi)
    # The matrix runs on every installed backend; mochi's needs a running service.
    mochi_config = _mochi_service(session, session.create_tmp())
    group_file = os.path.join(os.path.dirname(mochi_config), "group.json")
    mochi_options = "mochi=" + json.dumps({"group_file": group_file})
    try:
        session.run(
            "python", "-m", "diaspora_stream.bench.matrix", "--output", "bench-results",
            "--backend-options", mochi_options, *args,
        )
    finally:
        session.run("python", "-m", "diaspora_stream_mochi.cli", "stop", "--config", mochi_config)


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


@nox.session
def conformance(session: nox.Session) -> None:
    """The conformance suite on every reference backend, or ``-- --backend NAME`` on one.

    Other arguments go to pytest (e.g. ``-- --backend files --diaspora-profile thorough``).
    Reports land in ``conformance-report/<backend>/``. For mochi, a service is started in a
    temporary directory for the run and stopped afterwards.
    """
    import os

    arguments = list(session.posargs)
    chosen = list(CONFORMANCE_BACKENDS)
    if "--backend" in arguments:
        position = arguments.index("--backend")
        chosen = [arguments[position + 1]]
        del arguments[position : position + 2]
    session.install(*PACKAGES)
    for backend in chosen:
        options = CONFORMANCE_BACKENDS.get(backend, {})
        mochi_config = None
        if backend == "mochi":
            mochi_config = _mochi_service(session, session.create_tmp())
            group_file = os.path.join(os.path.dirname(mochi_config), "group.json")
            options = {"group_file": group_file}
        try:
            session.run(
                "python", "-m", "pytest", "--pyargs", "diaspora_stream_conformance",
                "--diaspora-backend", backend,
                "--diaspora-backend-options", json.dumps(options),
                "--diaspora-report", f"conformance-report/{backend}",
                *arguments,
            )
        finally:
            if mochi_config is not None:
                stop = ["python", "-m", "diaspora_stream_mochi.cli", "stop", "--config"]
                session.run(*stop, mochi_config)


@nox.session
def template(session: nox.Session) -> None:
    """Bake the backend template and test every generated project in a fresh venv.

    Several answer sets (and refused ones, whose refusal and message are checked); each project
    is installed with this checkout (DIASPORA_STREAM_SOURCE), then its tests and conformance
    suite run. ``-- --keep DIR`` keeps the projects; ``-- --no-nox`` skips the generated
    project's own ``nox -s tests conformance lint`` (run on the first answer set). See
    tests/template/bake.py.
    """
    session.install("cookiecutter>=2.5", "nox>=2024.4.15", 'tomli; python_version < "3.11"')
    session.run("python", "tests/template/bake.py", *session.posargs)


@nox.session
def drift(session: nox.Session) -> None:
    """Check that the scaffolding of reference_backends/* matches what the template renders.

    ``-- files`` checks one backend. See tests/template/drift.py.
    """
    session.install("cookiecutter>=2.5", "PyYAML>=6", 'tomli; python_version < "3.11"')
    session.run("python", "tests/template/drift.py", *session.posargs)
