"""The conformance report: JSON for machines, Markdown for people."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .levels import LEVELS

__all__ = ["TestResult", "Report"]

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
    message: str = ""


@dataclass
class Report:
    """Everything the run found; written by the plugin at the end of the session."""

    backend: str
    backend_options: dict[str, Any]
    capabilities: dict[str, bool]
    profile: str
    results: dict[str, TestResult] = field(default_factory=dict)
    unmatched_expected_failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per level: counts of each outcome and the pass percentage of the tests that ran."""
        summary: dict[str, dict[str, Any]] = {}
        for level in LEVELS:
            results = [r for r in self.results.values() if r.level == level]
            counts: dict[str, Any] = {}
            for result in results:
                counts[result.outcome] = counts.get(result.outcome, 0) + 1
            ran = sum(counts.get(o, 0) for o in ("passed", "failed", "xfailed", "xpassed", "error"))
            passed = counts.get("passed", 0) + counts.get("xpassed", 0)
            counts["total"] = len(results)
            counts["percent"] = round(100.0 * passed / ran, 1) if ran else None
            summary[level] = counts
        return summary

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-able data."""
        return {
            "suite": "diaspora-stream-conformance",
            "suite_version": _version("diaspora-stream-conformance"),
            "api_version": _version("diaspora-stream"),
            "backend": self.backend,
            "backend_options": self.backend_options,
            "capabilities": self.capabilities,
            "profile": self.profile,
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
            f"# Conformance of backend `{self.backend}`",
            "",
            f"diaspora-stream-conformance {data['suite_version']}, diaspora-stream "
            f"{data['api_version']}, profile `{self.profile}`, Python {data['python']}, "
            f"{data['started']}.",
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
            details = result.message.splitlines()[0][:120] if result.message else ""
            details = details.replace("|", "\\|")
            lines.append(
                f"| {result.description or result.behaviour_id} (`{result.behaviour_id}`) "
                f"| {result.level.upper()} | {needs} "
                f"| {_OUTCOME_MARKS.get(result.outcome, result.outcome)} | {details} |"
            )
        return "\n".join(lines) + "\n"

    def write(self, directory: str) -> tuple[Path, Path]:
        """Write ``conformance.json`` and ``conformance.md`` into ``directory``."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        json_path = target / "conformance.json"
        markdown_path = target / "conformance.md"
        json_path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")
        markdown_path.write_text(self.as_markdown(), encoding="utf-8")
        return json_path, markdown_path


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"
