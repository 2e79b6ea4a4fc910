"""Meta-tests: a whole ``ci`` run on a backend that hangs, or whose waits overshoot their
timeouts, ends quickly, with failures that name the call that did not return in time.

The backend (:mod:`broken_hanging`) is the memory backend whose ``pull().wait(timeout)`` never
times out. The suite runs on it in a pytest subprocess with a short time bound
(``--diaspora-timeout 10``): the first tests that wait on an empty topic hit the bound, then the
circuit breaker (``--diaspora-max-hangs``, default 3) fails the rest at once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from forked_pytest import run_pytest

META_DIR = Path(__file__).resolve().parent
#: The time bound of the run, in seconds: above what a test that does not hang takes on a
#: loaded machine (parallel workers), where Hypothesis alone took 5 s to start a test once.
LIMIT_S = 10
#: Seconds the whole run may take: the bound times the default number of hangs, plus room.
RUN_TIMEOUT_S = 120
#: Environment variables of the plugin that must not leak into the run.
_PLUGIN_VARIABLES = (
    "DIASPORA_TEST_BACKEND",
    "DIASPORA_TEST_BACKEND_ARGS",
    "DIASPORA_TEST_TOPIC_ARGS",
    "DIASPORA_CONFORMANCE_PROFILE",
    "DIASPORA_EXPECTED_FAILURES",
    "DIASPORA_CONFORMANCE_TIMEOUT",
    "DIASPORA_CONFORMANCE_MAX_HANGS",
    "PYTEST_ADDOPTS",
)

pytest_plugins = ["pytester"]


def _run_whole_suite(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
    *options: str,
    timeout: float,
) -> tuple[pytest.RunResult, float]:
    """Run the whole suite (no ``-x``) on ``backend`` in a subprocess; the result and seconds."""
    for variable in _PLUGIN_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(META_DIR))
    pytester.makeini("[pytest]\n")
    started = time.monotonic()
    result = run_pytest(
        pytester,
        "-c",
        "tox.ini",
        "--rootdir",
        str(pytester.path),
        "-q",
        "-p",
        "no:cacheprovider",
        "--pyargs",
        "diaspora_stream_conformance",
        "--diaspora-backend",
        backend,
        "--diaspora-profile",
        "ci",
        "--diaspora-report",
        "report",
        *options,
        timeout=timeout,
    )
    return result, time.monotonic() - started


@pytest.mark.slow
def test_hanging_backend_ends_the_run_quickly_naming_the_hung_call(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run ends in well under RUN_TIMEOUT_S; the hung tests fail naming the wait call and
    the limit; after three hangs the other tests fail at once, saying why."""
    result, elapsed = _run_whole_suite(
        pytester,
        monkeypatch,
        "hanging:broken_hanging",
        "--diaspora-timeout",
        str(LIMIT_S),
        timeout=RUN_TIMEOUT_S,
    )
    output = "\n".join(result.outlines + result.errlines)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert elapsed < RUN_TIMEOUT_S / 2, f"the run took {elapsed:.0f} s"

    report = json.loads((pytester.path / "report" / "conformance.json").read_text())
    failed = [r for r in report["results"] if r["outcome"] == "failed"]
    broken = [r for r in failed if r["message"].startswith("not run: the backend hung in 3")]
    hung = [r for r in failed if r not in broken and "did not return within" in r["message"]]
    assert len(hung) == 3, [r["message"] for r in failed][:5]
    for entry in hung:
        assert f"did not return within {LIMIT_S} s" in entry["message"]
        assert ".wait(" in entry["message"].split("did not return")[0], entry["message"]
        assert "_BlockingPull.wait" in entry["message"], "the backend's call chain is shown"
    assert broken, "the circuit breaker did not fire"
    assert len(hung) + len(broken) == len(failed), "every failure is a hang or the breaker"
    first = broken[0]["message"].split("(first: ", 1)[1]
    assert any(
        first.startswith(
            f"test_conformance.py::TestConformance::{r['behaviour_id'].split('::')[1]}"
        )
        for r in hung
    ), first
    assert "did not return within" in first
    assert "did not return within" in output


@pytest.mark.slow
def test_overshooting_backend_ends_the_run_in_minutes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a backend whose empty waits return 8 s late, the whole run (no -x, default time
    bound) ends in about a minute: each late wait fails its test at once (the model-based
    test's pulls included: none waits out the time bound), and after three the circuit breaker
    fails the rest."""
    result, elapsed = _run_whole_suite(
        pytester, monkeypatch, "meta-wait-overshoots:broken_backends", timeout=600
    )
    output = "\n".join(result.outlines + result.errlines)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    # Three late waits take 24 s; one test waiting out the 120 s time bound would exceed this.
    assert elapsed < 110, f"the run took {elapsed:.0f} s"
    report = json.loads((pytester.path / "report" / "conformance.json").read_text())
    messages = [r["message"] for r in report["results"] if r["outcome"] == "failed"]
    late = [m for m in messages if "returned after" in m and "timeout" in m]
    assert late, messages[:5]
    assert any(m.startswith("not run: the backend hung in 3") for m in messages), messages[:8]
