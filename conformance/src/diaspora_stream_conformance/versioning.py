"""The suite's version, and the check behind ``--diaspora-require-suite-version``.

A backend pins the suite like any dependency (``diaspora-stream-conformance==0.4.*`` in its test
requirements); the option is for runs that must not silently use another version.
"""

from __future__ import annotations

import pytest
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from . import __version__

__all__ = ["check_suite_version"]


def check_suite_version(spec: str | None) -> None:
    """Raise ``pytest.UsageError`` unless this suite's version satisfies ``spec`` (if any)."""
    if not spec:
        return
    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier:
        raise pytest.UsageError(
            f"--diaspora-require-suite-version: not a version specifier: {spec!r}"
        ) from None
    if not specifier.contains(__version__, prereleases=True):
        raise pytest.UsageError(
            f"this run uses diaspora-stream-conformance {__version__}, which does not satisfy "
            f"--diaspora-require-suite-version {spec!r}"
        )
