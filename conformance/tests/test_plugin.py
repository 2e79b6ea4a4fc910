"""The pytest plugin of the conformance suite, run in pytest subprocesses (``pytester``).

Covers: the zero-code run and its reports (counts per level, backend, capabilities, profile,
versions), the reference's environment variables, the ``{tmp}`` placeholder, the
expected-failures file (xfail with reason and ``file:line``, unmatched entries, malformed files),
bad JSON options, the Hypothesis profiles (option, environment, CI default), the plugin staying
inert in sessions without suite tests, and subclass mode.

Every run is a subprocess: a run that collects suite tests loads a Hypothesis profile, which
must not leak into this session. Runs use an empty ini file so that this project's own pytest
settings do not apply, and select a few suite tests by node id to stay fast.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from forked_pytest import run_pytest

import diaspora_stream_conformance
from diaspora_stream.backends.memory import MemoryDriver
from diaspora_stream_conformance.catalogue import catalogue

# The rule families import numpy, whose C extension cannot be loaded twice in one process:
# imported here, before any pytester test snapshots sys.modules, it is never unloaded when a
# test's snapshot is restored and the catalogue is read again.
CATALOGUE_IDS = {entry.behaviour_id for entry in catalogue()}

pytest_plugins = ["pytester"]

#: Seconds one pytest subprocess may take.
RUN_TIMEOUT_S = 180
#: Environment variables that select or configure the plugin: cleared before every run.
PLUGIN_VARIABLES = (
    "DIASPORA_TEST_BACKEND",
    "DIASPORA_TEST_BACKEND_ARGS",
    "DIASPORA_TEST_TOPIC_ARGS",
    "DIASPORA_CONFORMANCE_PROFILE",
    "DIASPORA_EXPECTED_FAILURES",
    "CI",
    "PYTEST_ADDOPTS",
)
MODULE = "diaspora_stream_conformance.test_conformance::TestConformance"

#: A backend module for the runs: records the options it gets; one backend has a bug.
RECORDING_BACKEND = '''
"""Backends for the plugin tests (found as "NAME:recording_backend")."""
import json
import os

from diaspora_stream.api import register_driver
from diaspora_stream.backends.memory import MemoryDriver


def _record(entry):
    with open(os.environ["PLUGIN_RECORD"], "a", encoding="utf-8") as stream:
        stream.write(json.dumps(entry) + "\\n")


class RecordingDriver(MemoryDriver):
    """The memory backend, recording its driver and topic options."""

    @classmethod
    def create(cls, options):
        _record({"driver_options": options})
        return cls()

    def create_topic(self, name, config):
        _record({"topic_options": config.options})
        super().create_topic(name, config)


class ExistsAlwaysDriver(MemoryDriver):
    """topic_exists answers True for any name (a bug)."""

    def topic_exists(self, name):
        return True


register_driver("plugin-recorder", RecordingDriver)
register_driver("plugin-exists-always", ExistsAlwaysDriver)
'''

#: A plain test (not a suite test) that records the Hypothesis profile in force.
PROBE = """
import json

from hypothesis import settings


def test_probe():
    current = settings()
    with open("probe.json", "w", encoding="utf-8") as stream:
        json.dump(
            {
                "name": settings.get_current_profile_name(),
                "max_examples": current.max_examples,
                "derandomize": current.derandomize,
            },
            stream,
        )
"""


def suite_test(name: str) -> str:
    """The ``--pyargs`` node id of one suite test of the zero-code run."""
    return f"{MODULE}::{name}"


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run pytest in a subprocess in ``pytester.path`` with the given arguments and
    environment; the plugin's environment variables are cleared first."""
    for variable in PLUGIN_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PLUGIN_RECORD", str(pytester.path / "record.jsonl"))
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(recording_backend=RECORDING_BACKEND)

    def runner(*args: str, env: dict[str, str] | None = None) -> pytest.RunResult:
        """Run pytest with ``args`` after setting ``env``."""
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        return run_pytest(
            pytester,
            "-c",
            "tox.ini",
            "--rootdir",
            str(pytester.path),
            "-p",
            "no:cacheprovider",
            "-rxX",
            *args,
            timeout=RUN_TIMEOUT_S,
        )

    return runner


def read_report(directory: Path) -> tuple[dict[str, Any], str]:
    """The JSON and Markdown reports written into ``directory``."""
    data = json.loads((directory / "conformance.json").read_text(encoding="utf-8"))
    markdown = (directory / "conformance.md").read_text(encoding="utf-8")
    return data, markdown


