"""The public :class:`Consumer`."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._args import size_argument
from .backend.batching import deadline_of
from .backend.full import ConsumerInterface
from .event import Event
from .exceptions import StopEventProcessor
from .futures import Completion, FutureEvent
from .positions import partition_positions
from .thread_pool import ThreadPool

if TYPE_CHECKING:
    from .topic import TopicHandle

__all__ = ["Consumer", "ITERATION_TIMEOUT_MS"]

#: How long iterating over a consumer waits for the next event before it stops (the reference's).
ITERATION_TIMEOUT_MS = 5000
# How often ``process`` on a threaded pool checks whether a processor asked to stop (ms).
_STOP_CHECK_MS = 50


class Consumer:
    """Pulls events from a topic (``TopicHandle.consumer``)."""

    __slots__ = (
        "__weakref__",
        "_deferred",
        "_impl",
        "_pull",
        "batch_size",
        "data_allocator",
        "data_selector",
        "max_num_batches",
        "name",
        "targets",
        "thread_pool",
        "topic",
    )

    def __init__(
        self,
        impl: ConsumerInterface,
        topic: TopicHandle,
        name: str,
        batch_size: int,
        max_num_batches: int,
        thread_pool: ThreadPool,
        data_selector: Any,
        data_allocator: Any,
        targets: list[int] | None,
    ) -> None:
        self._impl = impl
        self._pull = impl.pull
        self._deferred: BaseException | None = None
        self.topic = topic
        self.name = name
        self.batch_size = batch_size
        self.max_num_batches = max_num_batches
        self.thread_pool = thread_pool
        self.data_selector = data_selector
        self.data_allocator = data_allocator
        self.targets = targets

    def pull(self) -> FutureEvent:
        """Future of the next event; ``wait`` returns ``None`` if none arrives in time.

        After the last event of a partition marked complete, the future gives that partition's
        end-of-stream sentinel (an event whose ``event_id`` is ``None``); once every partition
        of the consumer ended, every pull gives a sentinel at once."""
        if self._deferred is not None:  # an error a pull_many left for the next pull
            deferred, self._deferred = self._deferred, None
            return FutureEvent(Completion.failed(deferred))
        return self._pull()

    def pull_many(self, max_events: int, *, timeout_ms: int = -1) -> list[Event]:
        """Up to ``max_events`` events in one call: the same events, in the same order, as that
        many :meth:`pull` calls would give.

        Waits until ``max_events`` events are taken or ``timeout_ms`` passed (``-1``: no limit;
        ``0``: only what is available now), so the list may be shorter, or empty. An
        end-of-stream sentinel ends the list (it is its last event). An error that ``pull`` would
        raise is raised in its turn: by this call when no event was taken before it, else by the
        next ``pull`` or ``pull_many`` after the events taken before it are returned.
        """
        size_argument("max_events", max_events)
        deadline = deadline_of(timeout_ms)
        deferred = self._deferred
        if deferred is not None:
            self._deferred = None
            raise deferred
        if max_events == 0:
            return []
        events, error = self._impl.pull_many(max_events, deadline)
        if error is not None:
            if not events:
                raise error
            self._deferred = error
        return events

    def _partitions(self) -> list[int]:
        return self.targets or list(range(len(self.topic.partitions)))

    def seek(self, position: Any) -> None:
        """Move the consumer: ``position`` is a :class:`~diaspora_stream.positions.Position`
        (for every partition it reads) or ``{partition: event_id or Position}``; the next
        event of each such partition is the one with that id (``Position.END``: the next one
        pushed). Events already pulled are not taken back; acknowledgements still only move a
        name's position forward. Needs the ``replay`` capability (else ``UnsupportedError``)."""
        partitions = self._partitions()
        self._impl.seek(partition_positions(position, partitions, len(self.topic.partitions)))

    def process(
        self,
        processor: Callable[[Event | None], Any],
        *,
        timeout_ms: int = -1,
        max_events: int = 2**64 - 1,
        thread_pool: ThreadPool | None = None,
    ) -> None:
        """Call ``processor(event)`` for up to ``max_events`` events (D7).

        Each event is pulled with ``wait(timeout_ms)``; ``processor`` receives ``None`` when
        the wait times out. ``processor`` runs on ``thread_pool`` (default: the driver's default
        pool, i.e. in this thread) and stops the loop by raising :class:`StopEventProcessor`.
        Returns once every scheduled call has finished; the first other exception a processor
        raised is re-raised then. End-of-stream sentinels are not given to ``processor``: the
        loop ends once every partition of the consumer delivered its sentinel.
        """
        size_argument("max_events", max_events)
        pool = thread_pool if thread_pool is not None else self.topic.driver.default_thread_pool
        stop = threading.Event()
        idle = threading.Condition()
        pending = 0
        errors: list[BaseException] = []

        def run(event: Event | None) -> None:
            nonlocal pending
            try:
                if not stop.is_set():
                    processor(event)
            except StopEventProcessor:
                stop.set()
            except BaseException as error:  # noqa: BLE001 - re-raised by process
                errors.append(error)
                stop.set()
            finally:
                with idle:
                    pending -= 1
                    idle.notify_all()

        def next_event() -> tuple[bool, Event | None]:
            future = self._pull()
            if pool.thread_count == 0:
                return True, future.wait(timeout_ms)
            # A processor on a worker thread may raise StopEventProcessor while this thread
            # waits for the next event: wait in slices so that the stop is seen.
            deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000.0
            while True:
                step = _STOP_CHECK_MS
                if deadline is not None:
                    step = max(0, min(step, int((deadline - time.monotonic()) * 1000)))
                event = future.wait(step)
                if event is not None:
                    return True, event
                if stop.is_set():
                    return False, None
                if deadline is not None and time.monotonic() >= deadline:
                    return True, None

        count = 0
        ended: set[int] = set()
        partitions = len(self._partitions())
        while count < max_events and not stop.is_set():
            pulled, event = next_event()
            if not pulled:
                break
            if event is not None and event.event_id is None:
                ended.add(event.partition_index)
                if len(ended) >= partitions:
                    break
                continue
            count += 1
            with idle:
                pending += 1
            pool.push_work(functools.partial(run, event))
        with idle:
            while pending:
                idle.wait()
        if errors:
            raise errors[0]

    def events(self, timeout_ms: int = ITERATION_TIMEOUT_MS) -> Iterator[Event]:
        """Yield events until none arrives within ``timeout_ms``, or until every partition of
        the consumer delivered its end-of-stream sentinel (sentinels are not yielded)."""
        ended: set[int] = set()
        partitions = len(self._partitions())
        while True:
            event = self._pull().wait(timeout_ms)
            if event is None:
                return
            if event.event_id is None:
                ended.add(event.partition_index)
                if len(ended) >= partitions:
                    return
                continue
            yield event

    def __iter__(self) -> Iterator[Event]:
        return self.events(ITERATION_TIMEOUT_MS)

    def close(self) -> None:
        """Release the consumer (the reference's ``unsubscribe``)."""
        self._impl.close()

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Consumer {self.name!r} topic={self.topic.name!r}>"
