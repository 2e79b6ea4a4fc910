"""The conformance report: JSON for machines, Markdown for people."""

from __future__ import annotations

import json
import platform
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .levels import LEVELS

__all__ = ["SUITE", "Report", "TestResult", "provenance_line", "report_stems"]

#: The suite's distribution name, as a statement of conformance names it.
SUITE = "diaspora-stream-conformance"
#: Outcomes of tests that ran (skipped and not-run tests do not count in percentages).
_RAN = ("passed", "failed", "xfailed", "xpassed", "error")
#: Outcomes that break a rule (an expected failure still breaks it).
_BROKEN = ("failed", "error", "xfailed")
#: Lines of a message shown in the Markdown table (the whole message is in its own section).
_DETAIL_LINES = 3
#: Longest line of a message shown in the Markdown table.
_DETAIL_WIDTH = 300
#: Most failing tests a statement names.
_NAMED_FAILURES = 5

_OUTCOME_MARKS = {
    "passed": "✅ pass",
    "failed": "❌ FAIL",
    "skipped": "⏭ skipped",
    "xfailed": "⚠ expected failure",
    "xpassed": "✅ pass (listed as expected failure)",
    "error": "❌ ERROR",
}


@dataclass
class TestResult:
    """The outcome of one behaviour test."""

    behaviour_id: str
    level: str
    capabilities: list[str]
    description: str
    outcome: str = "not run"
    duration_s: float = 0.0
    #: The failure (whole), skip reason or expected-failure reason.
    message: str = ""
    #: On failure: the last calls the test made on the API (compressed).
    calls: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Everything the run found; written by the plugin at the end of the session."""

    backend: str
    backend_options: dict[str, Any]
    capabilities: dict[str, bool]
    profile: str
    #: How Hypothesis chose its examples (``derandomized``, ``12345``, ...), as the statement says.
    seed: str = "unknown"
    #: Name shown for the backend (the name, with its options when two backends share it).
    label: str = ""
    #: Suite tests left out of the run with ``-k`` or ``-m``.
    deselected: int = 0
    results: dict[str, TestResult] = field(default_factory=dict)
    unmatched_expected_failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    #: What the driver says is behind the backend (``Driver.provenance``), e.g. the foreign
    #: module, its version, driver name and options of a bridged backend.
    provenance: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per level: counts of each outcome and the pass percentage of the tests that ran."""
        summary: dict[str, dict[str, Any]] = {}
        for level in LEVELS:
            results = [r for r in self.results.values() if r.level == level]
            counts: dict[str, Any] = {}
            for result in results:
                counts[result.outcome] = counts.get(result.outcome, 0) + 1
            ran = sum(counts.get(o, 0) for o in _RAN)
            passed = counts.get("passed", 0) + counts.get("xpassed", 0)
            counts["total"] = len(results)
            counts["percent"] = round(100.0 * passed / ran, 1) if ran else None
            summary[level] = counts
        return summary

    def statement(self) -> str:
        """The publishable first line: whether the backend conforms, with the suite version,
        the pass rate per level, the profile and the seed."""
        summary = self.summary()
        rates = ", ".join(
            _rate(level, counts) for level, counts in summary.items() if counts["total"]
        )
        name = self.label or self.backend
        suite = f"{SUITE} {__version__}"
        context = f"profile {self.profile}, seed {self.seed}"
        if self.deselected:
            context += f"; partial run: {self.deselected} suite tests deselected"
        must = [r for r in self.results.values() if r.level == "must"]
        broken = sorted(r.behaviour_id for r in must if r.outcome in _BROKEN)
        if broken:
            named = ", ".join(broken[:_NAMED_FAILURES])
            if len(broken) > _NAMED_FAILURES:
                named += f", … {len(broken) - _NAMED_FAILURES} more"
            failures = "MUST failure" if len(broken) == 1 else "MUST failures"
            return (
                f"{name} does not conform to {suite}: {len(broken)} {failures} ({named}) "
                f"— {rates} — {context}"
            )
        not_run = sum(1 for r in must if r.outcome == "not run")
        if not_run or not any(r.outcome in _RAN for r in must):
            return (
                f"{name}: conformance to {suite} not established: {not_run} MUST tests did "
                f"not run — {rates} — {context}"
            )
        return f"{name} conforms to {suite}: {rates} — {context}"

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-able data."""
        return {
            "statement": self.statement(),
            "suite": SUITE,
            "suite_version": __version__,
            "api_version": _version("diaspora-stream"),
            "backend": self.backend,
            "backend_options": self.backend_options,
            "backend_provenance": self.provenance,
            "capabilities": self.capabilities,
            "profile": self.profile,
            "seed": self.seed,
            "deselected_tests": self.deselected,
            "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "summary": self.summary(),
            "unmatched_expected_failures": self.unmatched_expected_failures,
            "results": [
                asdict(r) for r in sorted(self.results.values(), key=lambda r: r.behaviour_id)
            ],
        }

    def as_markdown(self) -> str:
        """A conformance table: summary per level, then one row per behaviour."""
        data = self.as_json()
        lines = [
            f"# {data['statement']}",
            "",
            f"Conformance of backend `{self.backend}`: {SUITE} {data['suite_version']}, "
            f"diaspora-stream {data['api_version']}, profile `{self.profile}`, seed "
            f"{self.seed}, Python {data['python']}, {data['started']}.",
            "",
            "| level | passed | failed | expected failures | skipped | conformance |",
            "|---|---|---|---|---|---|",
        ]
        for level, counts in data["summary"].items():
            percent = "n/a" if counts["percent"] is None else f"{counts['percent']} %"
            passed = counts.get("passed", 0) + counts.get("xpassed", 0)
            failed = counts.get("failed", 0) + counts.get("error", 0)
            lines.append(
                f"| {level.upper()} | {passed} | {failed} | {counts.get('xfailed', 0)} "
                f"| {counts.get('skipped', 0)} | {percent} |"
            )
        capabilities = ", ".join(
            f"{k}={'yes' if v else 'no'}" for k, v in self.capabilities.items()
        )
        lines += ["", f"Declared capabilities: {capabilities}.", ""]
        if self.provenance:
            lines += [f"Behind the backend: {provenance_line(self.provenance)}.", ""]
        if self.unmatched_expected_failures:
            lines += [
                "Expected-failure entries that matched no test: "
                + ", ".join(f"`{u}`" for u in self.unmatched_expected_failures),
                "",
            ]
        lines += ["| behaviour | level | needs | result | details |", "|---|---|---|---|---|"]
        for result in sorted(
            self.results.values(), key=lambda r: (LEVELS.index(r.level), r.behaviour_id)
        ):
            needs = ", ".join(result.capabilities) or "-"
            details = "<br>".join(
                _cell(line) for line in result.message.splitlines()[:_DETAIL_LINES]
            )
            lines.append(
                f"| {result.description or result.behaviour_id} (`{result.behaviour_id}`) "
                f"| {result.level.upper()} | {needs} "
                f"| {_OUTCOME_MARKS.get(result.outcome, result.outcome)} | {details} |"
            )
        lines += _failures_section(self.results.values())
        return "\n".join(lines) + "\n"

    def write(self, directory: str, stem: str = "conformance") -> tuple[Path, Path]:
        """Write ``STEM.json`` and ``STEM.md`` into ``directory``."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        json_path = target / f"{stem}.json"
        markdown_path = target / f"{stem}.md"
        json_path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")
        markdown_path.write_text(self.as_markdown(), encoding="utf-8")
        return json_path, markdown_path