def records(pytester: pytest.Pytester, key: str) -> list[Any]:
    """Values of ``key`` recorded by the recording backend."""
    path = pytester.path / "record.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [entry[key] for entry in map(json.loads, lines) if key in entry]


def results_by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The report's results keyed by behaviour id."""
    return {result["behaviour_id"]: result for result in report["results"]}


def output_of(result: pytest.RunResult) -> str:
    """Standard output and error of a run, as one text."""
    return "\n".join(result.outlines + result.errlines)


# ------------------------------------------------------------------ zero-code run


SELECTION = {
    "test_created_topic_exists": ("must", "passed"),
    "test_acknowledgements_absent": ("must", "skipped"),
    "test_unknown_driver_option": ("should", "passed"),
    "test_acknowledgements": ("must", "passed"),
    "test_persistent_topics": ("must", "skipped"),
}


def test_zero_code_run_writes_json_and_markdown_reports(
    run: Any, pytester: pytest.Pytester
) -> None:
    """The reports hold the right counts per level, backend, capabilities, profile, versions."""
    result = run(
        "--pyargs",
        *(suite_test(name) for name in SELECTION),
        "--diaspora-backend",
        "memory",
        "--diaspora-profile",
        "dev",
        "--diaspora-report",
        "report",
    )
    result.assert_outcomes(passed=3, skipped=2)
    output = output_of(result)
    assert "diaspora-stream conformance" in output
    assert "report: report/conformance.json and report/conformance.md" in output
    report, markdown = read_report(pytester.path / "report")

    assert report["suite"] == "diaspora-stream-conformance"
    assert report["suite_version"] == diaspora_stream_conformance.__version__
    assert report["api_version"] == metadata.version("diaspora-stream")
    assert report["backend"] == "memory"
    assert report["backend_options"] == {}
    assert report["capabilities"] == MemoryDriver.capabilities.as_dict()
    assert report["profile"] == "dev"
    assert report["unmatched_expected_failures"] == []
    assert report["summary"] == {
        "must": {"passed": 2, "skipped": 2, "total": 4, "percent": 100.0},
        "should": {"passed": 1, "total": 1, "percent": 100.0},
        "may": {"total": 0, "percent": None},
    }
    descriptions = {entry.behaviour_id: entry.description for entry in catalogue()}
    results = results_by_id(report)
    assert len(results) == len(SELECTION)
    for behaviour, result_entry in results.items():
        level, outcome = SELECTION[behaviour.split("::")[1]]
        assert (result_entry["level"], result_entry["outcome"]) == (level, outcome), behaviour
        assert result_entry["description"] == descriptions[behaviour]
    skipped = results["CapabilityTests::test_persistent_topics"]
    assert "persistent_topics" in skipped["message"], "a skip names the capability"
    assert skipped["capabilities"] == ["persistent_topics"]

    statement = (
        f"memory conforms to diaspora-stream-conformance {diaspora_stream_conformance.__version__}"
        ": MUST 100 % (2/2), SHOULD 100 % (1/1) — profile dev, seed random"
    )
    assert report["statement"].startswith(statement)
    assert markdown.startswith(f"# {statement}")
    assert "Conformance of backend `memory`: diaspora-stream-conformance" in markdown
    assert "profile `dev`" in markdown
    assert "| MUST | 2 | 0 | 0 | 2 | 100.0 % |" in markdown
    assert "| SHOULD | 1 | 0 | 0 | 0 | 100.0 % |" in markdown
    assert "| MAY | 0 | 0 | 0 | 0 | n/a |" in markdown
    assert "Declared capabilities: persistent_topics=no, acknowledgements=yes" in markdown
    assert "(`TopicRules::test_created_topic_exists`) | MUST | - | ✅ pass |" in markdown


def test_failures_are_counted_per_level(run: Any, pytester: pytest.Pytester) -> None:
    """A failing MUST test lowers the MUST percentage and is shown with its message."""
    result = run(
        "--pyargs",
        suite_test("test_missing_topic_does_not_exist_and_open_raises"),
        suite_test("test_created_topic_exists"),
        "--diaspora-backend",
        "plugin-exists-always:recording_backend",
        "--diaspora-report",
        "report",
    )
    result.assert_outcomes(passed=1, failed=1)
    report, markdown = read_report(pytester.path / "report")
    assert report["summary"]["must"] == {"failed": 1, "passed": 1, "total": 2, "percent": 50.0}
    failed = results_by_id(report)["TopicRules::test_missing_topic_does_not_exist_and_open_raises"]
    assert failed["outcome"] == "failed" and failed["message"]
    assert "| MUST | 1 | 1 | 0 | 0 | 50.0 % |" in markdown
    assert "❌ FAIL" in markdown


