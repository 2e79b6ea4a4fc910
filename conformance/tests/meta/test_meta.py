"""Meta-tests: the conformance suite must fail on every deliberately broken backend.

Each backend of :mod:`broken_backends` is the ``memory`` backend with one realistic bug. For
each, the whole suite runs in a pytest subprocess (``pytester``), exactly as a backend author
runs it::

    pytest -x -q -p no:cacheprovider --pyargs diaspora_stream_conformance \
        --diaspora-backend NAME:broken_backends --diaspora-profile ci --diaspora-report DIR

and the meta-test checks that the run failed, in a real test failure (not a usage, collection
or setup error), and that one of the tests failing is a test declared to catch that bug
(``BrokenBackend.caught_by``). The same run on the bug-free copy of the memory backend must pass.

Two things keep the runs short: ``-x`` stops at the first failure, and the helper plugin
:mod:`catchers_first` runs the declared catchers before the rest of the suite (the rest still
runs when they do not fail, so a bug caught elsewhere is reported as such); Hypothesis'
shrinking is off in broken runs, since only the failure matters.

A bug whose declared catchers are not part of the suite yet (the model-based
``StatefulTests``, until it joins ``ConformanceSuite``) is an expected failure, with the reason.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from forked_pytest import run_pytest

META_DIR = Path(__file__).resolve().parent
if str(META_DIR) not in sys.path:
    sys.path.insert(0, str(META_DIR))

from broken_backends import (  # noqa: E402
    BROKEN_BACKENDS,
    CORRECT_BACKEND,
    STATEFUL_TEST,
    BrokenBackend,
    backend_name,
)
from catchers_first import CATCHERS_VARIABLE, NO_SHRINK_VARIABLE  # noqa: E402

# Imported before pytester snapshots sys.modules: the rule modules import numpy, whose
# extension cannot be loaded a second time in one process.
import diaspora_stream_conformance.suite  # noqa: E402, F401
from diaspora_stream_conformance.catalogue import catalogue  # noqa: E402

pytest_plugins = ["pytester"]

#: Seconds one run of the suite may take before the meta-test fails.
RUN_TIMEOUT_S = 240
#: Environment variables of the plugin that must not leak into the runs.
_PLUGIN_VARIABLES = (
    "DIASPORA_TEST_BACKEND",
    "DIASPORA_TEST_BACKEND_ARGS",
    "DIASPORA_TEST_TOPIC_ARGS",
    "DIASPORA_CONFORMANCE_PROFILE",
    "DIASPORA_EXPECTED_FAILURES",
    "PYTEST_ADDOPTS",
)


@dataclass
class SuiteRun:
    """The outcome of one run of the suite in a subprocess."""

    returncode: int
    report: dict[str, Any] | None
    output: str

    def behaviours(self, *outcomes: str) -> list[str]:
        """Behaviour ids of the tests that ended with one of ``outcomes``."""
        if self.report is None:
            return []
        return [
            result["behaviour_id"]
            for result in self.report["results"]
            if result["outcome"] in outcomes
        ]

    def describe(self) -> str:
        """The summary per level and the end of the output, for assertion messages."""
        summary = json.dumps(self.report["summary"]) if self.report else "no report written"
        tail = "\n".join(self.output.splitlines()[-30:])
        return f"exit code {self.returncode}; summary {summary}\n--- output (end) ---\n{tail}"


def suite_behaviours() -> set[str]:
    """Behaviour ids of the tests the suite runs now."""
    return {entry.behaviour_id for entry in catalogue()}


def run_suite(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    backend: BrokenBackend,
    first: tuple[str, ...] = (),
) -> SuiteRun:
    """Run the whole suite with ``-x`` on ``backend`` in a subprocess; ``first`` runs first."""
    for variable in _PLUGIN_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(META_DIR))
    monkeypatch.setenv(CATCHERS_VARIABLE, ",".join(first))
    monkeypatch.setenv(NO_SHRINK_VARIABLE, "1" if first else "0")
    # An empty ini file: the run must not pick up the settings of an enclosing project.
    pytester.makeini("[pytest]\n")
    report_dir = pytester.path / "report"
    result = run_pytest(
        pytester,
        "-c",
        "tox.ini",
        "--rootdir",
        str(pytester.path),
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "catchers_first",
        "--pyargs",
        "diaspora_stream_conformance",
        "--diaspora-backend",
        backend_name(backend.name),
        "--diaspora-backend-options",
        json.dumps(backend.options),
        "--diaspora-profile",
        "ci",
        "--diaspora-report",
        str(report_dir),
        timeout=RUN_TIMEOUT_S,
    )
    report_path = report_dir / "conformance.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    output = "\n".join(result.outlines + result.errlines)
    return SuiteRun(int(result.ret), report, output)


@pytest.mark.parametrize("broken", BROKEN_BACKENDS, ids=[b.name for b in BROKEN_BACKENDS])
def test_suite_catches_broken_backend(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    record_property: Any,
    broken: BrokenBackend,
) -> None:
    """The suite fails on the broken backend, in one of the tests declared to catch its bug."""
    present = [test for test in broken.caught_by if test in suite_behaviours()]
    if not present:
        request.applymarker(
            pytest.mark.xfail(
                reason=f"no test declared to catch {broken.name!r} is in the suite yet "
                f"({', '.join(broken.caught_by)})",
                strict=False,
            )
        )
    run = run_suite(pytester, monkeypatch, broken, first=broken.caught_by)
    failed = run.behaviours("failed")
    record_property("caught_by", ", ".join(failed))
    assert run.returncode != 0, (
        f"the suite PASSED on broken backend {broken.name!r} (bug: {broken.bug}); the tests "
        f"meant to catch it are {', '.join(broken.caught_by)}\n{run.describe()}"
    )
    assert run.report is not None and run.returncode == pytest.ExitCode.TESTS_FAILED, (
        f"the run on {broken.name!r} did not get to a test failure\n{run.describe()}"
    )
    assert failed, (
        f"the run on {broken.name!r} failed only in setup or teardown "
        f"({run.behaviours('error')}), not in a test\n{run.describe()}"
    )
    failed_tests = {behaviour.split("[", 1)[0] for behaviour in failed}
    assert failed_tests & set(broken.caught_by), (
        f"{broken.name!r} (bug: {broken.bug}) was caught by {', '.join(failed)}, not by a test "
        f"declared to catch it ({', '.join(broken.caught_by)}): a declared catcher has lost "
        f"its teeth, or the declaration needs updating\n{run.describe()}"
    )


@pytest.mark.slow
def test_suite_passes_on_correct_memory(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same run on the bug-free memory backend passes (the harness itself is sound)."""
    run = run_suite(pytester, monkeypatch, CORRECT_BACKEND)
    assert run.returncode == pytest.ExitCode.OK, (
        f"the suite failed on the correct memory backend in {run.behaviours('failed', 'error')}"
        f"\n{run.describe()}"
    )
    assert run.report is not None
    assert run.report["backend"] == backend_name(CORRECT_BACKEND.name)
    assert run.report["profile"] == "ci"
    outcomes = {result["outcome"] for result in run.report["results"]}
    assert outcomes <= {"passed", "skipped"}, f"outcomes {outcomes}\n{run.describe()}"
    ran = {result["behaviour_id"].split("[", 1)[0] for result in run.report["results"]}
    assert ran == suite_behaviours(), "the report does not cover exactly the suite's tests"


