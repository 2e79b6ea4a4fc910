"""The pytest plugin (entry point ``pytest11``): options, markers, report, expected failures.

It only registers options and markers unless the suite's tests are collected: then it loads the
chosen Hypothesis profile, marks expected failures and, with ``--diaspora-report DIR``, writes the
JSON and Markdown reports.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Generator
from typing import Any

import pytest

from diaspora_stream.backend.placeholders import points_at_temporary_directory

from .backend import BackendUnderTest
from .expected import ExpectedFailures
from .failure_details import FailureDetails, rule_of
from .levels import LEVELS
from .profiles import PROFILES, register_profiles
from .report import Report, TestResult, provenance_line, report_stems
from .results import RunResults
from .time_bound import TimeBound, TimeBoundSettings
from .versioning import check_suite_version

__all__ = ["behaviour_id"]

_ENVIRONMENT = {
    "backend": "DIASPORA_TEST_BACKEND",
    "backend_options": "DIASPORA_TEST_BACKEND_ARGS",
    "topic_options": "DIASPORA_TEST_TOPIC_ARGS",
    "profile": "DIASPORA_CONFORMANCE_PROFILE",
    "expected_failures": "DIASPORA_EXPECTED_FAILURES",
    "timeout": "DIASPORA_CONFORMANCE_TIMEOUT",
    "max_hangs": "DIASPORA_CONFORMANCE_MAX_HANGS",
}
#: Default seconds each phase of a suite test may take (``--diaspora-timeout``).
DEFAULT_TIMEOUT_S = 120.0
#: Default number of hung tests after which the others fail at once (``--diaspora-max-hangs``).
DEFAULT_MAX_HANGS = 3
_RESULTS_KEY = pytest.StashKey[RunResults]()
_EXPECTED_KEY = pytest.StashKey[ExpectedFailures]()
_DESELECTED_KEY = pytest.StashKey[list[pytest.Item]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("diaspora", "Diaspora Stream conformance suite")
    group.addoption("--diaspora-backend", help=f"backend name (env {_ENVIRONMENT['backend']})")
    group.addoption(
        "--diaspora-backend-options",
        help='driver options as JSON; "{tmp}" becomes a temporary directory '
        f"(env {_ENVIRONMENT['backend_options']})",
    )
    group.addoption(
        "--diaspora-topic-options",
        help=f"topic options as JSON (env {_ENVIRONMENT['topic_options']})",
    )
    group.addoption(
        "--diaspora-profile",
        choices=PROFILES,
        help="Hypothesis profile: dev (fast), ci (derandomized), thorough "
        f"(env {_ENVIRONMENT['profile']}; default: ci when CI is set, else dev)",
    )
    group.addoption(
        "--diaspora-report",
        metavar="DIR",
        help="write conformance.json and .md (one pair per backend, named after it, when the "
        "session tests several)",
    )
    group.addoption(
        "--diaspora-expected-failures",
        metavar="FILE",
        help=f"file of expected-failure test ids (env {_ENVIRONMENT['expected_failures']})",
    )
    group.addoption(
        "--diaspora-strict-expected-failures",
        action="store_true",
        help="a listed expected failure that passes, or an entry that matches no test, fails "
        "the run",
    )
    group.addoption(
        "--diaspora-require-suite-version",
        metavar="SPEC",
        help="stop with a usage error unless the suite's version satisfies SPEC "
        "(e.g. '>=0.2,<0.3')",
    )
    group.addoption(
        "--diaspora-timeout",
        metavar="SECONDS",
        help="seconds each suite test (setup, call, teardown) may take before it fails naming "
        f"the call that did not return; 0: no limit (env {_ENVIRONMENT['timeout']}; "
        f"default {DEFAULT_TIMEOUT_S:g})",
    )
    group.addoption(
        "--diaspora-max-hangs",
        metavar="N",
        help="after N suite tests hit the time limit, the remaining ones fail at once; 0: never "
        f"(env {_ENVIRONMENT['max_hangs']}; default {DEFAULT_MAX_HANGS})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "diaspora_level(level): conformance level must/should/may")
    config.addinivalue_line(
        "markers", "diaspora_requires(*capabilities): needs these backend capabilities"
    )
    register_profiles()
    config.pluginmanager.register(_OutcomeRecorder(config), "diaspora-conformance-recorder")
    config.pluginmanager.register(FailureDetails(), "diaspora-conformance-failure-details")
    bound = TimeBound(_time_bound_settings(config), config, _abort_run)
    config.pluginmanager.register(bound, "diaspora-conformance-time-bound")


def _number_setting(config: pytest.Config, name: str, default: float) -> float:
    text = _setting(config, name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise pytest.UsageError(
            f"--diaspora-{name.replace('_', '-')} must be a number >= 0, got {text!r}"
        )
    return value


def _time_bound_settings(config: pytest.Config) -> TimeBoundSettings:
    max_hangs = _number_setting(config, "max_hangs", DEFAULT_MAX_HANGS)
    if max_hangs != int(max_hangs):
        raise pytest.UsageError(f"--diaspora-max-hangs must be a whole number, got {max_hangs:g}")
    return TimeBoundSettings(_number_setting(config, "timeout", DEFAULT_TIMEOUT_S), int(max_hangs))


def _setting(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"--diaspora-{name.replace('_', '-')}")
    return value if value is not None else os.environ.get(_ENVIRONMENT[name])


def _json_setting(config: pytest.Config, name: str) -> dict[str, Any]:
    text = _setting(config, name)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise pytest.UsageError(
            f"--diaspora-{name.replace('_', '-')} is not valid JSON: {error}"
        ) from None
    if not isinstance(value, dict):
        raise pytest.UsageError(f"--diaspora-{name.replace('_', '-')} must be a JSON object")
    return value


def profile_name(config: pytest.Config) -> str:
    """The Hypothesis profile chosen for this run."""
    chosen = _setting(config, "profile")
    if chosen is None:
        chosen = "ci" if os.environ.get("CI") else "dev"
    if chosen not in PROFILES:
        raise pytest.UsageError(f"Unknown conformance profile {chosen!r}; use one of {PROFILES}")
    return chosen


def behaviour_id(item: pytest.Item) -> str:
    """The stable id of a suite test: defining class and test name, with parameters."""
    function = getattr(item, "function", None)
    name = item.name
    if function is None:
        return name
    qualified = function.__qualname__.replace(".", "::")
    suffix = name[len(function.__name__) :] if name.startswith(function.__name__) else ""
    return qualified + suffix


def _is_suite_item(item: pytest.Item) -> bool:
    return item.get_closest_marker("diaspora_level") is not None


@pytest.fixture(scope="session")
def diaspora_backend(request: pytest.FixtureRequest) -> BackendUnderTest:
    """The backend under test, from ``--diaspora-backend`` (override it when subclassing)."""
    config = request.config
    name = _setting(config, "backend")
    if not name:
        raise pytest.UsageError(
            "No backend to test: pass --diaspora-backend NAME (or set DIASPORA_TEST_BACKEND), "
            "or override the diaspora_backend fixture in your subclass of ConformanceSuite"
        )
    return BackendUnderTest(
        name, _json_setting(config, "backend_options"), _json_setting(config, "topic_options")
    )


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Count the suite tests left out with ``-k``/``-m``: a statement says the run is partial."""
    if items:
        config = items[0].config
        suite = [item for item in items if _is_suite_item(item)]
        config.stash[_DESELECTED_KEY] = config.stash.get(_DESELECTED_KEY, []) + suite


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: deselected tests are not reported
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    suite_items = [item for item in items if _is_suite_item(item)]
    if not suite_items:
        return
    from hypothesis import settings

    # Bad JSON options stop the run here with a usage error, not as an error in every test.
    _json_setting(config, "backend_options")
    _json_setting(config, "topic_options")
    check_suite_version(config.getoption("--diaspora-require-suite-version"))
    profile = profile_name(config)
    settings.load_profile(f"diaspora-{profile}")
    expected = _load_expected_failures(config)
    strict = bool(config.getoption("--diaspora-strict-expected-failures"))
    run = RunResults()
    for item in suite_items:
        identifier = behaviour_id(item)
        level_marker = item.get_closest_marker("diaspora_level")
        level = level_marker.args[0] if level_marker else "must"
        if level not in LEVELS:
            raise pytest.UsageError(f"{item.nodeid}: unknown conformance level {level!r}")
        needs = [
            capability
            for marker in item.iter_markers("diaspora_requires")
            for capability in marker.args
        ]
        run.add(item, TestResult(identifier, level, needs, rule_of(item)))
        if expected is not None:
            entry = expected.match(identifier)
            if entry is not None:
                item.add_marker(
                    pytest.mark.xfail(
                        reason=f"{entry.reason} ({expected.path}:{entry.line})", strict=strict
                    )
                )
    if expected is not None:  # an entry for a deselected test is not stale
        for item in config.stash.get(_DESELECTED_KEY, []):
            expected.match(behaviour_id(item))
    config.stash[_RESULTS_KEY] = run


