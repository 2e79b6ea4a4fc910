"""The diaspora-stream conformance suite against the ``kafka`` backend.

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


class TestKafkaConformance(ConformanceSuite):
    """The whole conformance suite on the ``kafka`` backend."""

    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls) -> BackendUnderTest:
        """The ``kafka`` backend on the session's broker.

        ``tests/conftest.py`` starts a broker for the session (or uses the one at
        ``$DIASPORA_KAFKA_BOOTSTRAP_SERVERS``) and sets that variable before this runs. The
        test processes of a parallel run share that broker: each has a namespace of its own, so
        that the topics one lists are its own (a topic the suite creates is never listed by
        another process's check that "nothing was created").
        """
        return BackendUnderTest(
            "kafka",
            {
                "kafka": {"bootstrap.servers": os.environ["DIASPORA_KAFKA_BOOTSTRAP_SERVERS"]},
                "namespace": f"conformance-{os.getpid()}",
            },
        )
