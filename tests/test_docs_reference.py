"""The API reference (docs/reference/) documents every public name of ``diaspora_stream.api``
and of the conformance kit, so a new public name cannot be left out of the site."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import diaspora_stream.api
import diaspora_stream_conformance

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference"
_DIRECTIVE = re.compile(r"^\.\. auto(\w+):: (\S+)", re.MULTILINE)


def documented_names() -> set[str]:
    """Last components of every autodoc target, plus the ``__all__`` of automodule targets
    (documented with ``:members:``)."""
    names: set[str] = set()
    for page in REFERENCE.glob("*.md"):
        for kind, target in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            names.add(target.rsplit(".", 1)[-1])
            if kind == "module":
                names.update(getattr(importlib.import_module(target), "__all__", ()))
    return names


def test_every_public_name_of_the_api_is_in_the_reference() -> None:
    missing = set(diaspora_stream.api.__all__) - documented_names()
    assert not missing, f"add these to docs/reference/: {sorted(missing)}"


def test_every_public_name_of_the_conformance_kit_is_in_the_reference() -> None:
    public = set(diaspora_stream_conformance.__all__) - {"__version__"}
    missing = public - documented_names()
    assert not missing, f"add these to docs/reference/conformance.md: {sorted(missing)}"
