"""Requirement levels and capability markers.

Every test of the suite carries one level marker: ``MUST`` (the API's semantics; a backend that
fails it does not conform), ``SHOULD`` (expected of a good backend; reported separately) or
``MAY`` (optional behaviour). Tests that need a capability carry ``requires("name")`` and are
skipped, with the capability named in the reason, when the backend declares it absent; the
suite separately checks that an absent capability raises ``UnsupportedError``.
"""

from __future__ import annotations

import pytest

__all__ = ["LEVELS", "MAY", "MUST", "SHOULD", "requires"]

LEVELS = ("must", "should", "may")

#: Marker of a test of the API's semantics: a backend that fails it does not conform.
MUST = pytest.mark.diaspora_level("must")
#: Marker of a test of what a good backend does; its failures are reported separately.
SHOULD = pytest.mark.diaspora_level("should")
#: Marker of a test of optional behaviour.
MAY = pytest.mark.diaspora_level("may")


def requires(*capabilities: str) -> pytest.MarkDecorator:
    """Mark a test as needing the named ``Capabilities`` fields."""
    return pytest.mark.diaspora_requires(*capabilities)
