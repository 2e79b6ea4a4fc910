"""Fixtures of the fault campaigns: the tallies and the backends under test (the table is
printed by :mod:`fault_table`, loaded by the repository's root ``conftest.py``).

Every server or broker started here is stopped by its fixture, whatever the test's outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_campaign import Tally, campaign_seed, trials
from fault_table import attach_to_report, remember
from mochi_service import RunningService, service_config

from diaspora_stream_kafka.testing import driver_options, session_broker


@pytest.fixture
def campaign(request: pytest.FixtureRequest) -> Callable[[str], Tally]:
    """``campaign(name)``: the tally of a new campaign, in the session's table
    (:mod:`fault_table`)."""

    def start(name: str) -> Tally:
        tally = Tally(name, campaign_seed(name))
        remember(request.node, tally)
        return tally

    return start


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    if call.when == "call":
        attach_to_report(item)


@pytest.fixture(scope="session")
def kafka_options() -> Iterator[dict[str, Any]]:
    """Driver options of a broker shared by the kafka campaigns that do not stop it."""
    with session_broker():
        yield driver_options()


@pytest.fixture(scope="module")
def mochi_options(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Driver options of a mochi service shared by a module's campaigns that do not kill it."""
    running = RunningService(service_config(tmp_path_factory.mktemp("mochi")))
    try:
        yield running.options()
    finally:
        running.stop()


@pytest.fixture
def backend_options(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[str], dict[str, Any]]:
    """``backend_options(name)``: driver options for backend ``name`` (servers started lazily,
    so a campaign on files starts no broker)."""

    def options(name: str) -> dict[str, Any]:
        if name == "files":
            return {"root_path": str(tmp_path / "root")}
        if name in ("mochi", "kafka"):
            return dict(request.getfixturevalue(f"{name}_options"))
        return {}

    return options


@pytest.fixture
def trial_count() -> Callable[[int], int]:
    """``trial_count(n)``: ``n`` scaled by ``$DIASPORA_FAULTS_SCALE``."""
    return trials
