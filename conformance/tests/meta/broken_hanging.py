"""A backend that hangs, for the meta-test of the suite's time bound (:mod:`test_meta_hang`).

``hanging`` is the built-in ``memory`` backend whose consumers ignore the timeout of
``pull().wait(timeout_ms)``: with no event there, the wait blocks until one arrives, so forever
on a drained topic (a first engine that forwards ``wait`` to a blocking queue ``get()`` has this
bug). Registered by name when this module is imported: ``"hanging:broken_hanging"``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from diaspora_stream.api import FutureEvent, register_driver
from diaspora_stream.backend.full import ConsumerInterface, DataAllocator, DataSelector
from diaspora_stream.backend.log_adapter import LogDriverAdapter, LogTopicHandle
from diaspora_stream.backends.memory import MemoryDriver
from diaspora_stream.futures import Completion
from diaspora_stream.thread_pool import ThreadPool

__all__ = ["BACKEND", "HangingDriver"]

#: The ``"name:module"`` string that finds the backend from any process.
BACKEND = "hanging:broken_hanging"
#: Seconds between two looks for an event while a wait blocks.
_POLL_S = 0.01


class _BlockingPull(Completion):
    """A pull whose ``wait`` ignores its timeout: it returns only once an event is there."""

    def __init__(self, pulled: FutureEvent) -> None:
        super().__init__()
        self._pulled = pulled

    def wait(self, timeout_ms: Any) -> bool:
        if not self.done:
            event = self._pulled.wait(0)
            while event is None:
                threading.Event().wait(_POLL_S)
                event = self._pulled.wait(0)
            self.set_result(event)
        return super().wait(0)


class _HangingConsumer(ConsumerInterface):
    """The memory backend's consumer, with blocking waits."""

    def __init__(self, consumer: ConsumerInterface) -> None:
        self._consumer = consumer

    def pull(self) -> FutureEvent:
        return FutureEvent(_BlockingPull(self._consumer.pull()))

    def close(self) -> None:
        self._consumer.close()


class _HangingHandle(LogTopicHandle):
    """A memory topic handle making :class:`_HangingConsumer` consumers."""

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
        return _HangingConsumer(
            super().make_consumer(
                name,
                batch_size,
                max_num_batches,
                thread_pool,
                data_selector,
                data_allocator,
                targets,
                options,
            )
        )


class HangingDriver(LogDriverAdapter):
    """The memory backend (at the full level) whose consumers' waits never time out."""

    def __init__(self) -> None:
        super().__init__(MemoryDriver())

    @classmethod
    def create(cls, options: dict[str, Any]) -> HangingDriver:
        MemoryDriver.create(options)  # the memory backend's option checks
        return cls()

    def open_topic(self, name: str) -> LogTopicHandle:
        plain = super().open_topic(name)
        assert isinstance(plain, LogTopicHandle)
        return _HangingHandle(plain.log_topic)


register_driver("hanging", HangingDriver)
