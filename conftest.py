"""What every test directory of the repository shares: the ``kafka`` marker.

The tests that need a Kafka broker (the kafka backend's, the kafka fault campaigns, any test
parametrized with the ``kafka`` backend) are marked ``kafka`` here, so that
``pytest -m "not kafka"`` leaves them out on a machine without Java.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: Fixtures that start or reach a Kafka broker.
KAFKA_FIXTURES = frozenset({"kafka_broker", "kafka_options", "bootstrap"})
ROOT = Path(__file__).resolve().parent
KAFKA_BACKEND = ROOT / "reference_backends" / "kafka"
#: Tests parametrized with the name "kafka" that only read files (the template's drift check).
NO_BROKER = ROOT / "tests" / "template"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", 'kafka: needs a Kafka broker (Java); leave out with -m "not kafka"'
    )


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if needs_kafka(item):
            item.add_marker(pytest.mark.kafka)