def test_declared_catchers_are_suite_tests() -> None:
    """Every declared catcher names a test of the suite (or the stateful test)."""
    known = suite_behaviours() | {STATEFUL_TEST}
    for broken in BROKEN_BACKENDS:
        assert broken.caught_by, f"{broken.name} declares no catcher"
        unknown = [test for test in broken.caught_by if test not in known]
        assert not unknown, f"{broken.name} declares unknown catchers {unknown}"


def test_broken_backends_are_registered_and_distinct() -> None:
    """At least 15 broken backends, distinct names and classes, each found by name."""
    from diaspora_stream.api import Driver

    assert len(BROKEN_BACKENDS) >= 15
    assert len({b.name for b in BROKEN_BACKENDS}) == len(BROKEN_BACKENDS)
    assert len({b.driver for b in BROKEN_BACKENDS}) == len(BROKEN_BACKENDS)
    for broken in (*BROKEN_BACKENDS, CORRECT_BACKEND):
        driver = Driver(backend=backend_name(broken.name), options={})
        try:
            assert driver.capabilities is not None
        finally:
            driver.close()


def test_failures_cross_from_xdist_workers_with_their_rule(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suite failure in a pytest-xdist worker reaches the controller whole: the run fails
    with the test failed (no internal error from an unserializable report), and the rule the
    test checks is printed with it."""
    for variable in _PLUGIN_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(META_DIR))
    pytester.makeini("[pytest]\n")
    result = run_pytest(
        pytester,
        "-c",
        "tox.ini",
        "--rootdir",
        str(pytester.path),
        "-p",
        "no:cacheprovider",
        "-p",
        "xdist",
        "-n",
        "2",
        "--pyargs",
        "diaspora_stream_conformance",
        "--diaspora-backend",
        backend_name("meta-seek-off-by-one"),
        "-k",
        "test_seek_back_and_forward",
        timeout=RUN_TIMEOUT_S,
    )
    output = "\n".join(result.outlines + result.errlines)
    assert "INTERNALERROR" not in output, output[-3000:]
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    result.assert_outcomes(failed=1)
    assert "rule broken" in output, output[-3000:]