def _load_expected_failures(config: pytest.Config) -> ExpectedFailures | None:
    path = _setting(config, "expected_failures")
    if not path:
        return None
    try:
        expected = ExpectedFailures.load(path)
    except (OSError, ValueError) as error:
        raise pytest.UsageError(f"Cannot read the expected-failures file: {error}") from None
    config.stash[_EXPECTED_KEY] = expected
    return expected


def _seed(config: pytest.Config) -> str:
    """How Hypothesis chooses examples in this run, truthfully."""
    from hypothesis import settings

    if settings().derandomize:
        return "derandomized (the same examples every run)"
    seed = config.getoption("hypothesis_seed", None)
    if seed is not None:
        return str(seed)
    return "random (not repeatable: pass --hypothesis-seed to fix it)"


class _OutcomeRecorder:
    """Records the outcome of each suite test, and the backend it ran on, for the report."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        run = self._config.stash.get(_RESULTS_KEY, None)
        if run is not None and item.nodeid in run.results:
            run.item_ran(item)
            if report.failed and str(report.longrepr).startswith("[XPASS(strict)]"):
                report.longrepr = (
                    "passed, but listed as an expected failure, and expected failures are "
                    f"strict: remove the entry ({str(report.longrepr)[16:]})"
                )
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        run = self._config.stash.get(_RESULTS_KEY, None)
        if run is None or report.nodeid not in run.results:
            return
        result = run.results[report.nodeid]
        result.duration_s += report.duration
        if report.when != "call" and report.outcome == "passed":
            return
        if hasattr(report, "wasxfail"):
            result.outcome = "xfailed" if report.outcome == "skipped" else "xpassed"
            result.message = str(report.wasxfail)
        elif report.outcome == "skipped":
            result.outcome = "skipped"
            longrepr = report.longrepr
            if isinstance(longrepr, tuple):
                result.message = str(longrepr[2])
        elif report.outcome == "failed":
            result.outcome = "failed" if report.when == "call" else "error"
            result.message = getattr(report, "diaspora_message", None) or str(report.longrepr)
            result.calls = list(getattr(report, "diaspora_calls", []))
        else:
            result.outcome = "passed"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """With strict expected failures, a stale entry fails the run."""
        expected = self._config.stash.get(_EXPECTED_KEY, None)
        if (
            expected is not None
            and expected.unmatched()
            and self._config.getoption("--diaspora-strict-expected-failures")
            and _RESULTS_KEY in self._config.stash
            and session.exitstatus == pytest.ExitCode.OK
        ):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def record_backend(config: pytest.Config, backend: BackendUnderTest) -> None:
    """Remember a backend under test for the report (called by the suite's fixtures)."""
    run = config.stash.get(_RESULTS_KEY, None)
    if run is not None:
        run.backend_seen(backend, lambda seen: _new_report(config, seen))


def _new_report(config: pytest.Config, backend: BackendUnderTest) -> Report:
    try:
        capabilities = backend.capabilities.as_dict()
        provenance = backend.provenance
    except Exception:  # noqa: BLE001 - the tests will report the failure
        capabilities = {"error creating the driver": False}
        provenance = {}
    return Report(
        backend.name,
        backend.options,
        capabilities,
        profile_name(config),
        seed=_seed(config),
        provenance=provenance,
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _RESULTS_KEY not in config.stash or config.option.collectonly:
        return
    terminalreporter.section("diaspora-stream conformance")
    _summarise(config, terminalreporter.write_line)


def _reports(config: pytest.Config) -> list[Report]:
    """One report per backend under test, complete."""
    run = config.stash[_RESULTS_KEY]
    name = _setting(config, "backend") or "unknown backend"
    reports = run.by_backend(lambda: Report(name, {}, {}, profile_name(config), seed=_seed(config)))
    expected = config.stash.get(_EXPECTED_KEY, None)
    unmatched = [entry.pattern for entry in expected.unmatched()] if expected else []
    deselected = config.stash.get(_DESELECTED_KEY, [])
    names = [report.backend for report in reports]
    for report in reports:
        report.unmatched_expected_failures = unmatched
        report.deselected = len(deselected)
        shared = names.count(report.backend) > 1
        report.label = (
            f"{report.backend} {json.dumps(report.backend_options, sort_keys=True)}"
            if shared
            else report.backend
        )
    return reports


def _summarise(config: pytest.Config, write: Callable[[str], object]) -> None:
    """Write one block per backend with ``write`` and, with ``--diaspora-report``, the
    report files (one pair per backend when there are several)."""
    reports = _reports(config)
    directory = config.getoption("--diaspora-report")
    stems = report_stems([report.label for report in reports])
    for report, stem in zip(reports, stems, strict=True):
        write(report.statement())
        if report.provenance:
            write(f"  behind {report.label}: {provenance_line(report.provenance)}")
        for level, counts in report.summary().items():
            if counts["total"]:
                percent = "n/a" if counts["percent"] is None else f"{counts['percent']} %"
                write(f"  {level.upper():6} {percent:>8}  {counts}")
        if directory:
            json_path, markdown_path = report.write(directory, stem)
            write(f"  report: {json_path} and {markdown_path}")
    for warning in _leftover_warnings(reports):
        write(warning)
    strict = config.getoption("--diaspora-strict-expected-failures")
    for pattern in reports[0].unmatched_expected_failures if reports else []:
        suffix = " (strict expected failures: the run fails)" if strict else ""
        write(f"expected-failure entry matched no test: {pattern}{suffix}")


def _leftover_warnings(reports: list[Report]) -> list[str]:
    """One warning per backend whose topics persist but whose options name no temporary
    directory: its topics (one per test) were left wherever the backend keeps them."""
    warnings = []
    for report in reports:
        if report.capabilities.get("persistent_topics") and not points_at_temporary_directory(
            report.backend_options
        ):
            warnings.append(
                f"WARNING: {report.label} declares persistent topics but its driver options "
                f"{json.dumps(report.backend_options)} point at no temporary directory: the "
                "topics of this run are left where the backend stores them by default; pass "
                'options with "{tmp}" (e.g. {"root_path": "{tmp}"}) to test in a temporary '
                "directory"
            )
    return warnings


def _abort_run(item: pytest.Item, message: str) -> None:
    """The time bound's watchdog ends the run: record the hung test, summarise, write."""
    config = item.config
    run = config.stash.get(_RESULTS_KEY, None)
    if run is None:
        return
    result = run.results.get(item.nodeid)
    if result is not None:
        result.outcome = "failed"
        result.message = message
    stderr = sys.__stderr__ or sys.stderr
    stderr.write("\n=== diaspora-stream conformance (run ended by the time bound) ===\n")
    _summarise(config, lambda line: stderr.write(line + "\n"))
    stderr.flush()
