"""The table of the fault campaigns that ran, printed at the end of the session (and written to
``$DIASPORA_FAULTS_REPORT`` when set).

Each campaign's tally travels with its test's report (``user_properties``), so the table is
complete in a parallel run too, where the campaigns run in worker processes and the table is
printed by the controlling one.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest
from fault_campaign import Tally, table, write_report

#: The name of the report property that carries a test's tallies.
TALLIES_PROPERTY = "fault_campaign_tallies"
_ITEM_TALLIES = pytest.StashKey[list[Tally]]()


def remember(item: pytest.Item, tally: Tally) -> None:
    """Put ``tally`` (of a campaign run by ``item``) in the session's table."""
    item.stash.setdefault(_ITEM_TALLIES, []).append(tally)


def attach_to_report(item: pytest.Item) -> None:
    """Put the tallies of ``item``'s campaigns in its report (call before the call phase's
    report is made: the faults' ``conftest.py`` does it in ``pytest_runtest_makereport``)."""
    tallies = item.stash.get(_ITEM_TALLIES, [])
    if tallies:
        item.user_properties.append((TALLIES_PROPERTY, [asdict(tally) for tally in tallies]))


class FaultTable:
    """Gathers the tallies from the reports and prints the table, in the process that reports
    (the controller of a parallel run, not its workers); registered by the repository's root
    ``conftest.py``."""

    def __init__(self) -> None:
        self._tallies: list[Tally] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == TALLIES_PROPERTY:
                self._tallies.extend(Tally(**fields) for fields in value)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self._tallies:
            return
        terminalreporter.section("fault campaigns")
        terminalreporter.write(table(self._tallies))
        path = write_report(self._tallies)
        if path is not None:
            terminalreporter.write_line(f"fault campaign table written to {path}")
