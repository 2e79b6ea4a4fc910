"""The double of ``pydiaspora_stream_api`` with two defects of the C++ files driver (§12.19):
acknowledgements do nothing and consumers ignore ``targets``. The bridge must let them show."""

from __future__ import annotations

from typing import Any

import pydiaspora_stream_api as _double
from pydiaspora_stream_api import (  # noqa: F401 - the module's surface
    AdaptiveBatchSize,
    ByteArrayAllocator,
    DataDescriptor,
    Exception,  # noqa: A004 - the binding's name
    FullDataSelector,
    Ordering,
    PartitionSelector,
    Serializer,
    ThreadPool,
    Validator,
)


class _Wrapper:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Event(_Wrapper):
    def acknowledge(self) -> None:
        """Does nothing, as in the C++ files driver."""


class _FutureEvent(_Wrapper):
    def wait(self, *, timeout_ms: int) -> Any:
        event = self._inner.wait(timeout_ms=timeout_ms)
        return None if event is None else _Event(event)


class _Consumer(_Wrapper):
    def pull(self) -> _FutureEvent:
        return _FutureEvent(self._inner.pull())


class _TopicHandle(_Wrapper):
    def consumer(self, name: str, **kwargs: Any) -> _Consumer:
        kwargs.pop("targets", None)  # ignored, as in the C++ files driver
        return _Consumer(self._inner.consumer(name, **kwargs))


class Driver(_Wrapper):
    def __init__(self, *, backend: str, options: Any = None) -> None:
        super().__init__(_double.Driver(backend=backend, options=options))

    def open_topic(self, name: str) -> _TopicHandle:
        return _TopicHandle(self._inner.open_topic(name))
