"""The list of every behaviour the suite checks, read from the test classes themselves.

``python -m diaspora_stream_conformance.catalogue`` prints it as a Markdown table (the
documentation's "generated list of all behaviours checked"); ``--format json`` prints it as JSON.

Each entry is one test: its id (``Class::test_name``, as in the conformance report), its level
(MUST, SHOULD, MAY), the capabilities it requires, its parameter sets if it is parametrized, and
the first line of its docstring (the behaviour).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .levels import LEVELS

__all__ = [
    "CatalogueEntry",
    "catalogue",
    "main",
    "markdown_table",
    "shadowed_tests",
    "suite_classes",
]


@dataclass(frozen=True)
class CatalogueEntry:
    """One test of the suite."""

    #: ``Class::test_name``, the behaviour id of the conformance report.
    behaviour_id: str
    #: The class that defines the test.
    class_name: str
    #: The test's name.
    test_name: str
    #: ``"must"``, ``"should"`` or ``"may"``; ``""`` if the test has no level marker (a bug).
    level: str
    #: Capabilities the test requires (``requires(...)``).
    capabilities: tuple[str, ...] = ()
    #: Ids of the parameter sets of a parametrized test (empty otherwise).
    parameters: tuple[str, ...] = ()
    #: First line of the docstring: the behaviour checked.
    description: str = ""
    #: Every level marker found (more than one is a bug of the suite).
    levels: tuple[str, ...] = field(default=(), repr=False)


def suite_classes() -> list[type]:
    """The classes whose tests make up the suite.

    Every class of :class:`~diaspora_stream_conformance.suite.ConformanceSuite`'s MRO that
    derives from :class:`~diaspora_stream_conformance.base.ConformanceBase`, plus the rule
    families, bad-input and capability classes (listed even before the suite includes them).
    """
    from .bad_input import BadInputTests
    from .base import ConformanceBase
    from .capability_checks import CapabilityTests
    from .rules import RULE_FAMILIES
    from .suite import ConformanceSuite

    classes: list[type] = []
    for cls in (*ConformanceSuite.__mro__, *RULE_FAMILIES, BadInputTests, CapabilityTests):
        if (
            isinstance(cls, type)
            and issubclass(cls, ConformanceBase)
            and cls is not ConformanceBase
            and cls not in classes
            and _own_tests(cls)
        ):
            classes.append(cls)
    return classes


def _own_tests(cls: type) -> list[tuple[str, Any]]:
    """The test functions ``cls`` defines itself (not inherited), in definition order."""
    tests = []
    for name, value in vars(cls).items():
        if not name.startswith("test"):
            continue
        function = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if inspect.isfunction(function):
            tests.append((name, function))
    return tests


def _marks(function: Any, cls: type) -> list[Any]:
    marks = list(getattr(function, "pytestmark", []))
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    if inner is not None:
        marks.extend(getattr(inner, "pytestmark", []))
    class_marks = getattr(cls, "pytestmark", [])
    marks.extend(class_marks if isinstance(class_marks, list) else [class_marks])
    return marks


def _parameter_ids(marks: Iterable[Any]) -> tuple[str, ...]:
    ids: list[str] = []
    for mark in marks:
        if mark.name != "parametrize":
            continue
        explicit = mark.kwargs.get("ids")
        values = mark.args[1] if len(mark.args) > 1 else mark.kwargs.get("argvalues", [])
        if explicit is not None and not callable(explicit):
            ids.extend(str(value) for value in explicit)
        else:
            ids.extend(str(getattr(value, "id", None) or value) for value in values)
    return tuple(ids)


def _first_line(function: Any) -> str:
    """The docstring's first line (what the conformance report shows too)."""
    lines = (inspect.getdoc(function) or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def _entries(cls: type) -> Iterator[CatalogueEntry]:
    for name, function in _own_tests(cls):
        marks = _marks(function, cls)
        levels = tuple(
            str(mark.args[0]) for mark in marks if mark.name == "diaspora_level" and mark.args
        )
        capabilities = tuple(
            str(capability)
            for mark in marks
            if mark.name == "diaspora_requires"
            for capability in mark.args
        )
        yield CatalogueEntry(
            behaviour_id=f"{cls.__name__}::{name}",
            class_name=cls.__name__,
            test_name=name,
            level=levels[0] if levels else "",
            capabilities=capabilities,
            parameters=_parameter_ids(marks),
            description=_first_line(function),
            levels=levels,
        )


def catalogue(classes: Sequence[type] | None = None) -> list[CatalogueEntry]:
    """Every test of ``classes`` (default: :func:`suite_classes`), class by class."""
    chosen = suite_classes() if classes is None else list(classes)
    return [entry for cls in chosen for entry in _entries(cls)]


def shadowed_tests(classes: Sequence[type] | None = None) -> dict[str, list[str]]:
    """Test names defined by more than one suite class (only one of them would run)."""
    chosen = suite_classes() if classes is None else list(classes)
    owners: dict[str, list[str]] = {}
    for cls in chosen:
        for name, _ in _own_tests(cls):
            owners.setdefault(name, []).append(cls.__name__)
    return {name: classes_ for name, classes_ in owners.items() if len(classes_) > 1}


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(entries: Sequence[CatalogueEntry]) -> str:
    """The catalogue as a Markdown table, followed by the count of tests per level."""
    lines = [
        "| Behaviour | Level | Requires | Description |",
        "|---|---|---|---|",
    ]
    for entry in entries:
        name = f"`{entry.behaviour_id}`"
        if entry.parameters:
            name += " [" + ", ".join(f"`{_cell(value)}`" for value in entry.parameters) + "]"
        lines.append(
            f"| {name} | {entry.level.upper() or '?'} | "
            f"{', '.join(entry.capabilities) or '-'} | {_cell(entry.description)} |"
        )
    counts = {level: sum(1 for entry in entries if entry.level == level) for level in LEVELS}
    summary = ", ".join(f"{counts[level]} {level.upper()}" for level in LEVELS)
    lines.extend(["", f"{len(entries)} tests: {summary}."])
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the catalogue (``--format markdown`` or ``json``; ``--level`` filters)."""
    parser = argparse.ArgumentParser(
        prog="python -m diaspora_stream_conformance.catalogue",
        description="List every behaviour the Diaspora Stream conformance suite checks.",
    )
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--level", choices=LEVELS, help="only tests of this level")
    arguments = parser.parse_args(argv)
    entries = catalogue()
    if arguments.level:
        entries = [entry for entry in entries if entry.level == arguments.level]
    if arguments.format == "json":
        payload = [
            {key: value for key, value in asdict(entry).items() if key != "levels"}
            for entry in entries
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(markdown_table(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
