"""What every test directory of the repository shares: the ``kafka`` marker, what the
processes of a parallel run share (:mod:`parallel_runs`) and the table of the fault campaigns
(:mod:`fault_table`).

The tests that need a Kafka broker (the kafka backend's, the kafka fault campaigns, any test
parametrized with the ``kafka`` backend) are marked ``kafka`` here, so that
``pytest -m "not kafka"`` leaves them out on a machine without Java.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Fixtures that start or reach a Kafka broker.
KAFKA_FIXTURES = frozenset({"kafka_broker", "kafka_options", "bootstrap"})
ROOT = Path(__file__).resolve().parent
KAFKA_BACKEND = ROOT / "reference_backends" / "kafka"
#: Tests parametrized with the name "kafka" that only read files (the template's drift check).
NO_BROKER = ROOT / "tests" / "template"


def _runs_this_repository(config: pytest.Config) -> bool:
    """Whether this is a run of the repository's tests (this file is also a conftest of the
    runs that tests start on the editable packages, with a root directory of their own)."""
    return config.rootpath == ROOT


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    if _runs_this_repository(config):
        import parallel_runs

        parallel_runs.choose_distribution(config)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    if not _runs_this_repository(config):
        return None
    import parallel_runs

    return parallel_runs.auto_workers()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", 'kafka: needs a Kafka broker (Java); leave out with -m "not kafka"'
    )
    if _runs_this_repository(config):
        import parallel_runs
        from fault_table import FaultTable
        from hypothesis import settings

        # No per-example deadline: on a loaded machine (parallel workers, brokers) a timed
        # example says nothing about the code under test.
        settings.register_profile("repository", deadline=None)
        settings.load_profile("repository")
        # The brokers of the tests live seconds: a quick JVM start matters, peak speed not.
        os.environ.setdefault("DIASPORA_KAFKA_BROKER_JVM_OPTIONS", "-XX:TieredStopAtLevel=1")

        parallel_runs.share(config)
        if not hasattr(config, "workerinput"):
            config.pluginmanager.register(FaultTable(), "fault-campaign-table")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _runs_this_repository(config):
        import parallel_runs

        parallel_runs.release(config)


def needs_kafka(item: pytest.Item) -> bool:
    """Whether ``item`` needs a Kafka broker."""
    path = Path(str(item.path)).resolve()
    if KAFKA_BACKEND in path.parents or "kafka" in path.name:
        return True
    if KAFKA_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    return (
        callspec is not None
        and NO_BROKER not in path.parents
        and "kafka" in [value for value in callspec.params.values() if isinstance(value, str)]
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if needs_kafka(item):
            item.add_marker(pytest.mark.kafka)
    if _runs_this_repository(config):
        import parallel_runs

        parallel_runs.start_slow_tests_first(items)
