"""The diaspora-stream conformance suite against the ``mochi`` backend.

Every test of ``diaspora_stream_conformance`` runs here, on the backend that
``diaspora_backend`` returns. ``nox -s conformance`` runs this file with the ``ci`` Hypothesis
profile and writes ``conformance-report/conformance.{json,md}``; plain ``pytest`` runs it too.

Tests the backend is known to fail are listed, with a reason, in ``expected-failures.txt`` at
the project's root: they are then expected failures, not errors. Never edit the suite itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from diaspora_stream_conformance import BackendUnderTest
from diaspora_stream_conformance.suite import ConformanceSuite

#: The expected-failures file (format in its header). The suite's pytest plugin reads it from
#: ``DIASPORA_EXPECTED_FAILURES``, unless ``--diaspora-expected-failures FILE`` is given.
EXPECTED_FAILURES = Path(__file__).resolve().parent.parent / "expected-failures.txt"
os.environ.setdefault("DIASPORA_EXPECTED_FAILURES", str(EXPECTED_FAILURES))


class TestMochiConformance(ConformanceSuite):
    """The whole conformance suite on the ``mochi`` backend."""

    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls) -> BackendUnderTest:
        """The ``mochi`` backend, client of the service that ``conftest.py`` starts.

        The session fixture ``mochi_service`` (autouse) starts a server in a temporary directory
        and puts its group file in ``DIASPORA_MOCHI_GROUP_FILE``; it stops it at the end.
        """
        return BackendUnderTest("mochi", {"group_file": os.environ["DIASPORA_MOCHI_GROUP_FILE"]})
