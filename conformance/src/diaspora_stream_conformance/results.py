"""The results of a run's suite tests, grouped by the backend each test ran on.

A pytest session may run the suite on several backends (two subclasses of ``ConformanceSuite``
with their own ``diaspora_backend`` fixtures): each test's backend is the value of its
``diaspora_backend`` fixture; a test that never got it (not run, or failed before its fixtures)
belongs to the backend of the other tests of its class.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from .backend import BackendUnderTest
from .report import Report, TestResult

__all__ = ["RunResults", "backend_key"]


def backend_key(backend: BackendUnderTest) -> str:
    """What tells two backends under test apart: name, driver and topic options."""
    return json.dumps(
        [backend.name, backend.options, backend.topic_options], sort_keys=True, default=str
    )


def _class_of(item: pytest.Item) -> str:
    cls = getattr(item, "cls", None)
    return f"{cls.__module__}.{cls.__qualname__}" if cls is not None else item.nodeid


@dataclass
class RunResults:
    """Every suite test of the run with its result, and the backends they ran on."""

    #: Result of each suite test, by node id.
    results: dict[str, TestResult] = field(default_factory=dict)
    #: A report (without results yet) per backend key, in the order backends were first seen.
    reports: dict[str, Report] = field(default_factory=dict)
    _classes: dict[str, str] = field(default_factory=dict)
    _item_backends: dict[str, str] = field(default_factory=dict)
    _class_backends: dict[str, str] = field(default_factory=dict)

    def add(self, item: pytest.Item, result: TestResult) -> None:
        """Register a collected suite test."""
        self.results[item.nodeid] = result
        self._classes[item.nodeid] = _class_of(item)

    def backend_seen(
        self, backend: BackendUnderTest, make_report: Callable[[BackendUnderTest], Report]
    ) -> None:
        """Remember ``backend``; ``make_report`` makes its report the first time."""
        key = backend_key(backend)
        if key not in self.reports:
            self.reports[key] = make_report(backend)

    def item_ran(self, item: pytest.Item) -> None:
        """Note the backend ``item`` ran on, from its ``diaspora_backend`` fixture value."""
        funcargs = getattr(item, "funcargs", None) or {}
        backend = funcargs.get("diaspora_backend")
        if isinstance(backend, BackendUnderTest):
            key = backend_key(backend)
            self._item_backends[item.nodeid] = key
            self._class_backends.setdefault(_class_of(item), key)

    def by_backend(self, fallback: Callable[[], Report]) -> list[Report]:
        """One report per backend, each with the results of its tests; tests whose backend is
        unknown go to the only backend, else to ``fallback()``."""
        reports = {key: report for key, report in self.reports.items()}
        grouped: dict[str, dict[str, TestResult]] = {key: {} for key in reports}
        for nodeid, result in self.results.items():
            key = self._item_backends.get(nodeid) or self._class_backends.get(self._classes[nodeid])
            if key is None:
                key = next(iter(reports)) if len(reports) == 1 else "unknown"
            if key not in reports:
                reports[key] = fallback()
                grouped[key] = {}
            grouped[key][result.behaviour_id] = result
        for key, report in reports.items():
            report.results = grouped[key]
        return [report for key, report in reports.items() if report.results]