# ------------------------------------------------------- environment and placeholders


def test_reference_environment_variables_and_tmp_placeholder(
    run: Any, pytester: pytest.Pytester
) -> None:
    """DIASPORA_TEST_BACKEND, _BACKEND_ARGS and _TOPIC_ARGS select the backend and its options;
    "{tmp}" in driver options becomes a fresh temporary directory."""
    result = run(
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "--diaspora-report",
        "report",
        env={
            "DIASPORA_TEST_BACKEND": "plugin-recorder:recording_backend",
            "DIASPORA_TEST_BACKEND_ARGS": json.dumps(
                {"root": "{tmp}/data", "nested": {"paths": ["{tmp}", 3]}}
            ),
            "DIASPORA_TEST_TOPIC_ARGS": json.dumps({"flavour": "sweet"}),
        },
    )
    result.assert_outcomes(passed=1)
    report, _ = read_report(pytester.path / "report")
    assert report["backend"] == "plugin-recorder:recording_backend"
    assert report["backend_options"] == {"root": "{tmp}/data", "nested": {"paths": ["{tmp}", 3]}}
    driver_options = records(pytester, "driver_options")
    assert driver_options, "the backend named by DIASPORA_TEST_BACKEND was not used"
    for options in driver_options:
        directory = options["nested"]["paths"][0]
        assert "{tmp}" not in json.dumps(options), options
        assert Path(directory).name.startswith("diaspora-conformance-"), options
        assert options["root"] == f"{directory}/data"
        assert options["nested"]["paths"][1] == 3
    topic_options = records(pytester, "topic_options")
    assert topic_options and all(options["flavour"] == "sweet" for options in topic_options)


def test_options_override_environment_variables(run: Any, pytester: pytest.Pytester) -> None:
    """Command-line options win over the environment variables."""
    result = run(
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "--diaspora-backend",
        "plugin-recorder:recording_backend",
        "--diaspora-topic-options",
        '{"flavour": "from-option"}',
        "--diaspora-report",
        "report",
        env={
            "DIASPORA_TEST_BACKEND": "diaspora-no-such-backend",
            "DIASPORA_TEST_TOPIC_ARGS": '{"flavour": "from-environment"}',
        },
    )
    result.assert_outcomes(passed=1)
    assert read_report(pytester.path / "report")[0]["backend"] == (
        "plugin-recorder:recording_backend"
    )
    assert {options["flavour"] for options in records(pytester, "topic_options")} == {"from-option"}


# -------------------------------------------------------------- expected failures

EXPECTED_FAILURES = """\
# Expected failures of the plugin-exists-always backend.

TopicRules::test_missing_topic_does_not_exist_and_open_raises   # topic_exists lies, issue 7
TopicRules::test_created_topic_exists  # listed, but it passes
BadInputTests::test_bad_topic_name  # a prefix: every parameter set
BehaviourTests::test_no_such_behaviour  # a stale entry
"""


