"""No hang, ever: every phase of a suite test runs under a time bound.

Stage 1 (main thread, POSIX): ``SIGALRM`` interrupts the phase after the limit and raises
:class:`SuiteTimeout` where the test is stuck; its message names the test code's call that did
not return (:mod:`hung_call`). The alarm repeats every second after that, so that clean-up code
that hangs again is interrupted too; the first timeout is the one reported.

Stage 2 (a watchdog thread): a call that cannot be interrupted (a C call holding the process, or
code that swallows the exception) is still stuck ``grace`` seconds later: the watchdog dumps the
stacks of all threads to standard error, lets the plugin write its report with the test marked
failed, and ends the process.

A circuit breaker ends runs on a backend that hangs everywhere: after ``max_hangs`` tests hit the
bound, the remaining suite tests fail at once without running.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import pytest

from .hung_call import describe_hung_call

__all__ = ["SuiteTimeout", "TimeBound", "TimeBoundSettings"]

#: Seconds between repeated interruptions once the limit has passed.
_REPEAT_S = 1.0
#: Exit status of a run ended by the watchdog (pytest's "tests failed").
_WATCHDOG_EXIT_STATUS = int(pytest.ExitCode.TESTS_FAILED)


class SuiteTimeout(BaseException):
    """A phase of a suite test did not end within the time bound.

    A ``BaseException``, like ``KeyboardInterrupt``: the test's own ``except Exception`` or
    ``pytest.raises(Exception)`` must not take it for the backend's answer, and Hypothesis must
    not replay the example (which would hang again). The plugin reports it as a test failure.
    """


@dataclass(frozen=True)
class TimeBoundSettings:
    """The limits chosen for the run."""

    #: Seconds each phase (setup, call, teardown) of a suite test may take; 0: no limit.
    limit_s: float
    #: Tests hitting the limit after which the remaining suite tests fail at once; 0: never.
    max_hangs: int

    @property
    def grace_s(self) -> float:
        """Seconds the watchdog waits after the limit: a quarter of it, from 2 to 30 s."""
        return min(30.0, max(2.0, self.limit_s / 4))


def _is_suite_item(item: pytest.Item) -> bool:
    return item.get_closest_marker("diaspora_level") is not None


class TimeBound:
    """pytest hooks bounding the phases of suite tests, with the circuit breaker.

    ``on_abort(item, message)`` is called by the watchdog, in its thread, before it ends the
    process: the plugin records the failure and writes its report there.
    """

    def __init__(
        self,
        settings: TimeBoundSettings,
        config: pytest.Config,
        on_abort: Callable[[pytest.Item, str], None],
    ) -> None:
        self.settings = settings
        self._config = config
        self._on_abort = on_abort
        self._watchdog = _Watchdog(self._watchdog_expired)
        self._hung: list[str] = []
        self._current: tuple[pytest.Item, str] | None = None
        self._first_timeout: SuiteTimeout | None = None

    @property
    def hangs(self) -> list[str]:
        """``nodeid: description`` of each test that hit the limit, in order."""
        return list(self._hung)

    # ------------------------------------------------------------------ circuit breaker

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        """Fail a suite test at once, without running it, once the breaker is open."""
        max_hangs = self.settings.max_hangs
        if not _is_suite_item(item) or not max_hangs or len(self._hung) < max_hangs:
            return None
        message = (
            f"not run: the backend hung in {len(self._hung)} earlier tests (first: {self._hung[0]})"
        )
        hook = item.ihook
        hook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for when, outcome in (("setup", "passed"), ("call", "failed"), ("teardown", "passed")):
            report = pytest.TestReport(
                item.nodeid,
                item.location,
                {name: 1 for name in item.keywords},
                outcome,  # type: ignore[arg-type]
                message if outcome == "failed" else None,
                when,  # type: ignore[arg-type]
                user_properties=list(item.user_properties),
            )
            hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    # ------------------------------------------------------------------ the bound

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        """Bound the setup phase."""
        with self._bounded(item, "setup"):
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Bound the test itself."""
        with self._bounded(item, "call"):
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, None, None]:
        """Bound the teardown phase."""
        with self._bounded(item, "teardown"):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Report a timeout with its message only (the traceback is where it was stuck)."""
        report = yield
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, SuiteTimeout):
            message = str(error)
            self._hung.append(f"{item.nodeid}: {message.splitlines()[0]}")
            if report.failed:  # not when the test is a listed expected failure
                report.longrepr = message
        return report

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """After a hang, threads the backend left stuck must not keep the process alive."""
        if self._hung and self.settings.limit_s:
            threading.Thread(
                target=_end_stuck_exit,
                args=(self.settings.grace_s, int(exitstatus)),
                name="diaspora-conformance-exit-watchdog",
                daemon=True,
            ).start()

    @contextmanager
    def _bounded(self, item: pytest.Item, phase: str) -> Generator[None, None, None]:
        limit = self.settings.limit_s
        if not limit or not _is_suite_item(item):
            yield
            return
        self._current = (item, phase)
        self._first_timeout = None
        alarm = _can_use_alarm()
        previous: Any = None
        if alarm:
            previous = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, limit, _REPEAT_S)
        self._watchdog.arm(limit + self.settings.grace_s)
        try:
            yield
        except SuiteTimeout as timeout:
            # Clean-up code interrupted again raises later timeouts: report the first one.
            raise (self._first_timeout or timeout) from None
        finally:
            self._current = None
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            self._watchdog.disarm()

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        current = self._current
        if current is None:  # the phase ended as the alarm fired
            return
        item, phase = current
        hung = describe_hung_call(frame, _test_files(item))
        where = "" if phase == "call" else f" (in the test's {phase})"
        timeout = SuiteTimeout(hung.describe(self.settings.limit_s) + where)
        if self._first_timeout is None:
            self._first_timeout = timeout
        raise timeout

    # ------------------------------------------------------------------ stage 2

    def _watchdog_expired(self) -> None:
        """In the watchdog thread: the phase is still running after limit + grace."""
        current = self._current
        if current is None:
            return
        item, phase = current
        _stop_capturing(self._config)
        main = sys._current_frames().get(threading.main_thread().ident or 0)
        hung = describe_hung_call(main, _test_files(item))
        limit = self.settings.limit_s
        message = (
            f"{hung.describe(limit)}; it could not be interrupted "
            f"({phase} of {item.nodeid} still running {self.settings.grace_s:g} s later)"
        )
        stderr = sys.__stderr__ or sys.stderr
        stderr.write(
            f"\ndiaspora-stream conformance: {item.nodeid}: {message}\nStacks of all threads:\n"
        )
        stderr.flush()
        faulthandler.dump_traceback(file=stderr, all_threads=True)
        try:
            self._on_abort(item, message)
        finally:
            stderr.write(
                "\ndiaspora-stream conformance: run ended: a call of the backend could not be "
                f"interrupted after {limit:g} s (see above)\n"
            )
            stderr.flush()
            sys.stdout.flush()
            os._exit(_WATCHDOG_EXIT_STATUS)


def _end_stuck_exit(grace_s: float, exitstatus: int) -> None:
    """Once the main thread has finished, end the process if it is still there after
    ``grace_s`` (waiting for threads that a hung call left stuck)."""
    main = threading.main_thread()
    while main.is_alive():
        time.sleep(0.2)
    time.sleep(grace_s)
    stderr = sys.__stderr__ or sys.stderr
    stderr.write(
        "diaspora-stream conformance: the run is over but threads left by hung calls of the "
        "backend keep the process alive; ending it. Stacks of all threads:\n"
    )
    stderr.flush()
    faulthandler.dump_traceback(file=stderr, all_threads=True)
    os._exit(exitstatus)


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _test_files(item: pytest.Item) -> list[str]:
    path = getattr(item, "path", None)
    return [str(path)] if path is not None else []


def _stop_capturing(config: pytest.Config) -> None:
    """Give standard output and error back to the terminal (pytest captures them in tests)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        try:
            capture.suspend_global_capture(in_=True)
        except Exception:  # noqa: BLE001 - best effort: the main thread is stuck anyway
            pass


class _Watchdog:
    """A daemon thread calling ``expired()`` when an armed deadline passes before ``disarm``."""

    def __init__(self, expired: Callable[[], None]) -> None:
        self._expired = expired
        self._condition = threading.Condition()
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> None:
        """Call ``expired()`` in ``seconds`` unless disarmed before."""
        with self._condition:
            self._deadline = time.monotonic() + seconds
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="diaspora-conformance-watchdog", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def disarm(self) -> None:
        """Cancel the armed deadline."""
        with self._condition:
            self._deadline = None
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while True:
                    deadline = self._deadline
                    if deadline is None:
                        self._condition.wait()
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._deadline = None
                        break
                    self._condition.wait(remaining)
            self._expired()
