"""Rules about topics: creating, listing, opening, refusing duplicates.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from diaspora_stream.api import (
    Driver,
)
from diaspora_stream.api import Exception as DiasporaException

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    data_bytes,
    push_and_flush,
    read_all,
)
from ..levels import MUST

__all__ = ["TopicRules"]


class TopicRules(ConformanceBase):
    """Rules about topics: creating, listing, opening, refusing duplicates."""

    @MUST
    def test_created_topic_exists(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A created topic exists, is listed and opens with the requested partitions."""
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        assert driver.topic_exists(name)
        assert name in driver.list_topics()
        assert len(driver.open_topic(name).partitions) == 2

    @MUST
    def test_missing_topic_does_not_exist_and_open_raises(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A topic never created does not exist, is not listed, and open_topic raises Exception."""
        name = diaspora_backend.topic_name("missing")
        assert driver.topic_exists(name) is False
        assert name not in driver.list_topics()
        try:
            driver.open_topic(name)
        except DiasporaException:
            pass
        else:
            raise AssertionError(f"open_topic({name!r}) of a missing topic did not raise")
        assert driver.topic_exists(name) is False, "open_topic of a missing topic created it"

    @MUST
    def test_duplicate_create_raises(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Creating a topic that exists raises Exception and leaves the existing topic intact."""
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        topic = driver.open_topic(name)
        push_and_flush(topic.producer(), [({"i": 0}, b"zero"), ({"i": 1}, b"one")])
        try:
            driver.create_topic(name, options={"num_partitions": 3})
        except DiasporaException as error:
            assert "exist" in str(error).lower(), f"message does not say why: {error}"
        else:
            raise AssertionError("creating an existing topic did not raise")
        reopened = driver.open_topic(name)
        assert len(reopened.partitions) == 2
        events = read_all(reopened, 2)
        assert sorted(data_bytes(event) for event in events) == [b"one", b"zero"]

    @MUST
    def test_list_topics_describes_topics(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """list_topics maps every topic name to a dict; component entries, if any, are dicts."""
        names = [diaspora_backend.create_topic(driver) for _ in range(2)]
        listed = driver.list_topics()
        assert isinstance(listed, dict)
        for name in names:
            assert name in listed, f"{name} missing from list_topics: {sorted(listed)}"
            info = listed[name]
            assert isinstance(info, dict)
            for key in ("validator", "serializer", "partition_selector"):
                if key in info:
                    assert isinstance(info[key], dict), f"{key} of {name} is {info[key]!r}"

    @MUST
    def test_topic_handle_name_and_partitions(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An open topic has its name and one dict per partition (1 if num_partitions is unset)."""
        name = diaspora_backend.topic_name()
        options = {k: v for k, v in diaspora_backend.topic_options.items() if k != "num_partitions"}
        driver.create_topic(name, options=options)
        topic = driver.open_topic(name)
        assert topic.name == name
        assert len(topic.partitions) == 1
        assert all(isinstance(info, dict) for info in topic.partitions)
        three = driver.open_topic(diaspora_backend.create_topic(driver, num_partitions=3))
        assert len(three.partitions) == 3
