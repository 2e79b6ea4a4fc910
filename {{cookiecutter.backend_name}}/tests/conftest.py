"""What every test of the ``{{ cookiecutter.backend_name }}`` backend shares: its driver options.

``DRIVER_OPTIONS`` is the one place to give the options the tests create drivers with: the unit
tests (``test_backend.py``, through the fixtures below) and the conformance suite
(``test_conformance.py``) both use it. ``"{tmp}"`` in a value becomes a fresh temporary
directory (one per unit test), so a backend that keeps its topics on disk starts every test
empty and leaves nothing in the project.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from diaspora_stream.backend.placeholders import substitute_placeholders

from {{ cookiecutter.__package_name }} import {{ cookiecutter.title }}Driver

#: CHANGE ME when the driver gains options (driver.py's OPTIONS), for example
#: ``{"root_path": "{tmp}"}`` for a backend that stores topics in a directory, or a server's
#: address (a server the tests need is started in a session fixture here).
DRIVER_OPTIONS: dict[str, Any] = {}


@pytest.fixture
def driver_options(tmp_path: Path) -> dict[str, Any]:
    """``DRIVER_OPTIONS`` with ``"{tmp}"`` replaced by this test's own temporary directory."""
    options: dict[str, Any] = substitute_placeholders(DRIVER_OPTIONS, str(tmp_path))
    return options


@pytest.fixture
def topic_name() -> str:
    """A topic name no other test uses (topics may outlive a test on a persistent backend)."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def driver(driver_options: dict[str, Any]) -> Iterator[{{ cookiecutter.title }}Driver]:
    """A driver of the backend with the test's options, closed after the test."""
    created = {{ cookiecutter.title }}Driver.create(driver_options)
    yield created
    created.close()
