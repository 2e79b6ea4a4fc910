"""The public :class:`Producer`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .backend.batching import preflight
from .backend.full import ProducerInterface
from .batches import BatchFuture, normalize_batch
from .buffers import EMPTY_DATA, as_data_segments
from .constants import Ordering
from .exceptions import InvalidArgument
from .futures import FutureFlushed, FutureUint
from .json_codec import loads
from .thread_pool import ThreadPool

if TYPE_CHECKING:
    from .topic import TopicHandle

__all__ = ["Producer"]

_NO_DATA: Any = memoryview(b"")


class Producer:
    """Pushes events into a topic (``TopicHandle.producer``).

    ``push(metadata, data=b"", *, partition=None)``: ``metadata`` is JSON text (``str`` or
    ``bytes``, parsed) or a JSON-able object; ``data`` any buffer or a list/tuple of buffers,
    which must not be modified until the event's future completes or a flush completes.
    """

    __slots__ = (
        "__weakref__",
        "_impl",
        "_ordering",
        "_push",
        "batch_size",
        "max_num_batches",
        "name",
        "thread_pool",
        "topic",
    )

    def __init__(
        self,
        impl: ProducerInterface,
        topic: TopicHandle,
        name: str,
        batch_size: int,
        max_num_batches: int,
        ordering: Ordering,
        thread_pool: ThreadPool,
    ) -> None:
        self._impl = impl
        self._push = impl.push
        self.topic = topic
        self.name = name
        self.batch_size = batch_size
        self.max_num_batches = max_num_batches
        self._ordering = ordering
        self.thread_pool = thread_pool

    @property
    def ordering(self) -> Ordering:
        """The ordering guarantee this producer was created with."""
        return self._ordering

    def push(
        self, metadata: Any, data: Any = _NO_DATA, *, partition: int | None = None
    ) -> FutureUint:
        """Push one event; returns a future of its id."""
        if type(metadata) is not dict and isinstance(metadata, (str, bytes, bytearray)):
            metadata = loads(metadata)
        if data is _NO_DATA:
            segments, size = EMPTY_DATA, 0
        elif type(data) is memoryview:
            # as_view_segments, inlined (a call costs as much as the cast).
            try:
                view = data.cast("B")
            except (TypeError, ValueError):
                segments, size = as_data_segments(data)
            else:
                segments, size = (view,), len(view)
        elif type(data) is bytes:
            segments, size = ((memoryview(data),), len(data)) if data else (EMPTY_DATA, 0)
        else:
            segments, size = as_data_segments(data)
        if partition is not None and (
            isinstance(partition, bool) or not isinstance(partition, int) or partition < 0
        ):
            raise InvalidArgument(f"partition must be a non-negative integer, got {partition!r}")
        return self._push(metadata, segments, size, partition)

    def push_many(
        self,
        metadata: Sequence[Any],
        data: Sequence[Any] | None = None,
        *,
        partition: int | None = None,
    ) -> BatchFuture:
        """Push several events in one call; returns a future of their ids, in list order.

        ``metadata`` holds one metadata per event and ``data`` (optional) one data per event
        (``None``: no data), each taken as :meth:`push` takes it; ``partition`` applies to every
        event. Events are validated, placed and serialized as :meth:`push` would, one after the
        other, and reach each partition in list order. Atomic refusal: when an event is refused
        (bad argument, validator or serializer), nothing of the call is pushed and the error has
        the type ``push`` would give, its message starting with ``event <index> of the batch``;
        a bad argument raises here, a refusal by a component from ``wait``.
        """
        events = normalize_batch(metadata, data, partition)
        impl = self._impl
        if type(impl).push_many is ProducerInterface.push_many:  # the generic path
            refused = preflight(self.topic._impl, events)
            if refused is not None:
                return BatchFuture.failed(refused, len(events))
        return impl.push_many(events, partition)

    def flush(self) -> FutureFlushed:
        """Send every pushed event; the future completes when they are all stored, or raises
        :class:`~diaspora_stream.exceptions.EventsNotStored` (how many were not stored and the
        first cause) when any event pushed before the flush could not be stored."""
        return self._impl.flush()

    def mark_complete(self, partition: int | None = None) -> None:
        """Flush, wait until every pushed event is stored, then mark ``partition`` (default:
        every partition) of the topic complete (:meth:`TopicHandle.mark_complete`)."""
        self._impl.flush().wait(-1)
        self.topic.mark_complete(partition)

    def close(self) -> None:
        """Flush, wait until everything is stored, and release the producer."""
        self._impl.close(wait=True)

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        impl = getattr(self, "_impl", None)
        if impl is not None:
            try:
                impl.close(wait=False)
            except Exception:  # noqa: BLE001 - never raise from a finalizer
                pass

    def __repr__(self) -> str:
        return f"<Producer {self.name!r} topic={self.topic.name!r}>"
