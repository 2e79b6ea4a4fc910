"""Shared fixtures of the API tests: a ``backend`` parametrized over the reference backends.

By default every backend-dependent test runs once on ``memory`` and once on ``files`` (with its
``root_path`` in the test's ``tmp_path``). The reference's environment variables select one
backend instead (reference-api.md §9.1):

* ``DIASPORA_TEST_BACKEND`` — driver name (e.g. ``files``, ``simple``, ``mine:my.module``);
* ``DIASPORA_TEST_BACKEND_ARGS`` — driver options as JSON text (default ``{}``); for ``files``
  without ``root_path`` one is made in ``tmp_path``;
* ``DIASPORA_TEST_TOPIC_ARGS`` — topic options as JSON text (default ``{}``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
# api_helpers and the component module used through the "name:module" form live here.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from api_helpers import Backend, unique_name  # noqa: E402

from diaspora_stream.api import Driver, TopicHandle  # noqa: E402


def _files_available() -> bool:
    try:
        from diaspora_stream.registry import drivers

        drivers.resolve("files")
    except Exception:  # noqa: BLE001 - not installed yet
        return False
    return True


def _env_json(name: str) -> dict[str, Any]:
    text = os.environ.get(name, "").strip()
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise pytest.UsageError(f"{name} must hold a JSON object, got {text!r}")
    return value


def _backend_params() -> list[Any]:
    chosen = os.environ.get("DIASPORA_TEST_BACKEND", "").strip()
    if chosen:
        return [pytest.param(chosen, id=chosen)]
    return [
        pytest.param("memory", id="memory"),
        pytest.param(
            "files",
            id="files",
            marks=pytest.mark.skipif(
                not _files_available(), reason="the files backend is not installed"
            ),
        ),
    ]


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The backend under test (see the module docstring)."""
    name: str = request.param
    options = (
        _env_json("DIASPORA_TEST_BACKEND_ARGS")
        if os.environ.get("DIASPORA_TEST_BACKEND", "").strip()
        else {}
    )
    if name.split(":", 1)[0] == "files" and "root_path" not in options:
        options["root_path"] = str(tmp_path / "diaspora_data")
    result = Backend(name, options, _env_json("DIASPORA_TEST_TOPIC_ARGS"))
    yield result
    if result._driver is not None:
        result._driver.close()


@pytest.fixture
def driver(backend: Backend) -> Driver:
    """The test's driver."""
    return backend.driver()


@pytest.fixture
def make_topic(backend: Backend) -> Callable[..., TopicHandle]:
    """``make_topic(**topic_options) -> TopicHandle``: create a uniquely named topic and open it.

    Keyword arguments ``validator``, ``serializer`` and ``partition_selector`` are given to
    ``create_topic``; the others are topic options (merged over DIASPORA_TEST_TOPIC_ARGS).
    """

    def make(name: str | None = None, **kwargs: Any) -> TopicHandle:
        components = {
            key: kwargs.pop(key)
            for key in ("validator", "serializer", "partition_selector")
            if key in kwargs
        }
        topic_name = name or unique_name()
        driver = backend.driver()
        driver.create_topic(topic_name, options=backend.topic_options(**kwargs), **components)
        return driver.open_topic(topic_name)

    return make


@pytest.fixture
def topic(make_topic: Callable[..., TopicHandle]) -> TopicHandle:
    """A fresh topic with the configured options (one partition unless configured)."""
    return make_topic()


# The reference's unittest files run in processes of their own (test_reference_unittests.py).
collect_ignore = ["reference_unittests"]