@pytest.mark.parametrize("how", ["option", "environment"])
def test_expected_failures_file(run: Any, pytester: pytest.Pytester, how: str) -> None:
    """Listed tests are xfail with reason and file:line; unmatched entries are reported."""
    pytester.path.joinpath("expected.txt").write_text(EXPECTED_FAILURES, encoding="utf-8")
    args = [
        "--pyargs",
        suite_test("test_missing_topic_does_not_exist_and_open_raises"),
        suite_test("test_created_topic_exists"),
        suite_test("test_bad_topic_name"),
        suite_test("test_duplicate_create_raises"),
        "--diaspora-backend",
        "plugin-exists-always:recording_backend",
        "--diaspora-report",
        "report",
    ]
    env = {}
    if how == "option":
        args += ["--diaspora-expected-failures", "expected.txt"]
    else:
        env["DIASPORA_EXPECTED_FAILURES"] = "expected.txt"
    result = run(*args, env=env)
    result.assert_outcomes(passed=1, xfailed=1, xpassed=5)
    output = output_of(result)
    assert "topic_exists lies, issue 7 (expected.txt:3)" in output
    assert "expected-failure entry matched no test: BehaviourTests::test_no_such_behaviour" in (
        output
    )

    report, markdown = read_report(pytester.path / "report")
    results = results_by_id(report)
    xfailed = results["TopicRules::test_missing_topic_does_not_exist_and_open_raises"]
    assert xfailed["outcome"] == "xfailed"
    assert "topic_exists lies, issue 7" in xfailed["message"]
    assert "expected.txt:3" in xfailed["message"]
    assert results["TopicRules::test_created_topic_exists"]["outcome"] == "xpassed"
    for parameter in ("empty", "slash", "dotdot", "nul"):
        entry = results[f"BadInputTests::test_bad_topic_name[{parameter}]"]
        assert entry["outcome"] == "xpassed"
        assert "expected.txt:5" in entry["message"]
    assert results["TopicRules::test_duplicate_create_raises"]["outcome"] == "passed"
    assert report["unmatched_expected_failures"] == ["BehaviourTests::test_no_such_behaviour"]
    assert report["summary"]["must"]["xfailed"] == 1
    assert "⚠ expected failure | topic_exists lies, issue 7 (expected.txt:3) |" in markdown
    assert "`BehaviourTests::test_no_such_behaviour`" in markdown


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("# fine\nBehaviourTests::test_created topic  # a space\n", "expected.txt:2"),
        (None, "No such file"),
    ],
    ids=["space-in-id", "missing-file"],
)
def test_bad_expected_failures_file_is_a_usage_error(
    run: Any, pytester: pytest.Pytester, content: str | None, message: str
) -> None:
    """A malformed or missing expected-failures file stops the run with a usage error."""
    if content is not None:
        pytester.path.joinpath("expected.txt").write_text(content, encoding="utf-8")
    result = run(
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "--diaspora-backend",
        "memory",
        "--diaspora-expected-failures",
        "expected.txt",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: Cannot read the expected-failures file*{message}*"])


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--diaspora-backend-options", "{bad"], {}, "--diaspora-backend-options is not valid"),
        (["--diaspora-topic-options", "[1]"], {}, "--diaspora-topic-options must be a JSON"),
        ([], {"DIASPORA_TEST_BACKEND_ARGS": "nope"}, "--diaspora-backend-options is not valid"),
    ],
    ids=["backend-options", "topic-options-not-object", "environment"],
)
def test_bad_json_option_is_a_usage_error(
    run: Any, args: Sequence[str], env: dict[str, str], message: str
) -> None:
    """Driver or topic options that are not a JSON object stop the run with a usage error."""
    result = run(
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "--diaspora-backend",
        "memory",
        *args,
        env=env,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *{message}*"])


def test_bad_json_option_is_reported_clearly(run: Any) -> None:
    """Bad JSON options make the run fail with a message naming the option (today: per test)."""
    result = run(
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "--diaspora-backend",
        "memory",
        "--diaspora-backend-options",
        "{bad",
    )
    assert result.ret != pytest.ExitCode.OK
    assert "--diaspora-backend-options is not valid JSON" in output_of(result)


# ----------------------------------------------------------------------- profiles


@pytest.mark.parametrize(
    ("args", "env", "profile"),
    [
        ([], {}, "dev"),
        (["--diaspora-profile", "thorough"], {}, "thorough"),
        ([], {"DIASPORA_CONFORMANCE_PROFILE": "thorough"}, "thorough"),
        ([], {"CI": "true"}, "ci"),
        ([], {"CI": "true", "DIASPORA_CONFORMANCE_PROFILE": "dev"}, "dev"),
        (["--diaspora-profile", "ci"], {"DIASPORA_CONFORMANCE_PROFILE": "dev"}, "ci"),
    ],
    ids=["default", "option", "environment", "ci-default", "environment-beats-ci", "option-wins"],
)
def test_profile_selection(
    run: Any,
    pytester: pytest.Pytester,
    args: Sequence[str],
    env: dict[str, str],
    profile: str,
) -> None:
    """The profile comes from the option, else the environment, else CI; it is loaded."""
    pytester.makepyfile(test_probe=PROBE)
    result = run(
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "test_probe.py",
        "--diaspora-backend",
        "memory",
        "--diaspora-report",
        "report",
        *args,
        env=env,
    )
    result.assert_outcomes(passed=2)
    assert read_report(pytester.path / "report")[0]["profile"] == profile
    probe = json.loads((pytester.path / "probe.json").read_text(encoding="utf-8"))
    assert probe["name"] == f"diaspora-{profile}"
    assert probe["max_examples"] == {"dev": 10, "ci": 25, "thorough": 300}[profile]
    if profile == "ci":
        assert probe["derandomize"] is True


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {"DIASPORA_CONFORMANCE_PROFILE": "fast"}, "Unknown conformance profile 'fast'"),
        (["--diaspora-profile", "fast"], {}, "invalid choice: 'fast'"),
    ],
    ids=["environment", "option"],
)
def test_unknown_profile_is_a_usage_error(
    run: Any, args: Sequence[str], env: dict[str, str], message: str
) -> None:
    """An unknown profile name stops the run with a usage error naming it."""
    result = run(
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "--diaspora-backend",
        "memory",
        *args,
        env=env,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in output_of(result)


# --------------------------------------------------------------------- inert plugin


def test_plugin_is_inert_without_suite_tests(run: Any, pytester: pytest.Pytester) -> None:
    """A session that collects no suite test writes no report, loads no profile and reads
    no expected-failures file, whatever the options say."""
    pytester.makepyfile(test_probe=PROBE)
    result = run(
        "test_probe.py",
        "--diaspora-backend",
        "memory",
        "--diaspora-profile",
        "thorough",
        "--diaspora-report",
        "report",
        "--diaspora-expected-failures",
        "no-such-file.txt",
    )
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "report").exists()
    assert "diaspora-stream conformance" not in output_of(result)
    probe = json.loads((pytester.path / "probe.json").read_text(encoding="utf-8"))
    assert not probe["name"].startswith("diaspora-"), probe