def report_stems(labels: list[str]) -> list[str]:
    """File names (without suffix) of the reports of backends ``labels``: ``conformance`` for
    a single backend, else ``conformance-LABEL`` (made safe for file names, and distinct)."""
    if len(labels) == 1:
        return ["conformance"]
    stems: list[str] = []
    for label in labels:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "backend"
        stem, number = f"conformance-{slug}", 2
        while stem in stems:
            stem, number = f"conformance-{slug}-{number}", number + 1
        stems.append(stem)
    return stems


def provenance_line(provenance: dict[str, Any]) -> str:
    """``module `m` 1.2, backend `files`, options `{...}`...``: a driver's provenance in words
    (the known keys of a bridge first, then any other key as JSON)."""
    parts = []
    rest = dict(provenance)
    module = rest.pop("module", None)
    version = rest.pop("module_version", None)
    if module is not None:
        parts.append(f"module `{module}` " + (f"version {version}" if version else "(no version)"))
    backend = rest.pop("backend", None)
    if backend is not None:
        parts.append(f"driver `{backend}`")
    options = rest.pop("backend_options", None)
    if options is not None:
        parts.append(f"driver options `{json.dumps(options, sort_keys=True)}`")
    parts += [f"{key} `{json.dumps(value, sort_keys=True)}`" for key, value in rest.items()]
    return ", ".join(parts)


def _cell(text: str) -> str:
    """``text`` as a Markdown table cell (long lines cut, pipes escaped)."""
    if len(text) > _DETAIL_WIDTH:
        text = text[: _DETAIL_WIDTH - 1] + "…"
    return text.replace("|", "\\|")


def _failures_section(results: Iterable[TestResult]) -> list[str]:
    """Markdown: each failing test with its rule, the whole failure and the calls it made."""
    failing = sorted(
        (r for r in results if r.outcome in ("failed", "error")),
        key=lambda r: (LEVELS.index(r.level), r.behaviour_id),
    )
    lines: list[str] = []
    if failing:
        lines += ["", "## Failures"]
    for result in failing:
        lines += ["", f"### `{result.behaviour_id}` ({result.level.upper()})", ""]
        if result.description:
            lines += [f"Rule broken: {result.description}", ""]
        lines += ["~~~~text", result.message, "~~~~"]
        if result.calls:
            lines += ["", "Calls made on the API (last ones, oldest first):", "", "~~~~text"]
            lines += [*result.calls, "~~~~"]
    return lines


def _rate(level: str, counts: dict[str, Any]) -> str:
    """``MUST 100 % (73/73)``: passed over the tests that ran."""
    ran = sum(counts.get(outcome, 0) for outcome in _RAN)
    passed = counts.get("passed", 0) + counts.get("xpassed", 0)
    percent = "n/a" if counts["percent"] is None else f"{counts['percent']:g} %"
    return f"{level.upper()} {percent} ({passed}/{ran})"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"
