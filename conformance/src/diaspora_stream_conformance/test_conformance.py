"""Collected by ``pytest --pyargs diaspora_stream_conformance``: the suite on the backend given
by ``--diaspora-backend``."""

from __future__ import annotations

from diaspora_stream_conformance.suite import ConformanceSuite


class TestConformance(ConformanceSuite):
    """The conformance suite against the backend named on the command line."""
