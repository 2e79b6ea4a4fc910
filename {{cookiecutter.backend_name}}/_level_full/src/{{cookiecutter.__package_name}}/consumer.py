"""Consumers of the ``{{ cookiecutter.backend_name }}`` backend: the feed of events, owned here.

A consumer reads its target partitions (all by default) from where its name last acknowledged
(the first event otherwise), fetching up to ``batch_size`` events of a partition at a time into
a local buffer. Delivery is round robin over the targets, each in id order, as on every
backend: the next event comes from the first partition, starting after the previous event's,
that has one. When no partition has an event, the pull waits until the engine says something
was appended, until its deadline (diaspora-stream's
:func:`~diaspora_stream.backend.pulls.pull_future` turns this into the futures ``pull()``
returns). ``close()`` wakes the threads waiting in a pull: they raise ``ClosedError``.

What a user sees of an event's data goes through diaspora-stream's
:func:`~diaspora_stream.backend.selection.select_event_data` (data selector, allocator,
descriptors); this class only says how to copy bytes out of a fetched event
(:meth:`read_selected`, :meth:`read_whole`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from diaspora_stream.api import ClosedError
from diaspora_stream.backend.full import ConsumerInterface, DataAllocator, DataSelector
from diaspora_stream.backend.options import Option, parse_options
from diaspora_stream.backend.pulls import pull_future
from diaspora_stream.backend.selection import copy_segments, select_event_data
from diaspora_stream.constants import AdaptiveBatchSize
from diaspora_stream.event import Event
from diaspora_stream.futures import FutureEvent

from .engine import StoredEvent

if TYPE_CHECKING:
    from .topic import {{ cookiecutter.title }}Topic

__all__ = ["CONSUMER_OPTIONS", "{{ cookiecutter.title }}Consumer"]

#: Events fetched from a partition at once when the consumer's batch size is adaptive.
DEFAULT_FETCH = 1024

#: What ``topic.consumer(options=...)`` accepts (others are ignored with a warning).
#:
#: CHANGE ME: declare your engine's consumer settings (a fetch size, a prefetch depth...).
CONSUMER_OPTIONS: dict[str, Option] = {}
_OWNER = "{{ cookiecutter.backend_name }} consumer"


class {{ cookiecutter.title }}Consumer(ConsumerInterface):
    """A consumer of one topic: a name, target partitions and a buffer per partition."""

    def __init__(
        self,
        topic: {{ cookiecutter.title }}Topic,
        name: str,
        batch_size: int,
        max_num_batches: int,
        data_selector: DataSelector | None,
        data_allocator: DataAllocator | None,
        targets: Sequence[int] | None,
        options: dict[str, Any],
    ) -> None:
        self.topic = topic
        self.name = name
        self.data_selector = data_selector
        self.data_allocator = data_allocator
        self.options = parse_options(options, CONSUMER_OPTIONS, _OWNER, warn_unknown=True)
        self._log = topic.log
        self._deserialize = topic.serializer.deserialize
        self._partition_info = topic.partitions
        self._targets = list(targets) if targets else list(range(topic.num_partitions))
        # CHANGE ME: with a server-pushed feed, batch_size and max_num_batches are what the
        # consumer asks the server for (events per message, messages in flight: its credits).
        adaptive = batch_size == AdaptiveBatchSize or batch_size <= 0
        self._fetch = DEFAULT_FETCH if adaptive else min(batch_size, 100_000)
        self._lock = threading.Lock()
        self._closed = False
        # CHANGE ME: subscribe with your engine's client here. Where each partition starts:
        # after the name's last acknowledged event (the acknowledgements capability).
        acknowledged = self._log.acknowledged(name)
        self._next_id = {p: acknowledged.get(p, -1) + 1 for p in self._targets}
        self._buffers: dict[int, deque[tuple[int, StoredEvent]]] = {
            p: deque() for p in self._targets
        }
        self._cursor = 0

    # ------------------------------------------------------------------ pull

    def pull(self) -> FutureEvent:
        if self._closed:
            raise ClosedError(f"Consumer {self.name!r} is closed; create a new consumer to pull")
        return pull_future(self._claim)

    def _claim(self, deadline: float | None) -> Event | None:
        """The next event, waiting for one until ``deadline`` (``None``: no limit)."""
        while True:
            with self._lock:
                if self._closed:
                    raise ClosedError(f"Consumer {self.name!r} is closed")
                # Read before looking: an append after this makes the wait below return.
                seen = self._log.version
                event = self._next_event()
            if event is not None:
                return event
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            # CHANGE ME: wait the way your engine tells of new events (a pushed message, a long
            # poll, a notification socket); waking up without a new event is harmless.
            self._log.wait_for_change(seen, remaining)

    def _next_event(self) -> Event | None:
        """The next event in round-robin order, or ``None`` if no target has one (lock held)."""
        count = len(self._targets)
        for step in range(count):
            slot = (self._cursor + step) % count
            partition = self._targets[slot]
            buffer = self._buffers[partition]
            if not buffer:
                self._fetch_into(partition, buffer)
            if buffer:
                event_id, stored = buffer[0]
                event = self._make_event(partition, event_id, stored)
                # Only once the event is made: a data selector that raised leaves it in place.
                buffer.popleft()
                self._cursor = (slot + 1) % count
                return event
        return None

    def _fetch_into(self, partition: int, buffer: deque[tuple[int, StoredEvent]]) -> None:
        """Fetch the next events of ``partition`` into its buffer (none if there are none)."""
        start = self._next_id[partition]
        # CHANGE ME: fetch from your engine (or take what its feed pushed). What the
        # replacement must guarantee: complete events only, in id order, starting exactly at
        # ``start``; nothing (rather than waiting) when there is none yet.
        events = self._log.fetch(partition, start, self._fetch)
        buffer.extend(enumerate(events, start))
        self._next_id[partition] = start + len(events)

    def _make_event(self, partition: int, event_id: int, stored: StoredEvent) -> Event:
        metadata = self._deserialize(memoryview(stored.metadata))
        data = select_event_data(
            metadata,
            len(stored.data),
            self.data_selector,
            self.data_allocator,
            self,
            partition,
            stored,
            event_id,
        )
        return Event(
            metadata,
            data,
            event_id,
            self._partition_info[partition],
            partition,
            self._acknowledge,
        )

    # ------------------------------------------------ DataSource of the events

    def read_selected(
        self,
        partition: int,
        record: StoredEvent,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the ``(offset, size)`` ``segments`` of ``record``'s data into ``destination``.

        CHANGE ME: if your engine can send only the selected ranges (the partial_data_reads
        capability), fetch them here instead of the whole event.
        """
        copy_segments(memoryview(record.data), segments, destination)

    def read_whole(self, partition: int, record: StoredEvent) -> memoryview:
        """The whole data of ``record`` (read-only; the event may keep it)."""
        return memoryview(record.data)

    # ------------------------------------------------------------ acknowledge

    def _acknowledge(self, partition: int, event_id: int) -> None:
        if self._closed:
            raise ClosedError(f"Consumer {self.name!r} is closed; cannot acknowledge")
        # CHANGE ME: commit the position where your engine keeps consumer offsets; a consumer
        # created again with this name starts after it.
        self._log.acknowledge(self.name, partition, event_id)

    def close(self) -> None:
        # Marked closed first, then the waiting pulls are woken: they see the mark and raise.
        self._closed = True
        self._log.wake()
        with self._lock:
            for buffer in self._buffers.values():
                buffer.clear()
        # CHANGE ME: unsubscribe from your engine.
