"""Rules about the API objects: thread pools, producers' and consumers' properties.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from diaspora_stream.api import (
    Consumer,
    Driver,
    Ordering,
    ThreadPool,
)

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..levels import MUST

__all__ = ["HandleRules"]


class HandleRules(ConformanceBase):
    """Rules about the API objects: thread pools, producers' and consumers' properties."""

    @MUST
    def test_driver_thread_pools(self, driver: Driver) -> None:
        """default_thread_pool is one ThreadPool; make_thread_pool(n) has n threads."""
        pool = driver.default_thread_pool
        assert isinstance(pool, ThreadPool)
        assert driver.default_thread_pool is pool
        made = driver.make_thread_pool(2)
        try:
            assert isinstance(made, ThreadPool)
            assert made.thread_count == 2
            assert driver.make_thread_pool(1).thread_count == 1
        finally:
            made.shutdown()

    @MUST
    def test_producer_properties(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A producer keeps its name, topic, thread pool, batch size and max_num_batches."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        pool = driver.default_thread_pool
        producer = topic.producer(
            "my_producer",
            batch_size=32,
            max_num_batches=4,
            thread_pool=pool,
            options={},
            ordering=Ordering.Loose,
        )
        assert producer.name == "my_producer"
        assert producer.topic == topic
        assert producer.thread_pool == pool
        assert producer.batch_size == 32
        assert producer.max_num_batches == 4
        assert topic.producer().thread_pool is not None

    @MUST
    def test_consumer_properties(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """A consumer keeps its name and topic, and has a thread pool and positive batch sizes."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        consumer = topic.consumer("my_consumer")
        assert isinstance(consumer, Consumer)
        assert consumer.name == "my_consumer"
        assert consumer.topic == topic
        assert consumer.thread_pool is not None
        assert consumer.batch_size > 0
        assert consumer.max_num_batches > 0
