"""What a failing suite test reports: the rule it checks, then what went wrong, then the calls.

For each failing suite test the report (terminal and JSON/Markdown) shows the rule (the first
line of the test's docstring) before the failure, never cut; the calls the test made on the
public API (:mod:`transcript`); and, for a result Hypothesis could not reproduce (``Flaky``),
a plain statement that the backend answered the same program differently, with the program.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from _pytest._code.code import TerminalRepr, TerminalWriter

from .transcript import KEPT, Transcript, installed, recording

__all__ = ["FailureDetails", "flaky_message", "rule_of"]

_TRANSCRIPT_KEY = pytest.StashKey[Transcript]()
#: Title of the report section listing the calls a failing test made.
CALLS_SECTION = "calls made on the API"


def rule_of(item: pytest.Item) -> str:
    """The rule a suite test checks: the first line of its docstring."""
    doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


def _is_suite_item(item: pytest.Item) -> bool:
    return item.get_closest_marker("diaspora_level") is not None


def _notes(error: BaseException) -> list[str]:
    return [str(note) for note in getattr(error, "__notes__", [])]


def flaky_message(error: BaseException) -> str:
    """A Hypothesis ``Flaky`` result in plain words, with the program and each answer."""
    lines = [
        "the backend gave different answers to the same program: Hypothesis ran it again and "
        "it did not fail the same way (a race, or state kept between runs)",
        f"Hypothesis: {str(error).splitlines()[0] if str(error) else type(error).__name__}",
    ]
    lines += _notes(error)
    for number, answer in enumerate(getattr(error, "exceptions", ()), 1):
        cause = answer.__cause__ if type(answer).__name__ == "_WrappedBaseException" else None
        shown = cause or answer
        lines.append(f"answer {number}: {type(shown).__name__}: {shown}")
        lines += [f"  {note}" for note in _notes(shown)]
    return "\n".join(lines)


class _RuleFirst(TerminalRepr):
    """A failure's representation with the rule the test checks written first."""

    def __init__(self, rule: str, failure: Any) -> None:
        self.rule = rule
        self.failure = failure
        if hasattr(failure, "reprtraceback") and hasattr(failure, "reprcrash"):
            # What pytest-xdist sends from a worker: the failure's parts, the rule a section.
            self.reprcrash = failure.reprcrash
            self.reprtraceback = failure.reprtraceback
            self.sections = [*getattr(failure, "sections", []), ("rule broken", rule, "-")]

    def toterminal(self, tw: TerminalWriter) -> None:
        tw.line(f"rule broken: {self.rule}", bold=True, red=True)
        tw.line("")
        if hasattr(self.failure, "toterminal"):
            self.failure.toterminal(tw)
        else:
            for line in str(self.failure).splitlines():
                tw.line(line)


class FailureDetails:
    """pytest hooks: record each suite test's calls; give failures their rule and calls."""

    def __init__(self) -> None:
        self._recording = False
        self._installed: Any = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Wrap the API's methods when the session runs suite tests."""
        if any(_is_suite_item(item) for item in session.items) and self._installed is None:
            self._installed = installed()
            self._installed.__enter__()

    def pytest_sessionfinish(self) -> None:
        """Put the API's methods back."""
        if self._installed is not None:
            self._installed.__exit__(None, None, None)
            self._installed = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Record the calls of a suite test."""
        if self._installed is None or not _is_suite_item(item):
            return (yield)
        path = getattr(item, "path", None)
        with recording([str(path)] if path is not None else []) as transcript:
            item.stash[_TRANSCRIPT_KEY] = transcript
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """On a suite test's failure: rule first, Flaky in plain words, the calls made."""
        report = yield
        if not report.failed or not _is_suite_item(item):
            return report
        error = call.excinfo.value if call.excinfo is not None else None
        from hypothesis.errors import Flaky

        if isinstance(error, Flaky):
            report.longrepr = flaky_message(error)
        crash = getattr(report.longrepr, "reprcrash", None)
        report.diaspora_message = (  # type: ignore[attr-defined]
            str(crash.message) if crash is not None else str(report.longrepr)
        )
        rule = rule_of(item)
        if rule:
            report.longrepr = _RuleFirst(rule, report.longrepr)
        transcript = item.stash.get(_TRANSCRIPT_KEY, None)
        if transcript is not None and call.when == "call":
            lines = transcript.lines()
            report.diaspora_calls = lines  # type: ignore[attr-defined]
            if lines:
                title = f"{CALLS_SECTION} ({transcript.total} calls; the last {KEPT} entries)"
                report.sections.append((title, "\n".join(lines)))
        return report
