"""The fault campaigns' table gathers the tallies from the test reports, as the controlling
process of a parallel run receives them from its workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fault_campaign import Tally
from fault_table import TALLIES_PROPERTY, FaultTable, attach_to_report, remember


@dataclass
class _Item:
    stash: pytest.Stash = field(default_factory=pytest.Stash)
    user_properties: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class _Report:
    when: str
    user_properties: list[tuple[str, Any]]


class _Terminal:
    def __init__(self) -> None:
        self.text = ""

    def section(self, title: str) -> None:
        self.text += f"== {title}\n"

    def write(self, text: str) -> None:
        self.text += text

    def write_line(self, line: str) -> None:
        self.text += line + "\n"


def test_tallies_travel_in_reports_and_make_one_table() -> None:
    first, second = _Item(), _Item()
    remember(first, Tally("files-sigkill", seed=7, trials=3, events=120))
    remember(second, Tally("mochi-kill9", seed=9, trials=2, events=50, lost=1))
    for item in (first, second):
        attach_to_report(item)  # type: ignore[arg-type]
    ((name, value),) = first.user_properties
    assert name == TALLIES_PROPERTY and value[0]["events"] == 120
    table = FaultTable()
    for item in (first, second):  # as the controller receives them, serialized
        table.pytest_runtest_logreport(_Report("setup", []))  # type: ignore[arg-type]
        table.pytest_runtest_logreport(_Report("call", item.user_properties))  # type: ignore[arg-type]
    terminal = _Terminal()
    table.pytest_terminal_summary(terminal)
    assert terminal.text.startswith("== fault campaigns\n")
    assert "| files-sigkill | 3 | 120 | 0 | 0 | 0 | 0 | 7 |" in terminal.text
    assert "| mochi-kill9 | 2 | 50 | 1 | 0 | 0 | 0 | 9 |" in terminal.text


def test_no_campaign_no_table() -> None:
    item = _Item()
    attach_to_report(item)  # type: ignore[arg-type]
    assert item.user_properties == []
    terminal = _Terminal()
    FaultTable().pytest_terminal_summary(terminal)
    assert terminal.text == ""
