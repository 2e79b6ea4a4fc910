"""Tasks: tests, lint, bench, docs, demo (``nox -s NAME``)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

PACKAGES = (
    "-e", ".[test]",
    "-e", "reference_backends/files",
    "-e", "reference_backends/kafka",
    "-e", "reference_backends/mochi",
    "-e", "conformance",
)  # fmt: skip

#: Backends the conformance session runs on, with their driver options ("{tmp}": a temp dir;
#: "{kafka}": the address of a local Kafka broker, "{group_file}": the group file of a mochi
#: service, both started by the session).
CONFORMANCE_BACKENDS = {
    "memory": {},
    "files": {"root_path": "{tmp}"},
    "kafka": {"kafka": {"bootstrap.servers": "{kafka}"}},
    "mochi": {"group_file": "{group_file}"},
}
#: Where sessions keep the state of the local Kafka broker they start.
KAFKA_STATE = ".nox/kafka-broker"


@contextlib.contextmanager
def kafka_broker(session: nox.Session) -> Iterator[str]:
    """A local Kafka broker for the session (jars from Maven Central, cached); its address."""
    command = ("python", "-m", "diaspora_stream_kafka.local_broker")
    output = session.run(*command, "start", "--state-dir", KAFKA_STATE, silent=True)
    bootstrap = str(output).strip().splitlines()[-1]
    session.log(f"Kafka broker on {bootstrap}")
    try:
        yield bootstrap
    finally:
        session.run(*command, "stop", "--state-dir", KAFKA_STATE)


@contextlib.contextmanager
def mochi_service(session: nox.Session) -> Iterator[str]:
    """A mochi service in a temporary directory for the session; its group file."""
    import os

    directory = session.create_tmp()
    config = os.path.join(directory, "mochi.json")
    with open(config, "w", encoding="utf-8") as file:
        json.dump({"root": "data", "group_file": "group.json"}, file)
    command = ("python", "-m", "diaspora_stream_mochi.cli")
    session.run(*command, "start", "--config", config)
    try:
        yield os.path.join(directory, "group.json")
    finally:
        session.run(*command, "stop", "--config", config)


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
    session.run(
        "mypy", "src", "reference_backends/files/src", "reference_backends/kafka/src",
        "reference_backends/mochi/src",
    )  # fmt: skip


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: the produce/consume round trip on files, the batch path against the
    push/pull loops on files, the pool, small-data and large-data paths against their straight
    counterparts on files, how the cost of files grows (partitions, producer processes,
    events in a topic, events read), the kafka backend against raw confluent-kafka on a local
    broker, the mochi benchmark (on-node and TCP data paths, with loopback TCP and memcpy
    baselines), then the workload matrix on every installed backend, with raw baselines, into
    bench-results/ (results.json, results.md, scaling.json, PNG plots).

    ``nox -s bench -- --quick`` is a smoke run; other arguments go to the matrix (see
    ``python -m diaspora_stream.bench.matrix --help``); ``--repeat N`` goes to all.
    """
    import os

    session.install(*PACKAGES, "matplotlib")
    args = list(session.posargs)
    quick = "--quick" in args
    repeat: list[str] = []
    if "--repeat" in args and args.index("--repeat") + 1 < len(args):
        repeat = ["--repeat", args[args.index("--repeat") + 1]]
    scale = ["--scale", "0.01", "--repeat", "1"] if quick else repeat

    def run(module: str, outputs: list[str], quick_arguments: list[str]) -> None:
        """Run a benchmark module: its smoke arguments with --quick, else the --repeat."""
        session.run("python", "-m", module, *outputs, *(quick_arguments if quick else repeat))

    os.makedirs("bench-results", exist_ok=True)
    roundtrip = ["--backend", "files", "--json", "bench-results/roundtrip.json"]
    run("diaspora_stream.bench.roundtrip", roundtrip, ["--scale", "0.01", "--repeat", "1"])
    batch = ["--json", "bench-results/batch.json"]
    run("diaspora_stream.bench.batch", batch, ["--events", "20000", "--repeat", "1"])
    # Each path against its straight counterpart (pool, small data, large-data consumers).
    run("diaspora_stream.bench.paths", ["--json", "bench-results/paths.json"], ["--quick"])
    scaling = ["--json", "bench-results/scaling.json", "--plots", "bench-results"]
    run("diaspora_stream.bench.scaling", scaling, ["--quick", "--repeat", "1"])
    mochi = ["--json", "bench-results/mochi.json", "--markdown", "bench-results/mochi.md"]
    if quick:
        mochi += ["--quick", "--repeat", "1"]
    session.run("python", "-m", "diaspora_stream_mochi.bench", *mochi)
    # The matrix runs on every installed backend: kafka's and mochi's need their services.
    with kafka_broker(session) as bootstrap, mochi_service(session) as group_file:
        kafka = ["--bootstrap-servers", bootstrap, "--json", "bench-results/kafka.json", *scale]
        session.run("python", "-m", "diaspora_stream_kafka.bench", *kafka)
        kafka_options = json.dumps({"kafka": {"bootstrap.servers": bootstrap}})
        mochi_options = json.dumps({"group_file": group_file})
        session.run(
            "python", "-m", "diaspora_stream.bench.matrix", "--output", "bench-results",
            "--backend-options", f"kafka={kafka_options}",
            "--backend-options", f"mochi={mochi_options}", *args,
        )  # fmt: skip


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML documentation into docs/_build/html (warnings are errors), then run its
    doctests (every ``{doctest}`` block of the pages)."""
    session.install(*PACKAGES, "-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-b", "doctest", "docs", "docs/_build/doctest"
    )


@nox.session
def demo(session: nox.Session) -> None:
    """The quick start's producer -> consumer round trip on the files backend."""
    session.install(*PACKAGES)
    session.run("python", "-m", "diaspora_stream.demo", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """The conformance suite on every reference backend, or ``-- --backend NAME`` on one.

    Other arguments go to pytest (e.g. ``-- --backend files --diaspora-profile thorough``).
    Reports land in ``conformance-report/<backend>/``; kafka and mochi get a broker and a
    service started for the run.
    """
    arguments = list(session.posargs)
    chosen = list(CONFORMANCE_BACKENDS)
    if "--backend" in arguments:
        position = arguments.index("--backend")
        chosen = [arguments[position + 1]]
        del arguments[position : position + 2]
    session.install(*PACKAGES)
    with contextlib.ExitStack() as stack:
        for backend in chosen:
            options = json.dumps(CONFORMANCE_BACKENDS.get(backend, {}))
            if "{kafka}" in options:
                options = options.replace("{kafka}", stack.enter_context(kafka_broker(session)))
            if "{group_file}" in options:
                group_file = stack.enter_context(mochi_service(session))
                options = options.replace("{group_file}", group_file)
            session.run(
                "python", "-m", "pytest", "--pyargs", "diaspora_stream_conformance",
                "--diaspora-backend", backend,
                "--diaspora-backend-options", options,
                "--diaspora-report", f"conformance-report/{backend}",
                *arguments,
            )  # fmt: skip


@nox.session
def template(session: nox.Session) -> None:
    """Bake the backend template, test every generated project, then the researcher's journey.

    Several answer sets (and refused ones, whose refusal and message are checked); each project
    is installed in a fresh venv with this checkout (DIASPORA_STREAM_SOURCE), then its tests and
    conformance suite run (tests/template/bake.py). Then the researcher's journey through
    docs/template.md with the generated project's own nox sessions, each step timed
    (tests/template/journey.py): ``cruft create`` and ``nox -s tests``; a persistent storage
    change (tests/template/persistent_storage.patch) and ``nox -s tests conformance``;
    ``nox -s bench -- --against files``; the README's conformance statement and lint; a
    template change taken with ``cruft update``, and ``nox -s tests`` again. It ends with a
    table of step, seconds and outcome. ``-- --keep DIR`` keeps the projects; ``-- --no-nox``
    skips the journey.
    """
    session.install(
        "cookiecutter>=2.5", "cruft>=2.15", "nox>=2024.4.15", 'tomli; python_version < "3.11"'
    )
    session.run("python", "tests/template/bake.py", *session.posargs)


@nox.session
def drift(session: nox.Session) -> None:
    """Check that the scaffolding of reference_backends/* matches what the template renders.

    ``-- files`` checks one backend. See tests/template/drift.py.
    """
    session.install("cookiecutter>=2.5", "PyYAML>=6", 'tomli; python_version < "3.11"')
    session.run("python", "tests/template/drift.py", *session.posargs)