# ---------------------------------------------------------------------- subclass mode

SUBCLASS = '''
import pytest

from diaspora_stream_conformance import BackendUnderTest
from diaspora_stream_conformance.suite import ConformanceSuite


class TestMemoryConformance(ConformanceSuite):
    """The whole suite on the memory backend, from the backend's own tests."""

    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls) -> BackendUnderTest:
        return BackendUnderTest("memory")
'''


@pytest.mark.slow
def test_subclass_mode_runs_green_on_memory(run: Any, pytester: pytest.Pytester) -> None:
    """A ConformanceSuite subclass with its own diaspora_backend fixture passes on memory."""
    pytester.makepyfile(test_my_backend=SUBCLASS)
    result = run("-q", "test_my_backend.py", "--diaspora-profile", "ci", "--diaspora-report", "r")
    outcomes = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK, output_of(result)
    assert outcomes.get("passed", 0) > 0 and "failed" not in outcomes and "errors" not in outcomes
    report, _ = read_report(pytester.path / "r")
    assert report["backend"] == "memory"
    assert report["profile"] == "ci"
    ran = {result["behaviour_id"].split("[", 1)[0] for result in report["results"]}
    assert ran == CATALOGUE_IDS
    assert {result["outcome"] for result in report["results"]} <= {"passed", "skipped"}


# ---------------------------------------------------------------------- time bound

#: Suite-level tests (they carry a level marker) that hang in different ways.
HANGING_TESTS = '''
import signal
import threading
import time

from diaspora_stream_conformance import MUST


class TestHangs:
    @MUST
    def test_first_hang(self):
        """Waits for an event that never comes."""
        never = threading.Event()
        never.wait()

    @MUST
    def test_second_hang(self):
        """Sleeps far past the limit."""
        time.sleep(600)

    @MUST
    def test_hangs_again_in_clean_up(self):
        """Its clean-up code hangs too."""
        try:
            threading.Event().wait()
        finally:
            time.sleep(600)

    @MUST
    def test_quick(self):
        """Returns at once."""

    @MUST
    def test_uninterruptible(self):
        """Blocks the alarm signal, then sleeps: only the watchdog can end this."""
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(600)
'''


def hanging_run(run: Any, pytester: pytest.Pytester, *tests: str, args: Sequence[str] = ()) -> Any:
    """Run the named tests of HANGING_TESTS with a 1 s time bound and a report."""
    pytester.makepyfile(test_hangs=HANGING_TESTS)
    return run(
        *(f"test_hangs.py::TestHangs::{name}" for name in tests),
        "--diaspora-backend",
        "memory",
        "--diaspora-timeout",
        "1",
        "--diaspora-report",
        "report",
        *args,
    )


def test_timeout_fails_the_test_naming_the_call(run: Any, pytester: pytest.Pytester) -> None:
    """A test stuck past --diaspora-timeout fails (not an error) with a message naming the
    call of the test code that did not return, its place and the limit; the run goes on."""
    result = hanging_run(run, pytester, "test_first_hang", "test_quick")
    result.assert_outcomes(failed=1, passed=1)
    output = output_of(result)
    assert "the call `never.wait()` (" in output
    assert "test_hangs.py:13, in TestHangs.test_first_hang) did not return" in output
    assert "did not return within 1 s" in output
    assert "Event.wait (python" in output, "the chain of calls below it is shown"
    report, _ = read_report(pytester.path / "report")
    message = results_by_id(report)["TestHangs::test_first_hang"]["message"]
    assert "the call `never.wait()`" in message and "within 1 s" in message


