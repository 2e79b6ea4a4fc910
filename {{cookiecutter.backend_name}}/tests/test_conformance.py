"""The diaspora-stream conformance suite against the ``{{ cookiecutter.backend_name }}`` backend.

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
from conftest import DRIVER_OPTIONS
from diaspora_stream_conformance import BackendUnderTest
from diaspora_stream_conformance.suite import ConformanceSuite

#: The expected-failures file (format in its header). The suite's pytest plugin reads it from
#: ``DIASPORA_EXPECTED_FAILURES``, unless ``--diaspora-expected-failures FILE`` is given.
EXPECTED_FAILURES = Path(__file__).resolve().parent.parent / "expected-failures.txt"
os.environ.setdefault("DIASPORA_EXPECTED_FAILURES", str(EXPECTED_FAILURES))


class Test{{ cookiecutter.title }}Conformance(ConformanceSuite):
    """The whole conformance suite on the ``{{ cookiecutter.backend_name }}`` backend."""

    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls) -> BackendUnderTest:
        """The backend under test: its entry-point name and its driver options.

        The options are ``DRIVER_OPTIONS`` of ``conftest.py``, shared with the unit tests; in
        them, ``"{tmp}"`` becomes a temporary directory removed at exit, for example
        ``{"root_path": "{tmp}"}``. A backend that needs a server starts it in a session fixture
        of ``conftest.py`` and passes its address in the options.
        """
        return BackendUnderTest("{{ cookiecutter.backend_name }}", DRIVER_OPTIONS)
