"""The bridge's producer: pushes through the foreign producer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ...backend.full import ProducerInterface
from ...exceptions import ClosedError
from ...futures import FutureFlushed, FutureUint
from .calls import ErrorMap, ForeignCompletion

if TYPE_CHECKING:
    from .topic import BindingTopic

__all__ = ["BindingProducer"]


class _FlushCompletion(ForeignCompletion):
    """A flush's completion: the foreign ``wait`` says whether everything is stored."""

    __slots__ = ()

    def outcome(self, result: Any) -> tuple[bool, Any]:
        return bool(result), None


class _PushCompletion(ForeignCompletion):
    """A push's completion: the event's id; a failed push may be a validator's rejection."""

    __slots__ = ("_data", "_metadata", "_topic")

    def __init__(
        self,
        foreign: Any,
        errors: ErrorMap,
        topic: BindingTopic,
        metadata: Any,
        data: tuple[memoryview, ...],
    ) -> None:
        # Every field is set here, without calling the base's __init__: one of these is made
        # per pushed event.
        self._done = False
        self.value = None
        self._foreign = foreign
        self._errors = errors
        self._topic = topic
        self._metadata = metadata
        self._data = data

    def outcome(self, result: Any) -> tuple[bool, Any]:
        return (False, None) if result is None else (True, int(result))

    def retype(self, error: BaseException) -> BaseException:
        return self._topic.retype_push_error(self._metadata, self._data, error)


_new_push_future = object.__new__


class _PushFuture(FutureUint):
    """The future of one push. Its completion, a :class:`_PushCompletion` over the foreign
    future, is made when first asked for (``wait``, ``completed``): most push futures are
    dropped unread, so a push makes this one object only."""

    __slots__ = ("_push",)

    _push: tuple[Any, ErrorMap, BindingTopic, Any, tuple[memoryview, ...]]

    def __getattr__(self, name: str) -> Any:
        # Called only for attributes not set: the base's _completion slot, until first use.
        if name != "_completion":
            raise AttributeError(name)
        completion = _PushCompletion(*self._push)
        self._completion = completion
        return completion

    def __repr__(self) -> str:
        return f"<FutureUint {'completed' if self._completion.done else 'pending'}>"


class BindingProducer(ProducerInterface):
    """A foreign producer behind our producer interface."""

    def __init__(self, topic: BindingTopic, foreign: Any) -> None:
        self._topic = topic
        self._foreign: Any = foreign
        self._errors = topic.errors

    def push(
        self, metadata: Any, data: tuple[memoryview, ...], data_size: int, partition: int | None
    ) -> FutureUint:
        foreign = self._foreign
        if foreign is None:
            raise ClosedError(f"Producer of topic {self._topic.name!r} is closed")
        # The binding parses a str as JSON text: a JSON string value travels as its JSON text.
        sent = json.dumps(metadata, ensure_ascii=False) if isinstance(metadata, str) else metadata
        segments: Any = data[0] if len(data) == 1 else list(data)
        try:
            future = foreign.push(sent, segments, partition=partition)
        except self._errors.foreign as error:
            raise self._errors.translate(error) from error

        pushed = _new_push_future(_PushFuture)
        pushed._position = 0
        pushed._push = (future, self._errors, self._topic, metadata, data)
        return pushed

    def flush(self) -> FutureFlushed:
        if self._foreign is None:
            raise ClosedError(f"Producer of topic {self._topic.name!r} is closed")
        return self._flush(self._foreign)

    def _flush(self, foreign: Any) -> FutureFlushed:
        future = self._errors.call(foreign.flush)
        return FutureFlushed(_FlushCompletion(future, self._errors))

    def close(self, wait: bool = True) -> None:
        if self._foreign is None:
            return
        try:
            if wait:
                self._flush(self._foreign).wait(-1)
        finally:
            # The binding has no close: dropping the last reference destroys the C++ producer,
            # which flushes what is pending.
            self._foreign = None