def test_timeout_option_and_environment(run: Any, pytester: pytest.Pytester) -> None:
    """DIASPORA_CONFORMANCE_TIMEOUT sets the limit; 0 disables it; a bad value is a usage
    error."""
    pytester.makepyfile(test_hangs=HANGING_TESTS)
    bad = run("test_hangs.py", "--diaspora-timeout", "soon")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "--diaspora-timeout must be a number >= 0, got 'soon'" in output_of(bad)
    result = run(
        "test_hangs.py::TestHangs::test_second_hang",
        env={"DIASPORA_CONFORMANCE_TIMEOUT": "0.5"},
    )
    result.assert_outcomes(failed=1)
    assert "did not return within 0.5 s" in output_of(result)


def test_circuit_breaker_fails_the_rest_at_once(run: Any, pytester: pytest.Pytester) -> None:
    """After --diaspora-max-hangs tests hit the limit, the other suite tests fail without
    running, naming the first hang; a test whose clean-up hangs again is ended too, and the
    first call that hung is the one reported."""
    result = hanging_run(
        run,
        pytester,
        "test_first_hang",
        "test_hangs_again_in_clean_up",
        "test_second_hang",
        "test_quick",
        args=("--diaspora-max-hangs", "2"),
    )
    result.assert_outcomes(failed=4)
    report, _ = read_report(pytester.path / "report")
    results = results_by_id(report)
    message = results["TestHangs::test_hangs_again_in_clean_up"]["message"]
    assert message.startswith("the call `threading.Event().wait()`"), message
    for name in ("test_second_hang", "test_quick"):
        message = results[f"TestHangs::{name}"]["message"]
        assert message.startswith(
            "not run: the backend hung in 2 earlier tests (first: "
            "test_hangs.py::TestHangs::test_first_hang: the call `never.wait()`"
        ), message


def test_watchdog_ends_an_uninterruptible_run(run: Any, pytester: pytest.Pytester) -> None:
    """A test that the alarm cannot interrupt is ended by the watchdog: stacks of all threads
    on standard error, the report written with the test failed, exit status 1."""
    result = hanging_run(run, pytester, "test_quick", "test_uninterruptible")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    errors = "\n".join(result.errlines)
    assert "test_hangs.py::TestHangs::test_uninterruptible: the call `time.sleep(600)`" in errors
    assert "could not be interrupted" in errors
    assert "Stacks of all threads" in errors and "test_uninterruptible" in errors
    assert "run ended: a call of the backend could not be interrupted after 1 s" in errors
    report, _ = read_report(pytester.path / "report")
    results = results_by_id(report)
    assert results["TestHangs::test_quick"]["outcome"] == "passed"
    hung = results["TestHangs::test_uninterruptible"]
    assert hung["outcome"] == "failed" and "could not be interrupted" in hung["message"]


# ------------------------------------------------------- reports keyed by backend

TWO_BACKENDS = """
import pytest

from diaspora_stream_conformance import BackendUnderTest
from diaspora_stream_conformance.suite import ConformanceSuite


class TestMemory(ConformanceSuite):
    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls):
        return BackendUnderTest("memory")


class TestExistsAlways(ConformanceSuite):
    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls):
        return BackendUnderTest("plugin-exists-always:recording_backend")
"""
TWO_BACKENDS_SELECTION = "test_created_topic_exists or test_missing_topic_does_not_exist_and_open"


