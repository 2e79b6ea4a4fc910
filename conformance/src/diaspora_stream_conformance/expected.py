"""Expected failures kept in the backend's own repository, as data.

The file lists one test id (or id prefix) per line, optionally followed by ``#`` and the reason::

    AcknowledgementRules::test_acknowledge_then_resume_by_name   # no acks yet, issue 12

Blank lines and lines starting with ``#`` are ignored. Matching tests are marked ``xfail``
(not strict: a property test may pass when Hypothesis does not find the failing input); entries
that match no collected test are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ExpectedFailure", "ExpectedFailures"]


@dataclass
class ExpectedFailure:
    """One entry of the file."""

    pattern: str
    reason: str
    line: int
    matched: bool = False


@dataclass
class ExpectedFailures:
    """The parsed file."""

    path: str
    entries: list[ExpectedFailure] = field(default_factory=list)

    @classmethod
    def load(cls, path: str) -> ExpectedFailures:
        """Parse ``path``; raise ``FileNotFoundError``/``ValueError`` with the line on error."""
        result = cls(path)
        for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            pattern, _, reason = text.partition("#")
            pattern = pattern.strip()
            if " " in pattern:
                raise ValueError(f"{path}:{number}: a test id cannot contain spaces: {pattern!r}")
            result.entries.append(
                ExpectedFailure(pattern, reason.strip() or "no reason given", number)
            )
        return result

    def match(self, test_id: str) -> ExpectedFailure | None:
        """The first entry whose pattern is ``test_id`` or a prefix of it at a boundary."""
        for entry in self.entries:
            pattern = entry.pattern
            if test_id == pattern or (
                test_id.startswith(pattern) and test_id[len(pattern)] in ":[/."
            ):
                entry.matched = True
                return entry
        return None

    def unmatched(self) -> list[ExpectedFailure]:
        """Entries that matched no collected test."""
        return [entry for entry in self.entries if not entry.matched]
