"""A backend that hangs, for the meta-test of the suite's time bound (:mod:`test_meta_hang`).

``hanging`` is the built-in ``memory`` backend whose consumers ignore the timeout of
``pull().wait(timeout_ms)``: with no event there, the wait blocks until one arrives, so forever
on a drained topic (a first engine that forwards ``wait`` to a blocking queue ``get()`` has this
bug). Registered by name when this module is imported: ``"hanging:broken_hanging"``.
"""

from __future__ import annotations

import threading
from typing import Any

from broken_clients import DelegatingConsumer, WrappingHandle, full_level_driver

from diaspora_stream.api import FutureEvent, register_driver
from diaspora_stream.backend.full import ConsumerInterface
from diaspora_stream.futures import Completion

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


class _HangingConsumer(DelegatingConsumer):
    """The memory backend's consumer, with blocking waits."""

    def pull(self) -> FutureEvent:
        return FutureEvent(_BlockingPull(self.inner.pull()))


class _HangingHandle(WrappingHandle):
    """A memory topic handle making :class:`_HangingConsumer` consumers."""

    def wrap_consumer(self, consumer: ConsumerInterface) -> ConsumerInterface:
        return _HangingConsumer(consumer)


#: The memory backend (at the full level) whose consumers' waits never time out.
HangingDriver = full_level_driver(_HangingHandle)

register_driver("hanging", HangingDriver)
