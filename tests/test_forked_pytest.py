"""The forked pytest runs of :mod:`forked_pytest` behave as ``pytester.runpytest_subprocess``'s:
exit codes, output, environment, import path, timeouts, and no state carried between runs."""

from __future__ import annotations

import pytest
from forked_pytest import run_pytest

pytest_plugins = ["pytester"]

STATE_PROBE = """
import diaspora_stream.api as api

def test_first_run_sees_a_clean_module():
    assert not hasattr(api, "_left_by_an_earlier_run")
    api._left_by_an_earlier_run = True
"""


def test_outcomes_output_and_exit_code(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sample="def test_ok():\n    print('said')\n\ndef test_bad():\n    assert 1 == 2\n"
    )
    result = run_pytest(pytester, "-rA", "test_sample.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*said*", "*assert 1 == 2*"])


def test_environment_and_pythonpath_of_the_test_reach_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    helpers = pytester.mkdir("helpers")
    (helpers / "helper_module.py").write_text("VALUE = 42\n")
    monkeypatch.setenv("PYTHONPATH", str(helpers))
    monkeypatch.setenv("FORKED_PROBE", "from-the-test")
    pytester.makepyfile(
        test_env="import os\nimport helper_module\n\n"
        "def test_env():\n"
        "    assert os.environ['FORKED_PROBE'] == 'from-the-test'\n"
        "    assert helper_module.VALUE == 42\n"
        f"    assert os.getcwd() == {str(pytester.path)!r}\n"
    )
    result = run_pytest(pytester, "test_env.py")
    assert result.ret == pytest.ExitCode.OK, result.outlines[-20:]


def test_a_run_past_its_timeout_is_killed_and_raises(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_slow="import time\n\ndef test_slow():\n    time.sleep(60)\n")
    with pytest.raises(pytest.Pytester.TimeoutExpired):
        run_pytest(pytester, "test_slow.py", timeout=2)
    # The server is still there for the next run.
    pytester.makepyfile(test_quick="def test_quick():\n    pass\n")
    assert run_pytest(pytester, "test_quick.py").ret == pytest.ExitCode.OK


def test_no_module_state_is_carried_from_one_run_to_the_next(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_state=STATE_PROBE)
    for _ in range(2):
        result = run_pytest(pytester, "test_state.py")
        assert result.ret == pytest.ExitCode.OK, result.outlines[-20:]


def test_a_run_that_crashes_reports_its_signal(pytester: pytest.Pytester) -> None:
    crash = "import os, signal\n\ndef test_crash():\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    pytester.makepyfile(test_crash=crash)
    result = run_pytest(pytester, "test_crash.py")
    assert result.ret == -9