def test_two_backends_in_one_session_get_two_reports(run: Any, pytester: pytest.Pytester) -> None:
    """Two suite subclasses on two backends: one block and one pair of report files per
    backend, each with its own results and a first line stating (non-)conformance."""
    pytester.makepyfile(test_two=TWO_BACKENDS)
    result = run(
        "test_two.py",
        "-k",
        TWO_BACKENDS_SELECTION,
        "--diaspora-profile",
        "ci",
        "--diaspora-report",
        "report",
    )
    result.assert_outcomes(passed=3, failed=1)
    version = diaspora_stream_conformance.__version__
    memory, memory_md = read_report_named(pytester.path / "report", "conformance-memory")
    broken, broken_md = read_report_named(
        pytester.path / "report", "conformance-plugin-exists-always-recording_backend"
    )
    assert not (pytester.path / "report" / "conformance.json").exists()
    assert memory["backend"] == "memory"
    assert {r["outcome"] for r in memory["results"]} == {"passed"}
    assert len(memory["results"]) == len(broken["results"]) == 2
    assert memory["statement"].startswith(
        f"memory conforms to diaspora-stream-conformance {version}: MUST 100 % (2/2) — "
        "profile ci, seed derandomized (the same examples every run); partial run: "
    )
    assert broken["backend"] == "plugin-exists-always:recording_backend"
    failing = "TopicRules::test_missing_topic_does_not_exist_and_open_raises"
    assert results_by_id(broken)[failing]["outcome"] == "failed"
    assert broken["statement"].startswith(
        "plugin-exists-always:recording_backend does not conform to "
        f"diaspora-stream-conformance {version}: 1 MUST failure ({failing}) — MUST 50 % (1/2)"
    )
    assert memory_md.startswith(f"# {memory['statement']}\n")
    assert broken_md.startswith(f"# {broken['statement']}\n")
    lines = output_of(result).splitlines()
    assert memory["statement"] in lines and broken["statement"] in lines


def read_report_named(directory: Path, stem: str) -> tuple[dict[str, Any], str]:
    """The JSON and Markdown reports ``STEM.json`` and ``STEM.md`` in ``directory``."""
    data = json.loads((directory / f"{stem}.json").read_text(encoding="utf-8"))
    return data, (directory / f"{stem}.md").read_text(encoding="utf-8")


def test_statement_counts_expected_failures_as_failures(
    run: Any, pytester: pytest.Pytester
) -> None:
    """A MUST test listed as an expected failure still breaks the rule: no conformance."""
    pytester.path.joinpath("expected.txt").write_text(EXPECTED_FAILURES, encoding="utf-8")
    result = run(
        "--pyargs",
        suite_test("test_missing_topic_does_not_exist_and_open_raises"),
        "--diaspora-backend",
        "plugin-exists-always:recording_backend",
        "--diaspora-expected-failures",
        "expected.txt",
        "--diaspora-report",
        "report",
    )
    result.assert_outcomes(xfailed=1)
    report, _ = read_report(pytester.path / "report")
    assert " does not conform to " in report["statement"]
    assert "1 MUST failure (TopicRules::test_missing_topic" in report["statement"]


# ----------------------------------------------------- strict expected failures

STRICT_EXPECTED = """\
TopicRules::test_created_topic_exists  # listed, but it passes
"""


@pytest.mark.parametrize("stale", [False, True], ids=["passing-entry", "stale-entry"])
def test_strict_expected_failures_fail_the_run(
    run: Any, pytester: pytest.Pytester, stale: bool
) -> None:
    """With --diaspora-strict-expected-failures, a listed test that passes fails with a message
    saying so, and an entry matching no test fails the run; without it, neither does."""
    content = "BehaviourTests::test_no_such_behaviour  # stale\n" if stale else STRICT_EXPECTED
    pytester.path.joinpath("expected.txt").write_text(content, encoding="utf-8")
    args = [
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "--diaspora-backend",
        "memory",
        "--diaspora-expected-failures",
        "expected.txt",
        "--diaspora-report",
        "report",
    ]
    assert run(*args).ret == pytest.ExitCode.OK
    result = run(*args, "--diaspora-strict-expected-failures")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = output_of(result)
    if stale:
        result.assert_outcomes(passed=1)
        assert (
            "expected-failure entry matched no test: BehaviourTests::test_no_such_behaviour "
            "(strict expected failures: the run fails)"
        ) in output
    else:
        result.assert_outcomes(failed=1)
        message = results_by_id(read_report(pytester.path / "report")[0])[
            "TopicRules::test_created_topic_exists"
        ]["message"]
        assert message.startswith("passed, but listed as an expected failure"), message
        assert "listed, but it passes (expected.txt:1)" in message
        assert "passed, but listed as an expected failure" in output


def test_entries_of_deselected_tests_are_not_stale(run: Any, pytester: pytest.Pytester) -> None:
    """An entry for a test left out with -k matches it: the strict run does not fail."""
    pytester.makepyfile(test_my_backend=SUBCLASS)
    pytester.path.joinpath("expected.txt").write_text(STRICT_EXPECTED, encoding="utf-8")
    result = run(
        "test_my_backend.py",
        "-k",
        "test_duplicate_create_raises",
        "--diaspora-expected-failures",
        "expected.txt",
        "--diaspora-strict-expected-failures",
    )
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK


