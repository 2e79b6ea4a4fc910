"""Fixtures of the mochi backend tests: a service started for the session, and fresh ones."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mochi_service import GROUP_FILE_VARIABLE, RunningService, service_config


@pytest.fixture(scope="session", autouse=True)
def mochi_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The session's service (every test and the conformance suite use it)."""
    try:
        running = RunningService(service_config(tmp_path_factory.mktemp("mochi-service")))
    except Exception as error:  # noqa: BLE001 - turned into one clear failure
        pytest.fail(f"could not start the mochi service for the tests: {error}", pytrace=False)
    previous = os.environ.get(GROUP_FILE_VARIABLE)
    os.environ[GROUP_FILE_VARIABLE] = running.group_file
    yield running
    running.stop()
    if previous is None:
        os.environ.pop(GROUP_FILE_VARIABLE, None)
    else:
        os.environ[GROUP_FILE_VARIABLE] = previous


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[Callable[..., RunningService]]:
    """``make_service(**settings)``: a service of its own for one test (stopped afterwards)."""
    started: list[RunningService] = []

    def make(**settings: Any) -> RunningService:
        running = RunningService(service_config(tmp_path / f"service-{len(started)}", **settings))
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
