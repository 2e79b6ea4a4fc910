"""Base class of every test class of the suite, with the fixtures the tests share.

To run the suite against your backend from your own tests, subclass
:class:`~diaspora_stream_conformance.suite.ConformanceSuite` and override ``diaspora_backend``::

    class TestMyBackend(ConformanceSuite):
        @pytest.fixture(scope="session")
        @classmethod
        def diaspora_backend(cls, tmp_path_factory):
            return BackendUnderTest("mine", {"root": str(tmp_path_factory.mktemp("mine"))})

A backend that needs a server starts it in that fixture (or in a fixture it depends on).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from diaspora_stream.api import Capabilities, Driver

from .backend import BackendUnderTest
from .plugin import record_backend

__all__ = ["ConformanceBase"]


class ConformanceBase:
    """Fixtures shared by the suite's tests; not collected by itself (no ``Test`` prefix)."""

    @pytest.fixture(autouse=True)
    def _diaspora_capability_gate(
        self, request: pytest.FixtureRequest, diaspora_backend: BackendUnderTest
    ) -> None:
        """Skip a test whose ``requires(...)`` capabilities the backend declares absent."""
        record_backend(request.config, diaspora_backend)
        needs = [
            capability
            for marker in request.node.iter_markers("diaspora_requires")
            for capability in marker.args
        ]
        if not needs:
            return
        capabilities = self.backend_capabilities(diaspora_backend)
        missing = [name for name in needs if not getattr(capabilities, name)]
        if missing:
            pytest.skip(f"backend declares capability {', '.join(missing)} absent")

    @staticmethod
    def backend_capabilities(backend: BackendUnderTest) -> Capabilities:
        """The backend's declared capabilities (asked once per backend object)."""
        return backend.capabilities

    @pytest.fixture
    def driver(self, diaspora_backend: BackendUnderTest) -> Iterator[Driver]:
        """A driver of the backend under test, closed after the test."""
        driver = diaspora_backend.driver()
        yield driver
        driver.close()