# ---------------------------------------------------------------------- versions


def test_suite_version_is_the_distribution_version() -> None:
    """__version__ is the installed distribution's version (one source: the package)."""
    assert diaspora_stream_conformance.__version__ == metadata.version(
        "diaspora-stream-conformance"
    )


@pytest.mark.parametrize(
    ("spec", "ok"), [("==0.4.*", True), (">=0.2,<1", True), (">=9", False), ("nonsense", False)]
)
def test_require_suite_version(run: Any, spec: str, ok: bool) -> None:
    """--diaspora-require-suite-version stops a run whose suite version does not match."""
    result = run(
        "--pyargs",
        suite_test("test_created_topic_exists"),
        "--diaspora-backend",
        "memory",
        "--diaspora-require-suite-version",
        spec,
    )
    if ok:
        result.assert_outcomes(passed=1)
    else:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert "--diaspora-require-suite-version" in output_of(result)


# ------------------------------------------------------------- failure details

FAILING_TESTS = '''
import itertools

from hypothesis import given, strategies as st

from diaspora_stream.api import Driver
from diaspora_stream_conformance import MUST

_calls = itertools.count()


class TestFailures:
    @MUST
    def test_long_message(self):
        """Every pushed event is stored exactly once."""
        driver = Driver(backend="memory", options={})
        driver.create_topic("t", options={"num_partitions": 1})
        topic = driver.open_topic("t")
        producer = topic.producer()
        for i in range(1000):
            producer.push({"i": i}, b"abc")
        producer.flush().wait()
        consumer = topic.consumer("c")
        consumer.pull().wait(100)
        assert False, "expected 1000 events, got 999: " + "x" * 700 + " END-OF-MESSAGE"

    @MUST
    @given(st.integers())
    def test_flaky(self, value):
        """The same program gives the same answer."""
        assert next(_calls) > 0, "first answer differs"
'''


def test_failure_shows_rule_whole_message_and_calls(run: Any, pytester: pytest.Pytester) -> None:
    """A failure shows the rule first, then the whole message (kept whole in the JSON report,
    first lines in the Markdown table, whole in its Failures section), and the calls the test
    made on the API, consecutive similar calls compressed."""
    pytester.makepyfile(test_failures=FAILING_TESTS)
    result = run("test_failures.py::TestFailures::test_long_message", "--diaspora-report", "r")
    result.assert_outcomes(failed=1)
    output = output_of(result)
    rule = output.index("rule broken: Every pushed event is stored exactly once.")
    assert rule < output.index("expected 1000 events, got 999")
    assert "calls made on the API (1008 calls" in output
    assert "producer.push({'i': 0..999}, <3 bytes>) → FutureUint x1000" in output
    assert "consumer.pull() → FutureEvent" in output
    report, markdown = read_report(pytester.path / "r")
    entry = results_by_id(report)["TestFailures::test_long_message"]
    assert entry["description"] == "Every pushed event is stored exactly once."
    assert entry["message"].startswith("AssertionError: expected 1000 events, got 999: xxx")
    assert "END-OF-MESSAGE" in entry["message"], "the JSON report keeps the whole message"
    assert any(line.startswith("producer.push({'i': 0..") for line in entry["calls"])
    assert entry["calls"][-1].startswith("futureEvent.wait(100) → ")
    assert "| ❌ FAIL | AssertionError: expected 1000 events, got 999: xxx" in markdown
    assert "Rule broken: Every pushed event is stored exactly once." in markdown
    assert "END-OF-MESSAGE" in markdown.split("## Failures", 1)[1]


def test_flaky_result_is_reported_in_plain_words(run: Any, pytester: pytest.Pytester) -> None:
    """A result Hypothesis cannot reproduce says the backend answered the same program
    differently, with the program and the answers, not a bare Hypothesis error."""
    pytester.makepyfile(test_failures=FAILING_TESTS)
    result = run("test_failures.py::TestFailures::test_flaky", "--diaspora-report", "r")
    result.assert_outcomes(failed=1)
    output = output_of(result)
    assert "rule broken: The same program gives the same answer." in output
    assert "the backend gave different answers to the same program" in output
    report, _ = read_report(pytester.path / "r")
    (message,) = [r["message"] for r in report["results"] if r["behaviour_id"].endswith("flaky")]
    assert message.startswith("the backend gave different answers to the same program")
    assert "Failing test case: test_flaky(" in message, "the program is shown"
    assert "answer 1: AssertionError: first answer differs" in message
