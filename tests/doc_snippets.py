"""The Python examples written in the documentation's pages (```python fences), for the tests
that run them: ``tests/test_doc_snippets.py`` runs those that need no service, the kafka and
mochi backends' tests run those that need their broker or service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
_FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Snippet:
    """One ```python block: where it is and its code."""

    page: str
    line: int
    code: str

    @property
    def needs(self) -> str:
        """What running it needs: ``"kafka"`` (a broker), ``"mochi"`` (a service),
        ``"pytest"`` (a test module to run with pytest) or ``""`` (nothing)."""
        for backend in ("kafka", "mochi"):
            if f'backend="{backend}"' in self.code:
                return backend
        if re.search(r"^class Test", self.code, re.MULTILINE):
            return "pytest"
        return ""

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def snippets() -> list[Snippet]:
    """Every ```python block of every page under docs/ (built pages excluded)."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        relative = page.relative_to(DOCS)
        if relative.parts[0].startswith("_"):
            continue
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Snippet(str(relative), line, match.group(1)))
    return found


def snippets_needing(needs: str) -> list[Snippet]:
    """The snippets whose :attr:`Snippet.needs` is ``needs``."""
    return [snippet for snippet in snippets() if snippet.needs == needs]
