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


def _event_id(result: Any) -> tuple[bool, Any]:
    return (False, None) if result is None else (True, int(result))


def _flushed(result: Any) -> tuple[bool, Any]:
    return bool(result), None


class _PushCompletion(ForeignCompletion):
    """A push's completion: a failed push may be a validator's rejection."""

    __slots__ = ("_data", "_metadata", "_topic")

    def __init__(
        self,
        foreign: Any,
        errors: ErrorMap,
        topic: BindingTopic,
        metadata: Any,
        data: tuple[memoryview, ...],
    ) -> None:
        super().__init__(foreign, _event_id, errors)
        self._topic = topic
        self._metadata = metadata
        self._data = data

    def retype(self, error: BaseException) -> BaseException:
        return self._topic.retype_push_error(self._metadata, self._data, error)


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

        return FutureUint(_PushCompletion(future, self._errors, self._topic, metadata, data))

    def flush(self) -> FutureFlushed:
        if self._foreign is None:
            raise ClosedError(f"Producer of topic {self._topic.name!r} is closed")
        return self._flush(self._foreign)

    def _flush(self, foreign: Any) -> FutureFlushed:
        future = self._errors.call(foreign.flush)
        return FutureFlushed(ForeignCompletion(future, _flushed, self._errors))

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
