"""Rules about components written in Python (D5).

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from typing import Any

from diaspora_stream.api import (
    Driver,
    PartitionSelector,
    Serializer,
    TopicHandle,
    Validator,
)
from diaspora_stream.api import Exception as DiasporaException

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    push_and_flush,
    read_all,
)
from ..levels import MUST
from ..python_components import EnvelopeSerializer, KeyPartitionSelector, RequiredKeyValidator

__all__ = ["ComponentRules"]


class ComponentRules(ConformanceBase):
    """Rules about components written in Python (D5)."""

    @MUST
    def test_python_components_survive_reopening(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Python components and their configuration work again after reopening the topic (D5).

        The topic is reopened with a new Driver if the backend declares persistent topics, else
        with the same driver.
        """
        name = diaspora_backend.create_topic(
            driver,
            num_partitions=3,
            validator=Validator.from_metadata(type=RequiredKeyValidator.type_name, key="ok"),
            serializer=Serializer.from_metadata(type=EnvelopeSerializer.type_name, tag="t1"),
            partition_selector=PartitionSelector.from_metadata(
                type=KeyPartitionSelector.type_name, key="p"
            ),
        )
        first = driver.open_topic(name)
        self._check_components(first, {"ok": 1, "p": 2, "i": 0})
        persistent = self.backend_capabilities(diaspora_backend).persistent_topics
        other = diaspora_backend.driver() if persistent else driver
        try:
            reopened = other.open_topic(name)
            assert reopened.validator.metadata() == {
                "type": RequiredKeyValidator.type_name,
                "key": "ok",
            }
            assert reopened.serializer.metadata()["type"] == EnvelopeSerializer.type_name
            assert reopened.partition_selector.metadata()["key"] == "p"
            self._check_components(reopened, {"ok": 1, "p": 4, "i": 1})
            events = read_all(reopened, 2)
            placed = {event.metadata["i"]: event.partition_index for event in events}
            assert placed == {0: 2, 1: 1}
            assert all(event.metadata["serializer_tag"] == "t1" for event in events)
            info = other.list_topics()[name]
            if "validator" in info:
                assert info["validator"]["type"] == RequiredKeyValidator.type_name
        finally:
            if other is not driver:
                other.close()

    @staticmethod
    def _check_components(topic: TopicHandle, good: dict[str, Any]) -> None:
        producer = topic.producer()
        try:
            producer.push({"p": 1, "i": -1}).wait(WAIT_MS)
        except DiasporaException as error:
            assert "ok" in str(error), f"validator message lost: {error}"
        else:
            raise AssertionError("the Python validator did not reject an event without 'ok'")
        push_and_flush(producer, [(good, b"")])
