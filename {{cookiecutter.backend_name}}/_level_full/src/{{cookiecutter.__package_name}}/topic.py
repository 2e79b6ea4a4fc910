"""One open topic of the ``{{ cookiecutter.backend_name }}`` backend: components, partitions,
producers and consumers.

diaspora-stream's public ``TopicHandle`` calls this class. The topic's validator, partition
selector and serializer come from the configuration stored at creation
(:func:`~diaspora_stream.backend.log_adapter.components_from_config`), so they behave as on
every backend; producers and consumers are this package's own (``producer.py``,
``consumer.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from diaspora_stream.backend.full import (
    ConsumerInterface,
    DataAllocator,
    DataSelector,
    ProducerInterface,
    TopicHandleInterface,
)
from diaspora_stream.backend.log_adapter import components_from_config
from diaspora_stream.thread_pool import ThreadPool

from .consumer import {{ cookiecutter.title }}Consumer
from .engine import TopicLog
from .producer import {{ cookiecutter.title }}Producer

__all__ = ["{{ cookiecutter.title }}Topic"]


class {{ cookiecutter.title }}Topic(TopicHandleInterface):
    """An open topic; several handles may be open on one topic, and they all see its events."""

    def __init__(self, name: str, log: TopicLog) -> None:
        self.name = name
        #: The engine's side of the topic (CHANGE ME: your engine client's topic object).
        self.log = log
        self.validator, self.partition_selector, self.serializer = components_from_config(
            log.config
        )
        # CHANGE ME (optional): describe where each partition lives (a server, a shard): users
        # see this object as event.partition, and partition selectors receive the list.
        backend, count = "{{ cookiecutter.backend_name }}", log.config.num_partitions
        self._partitions = [{"backend": backend, "partition": index} for index in range(count)]
        self.partition_selector.set_partitions(self._partitions)

    @property
    def num_partitions(self) -> int:
        """Number of partitions of the topic."""
        return len(self._partitions)

    @property
    def partitions(self) -> list[dict[str, Any]]:
        return [dict(partition) for partition in self._partitions]

    def make_producer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        ordering: int,
        thread_pool: ThreadPool,
        options: dict[str, Any],
    ) -> ProducerInterface:
        # Events are prepared in push(), in the calling thread, so Ordering.Strict holds without
        # the thread pool. CHANGE ME if your producer prepares events on thread_pool: then
        # store them in push order when ordering is Ordering.Strict.
        return {{ cookiecutter.title }}Producer(self, name, batch_size, max_num_batches, options)

    def make_consumer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        thread_pool: ThreadPool,
        data_selector: DataSelector | None,
        data_allocator: DataAllocator | None,
        targets: Sequence[int] | None,
        options: dict[str, Any],
    ) -> ConsumerInterface:
        return {{ cookiecutter.title }}Consumer(
            self, name, batch_size, max_num_batches, data_selector, data_allocator, targets, options
        )

    # CHANGE ME (optional capabilities, declared in driver.py): mark_complete (end_of_stream),
    # acknowledged_positions and consumer_names (consumer_positions), and the consumer's seek
    # (replay). Until then, the inherited methods raise UnsupportedError, as the suite expects
    # of an absent capability.
