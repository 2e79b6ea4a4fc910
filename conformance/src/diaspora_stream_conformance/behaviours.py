"""The behaviour catalogue: one named test per documented behaviour of the API."""

from __future__ import annotations

from diaspora_stream.api import Driver

from .backend import BackendUnderTest
from .base import ConformanceBase
from .levels import MUST

__all__ = ["BehaviourTests"]


class BehaviourTests(ConformanceBase):
    """Documented behaviours (reference-api §9, §10 and the design's deviations)."""

    @MUST
    def test_created_topic_exists(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A created topic exists, is listed and opens with the requested partitions."""
        name = diaspora_backend.create_topic(driver, num_partitions=2)
        assert driver.topic_exists(name)
        assert name in driver.list_topics()
        assert len(driver.open_topic(name).partitions) == 2
