"""The bridge's consumer: pulls through foreign consumers.

The binding's events do not say which partition they come from (``event.partition`` is the
partition's JSON description, ``{}`` for the C++ files driver). On a topic of one partition the
bridge uses one foreign consumer. On several partitions it makes one foreign consumer per
partition, restricted to it with ``targets=[p]``, and serves pulls from them in turn: the
partition of an event is the one its foreign consumer targets. A foreign driver that ignores
``targets`` (the C++ files driver) then delivers every event once per partition, and the suite
sees it.

Across several foreign consumers there is no one future to block on: a pending pull waits on
each pending foreign pull in turn for a few milliseconds (``_SLICE_S``), and pauses (up to
``_POLL_MAX_S``) when every foreign consumer answers "nothing" at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...backend.full import ConsumerInterface
from ...event import Event
from ...exceptions import ClosedError, UnsupportedError
from ...futures import Completion, FutureEvent, _timeout_seconds
from .calls import ForeignCompletion, completed
from .data import ConsumerFunctions

if TYPE_CHECKING:
    from .topic import BindingTopic

__all__ = ["BindingConsumer"]

_POLL_MIN_S = 0.0005
_POLL_MAX_S = 0.01
#: Longest wait given to one pending foreign pull before the others are looked at again.
_SLICE_S = 0.005


class BindingConsumer(ConsumerInterface):
    """Foreign consumers behind our consumer interface."""

    def __init__(
        self,
        topic: BindingTopic,
        name: str,
        make: Callable[[list[int] | None], Any],
        partitions: list[int],
        targets: list[int] | None,
        functions: ConsumerFunctions,
        acknowledgements: bool,
    ) -> None:
        self._topic = topic
        self._name = name
        self._functions = functions
        self._acknowledgements = acknowledgements
        self._errors = topic.errors
        if len(partitions) == 1:
            self._sources: list[tuple[int, Any]] = [(0, make(targets))]
        else:
            self._sources = [(p, make([p])) for p in (targets or partitions)]
        self._pending: dict[int, Any] = {}
        self._waiting: deque[_MergedPull] = deque()
        self._next = 0
        self._lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ events

    def event(self, partition: int, foreign: Any) -> Event | None:
        """Our event for a foreign one (``None`` for the "no more events" sentinel)."""
        if foreign is None:
            return None
        event_id = foreign.event_id
        if event_id is None:
            return None
        return Event(
            foreign.metadata,
            self._functions.data(foreign),
            int(event_id),
            dict(foreign.partition),
            partition,
            self._acknowledger(foreign),
        )

    def _refuse(self, partition: int, event_id: int) -> None:
        raise UnsupportedError(
            f"acknowledgements are declared absent for the bridged backend "
            f"{self._topic.backend!r} (binding driver option 'capabilities')"
        )

    def _acknowledger(self, foreign: Any) -> Callable[[int, int], None]:
        if not self._acknowledgements:
            return self._refuse
        return lambda partition, event_id: self._errors.call(foreign.acknowledge)

    def _only_partition(self, result: Any) -> tuple[bool, Any]:
        event = self.event(self._sources[0][0], result)
        return event is not None, event

    # -------------------------------------------------------------------- pull

    def pull(self) -> FutureEvent:
        if self._closed:
            raise ClosedError(f"Consumer {self._name!r} is closed")
        if len(self._sources) == 1:
            future = self._errors.call(self._sources[0][1].pull)
            return FutureEvent(ForeignCompletion(future, self._only_partition, self._errors))
        merged = _MergedPull(self)
        with self._lock:
            self._waiting.append(merged)
        return FutureEvent(merged)

    def serve(self, until: _MergedPull, slice_ms: int = 0) -> bool:
        """Resolve waiting pulls in order, as far as ``until``, with the events available,
        giving each foreign pull still pending up to ``slice_ms`` (0: no wait). Return whether
        a foreign pull was pending (False: every foreign consumer answered at once)."""
        blocked = False
        with self._lock:
            while self._waiting and not until.settled:
                head = self._waiting[0]
                try:
                    event, blocked = self._next_event(slice_ms)
                except BaseException as error:  # noqa: BLE001 - handed to the pull it belongs to
                    self._waiting.popleft()
                    head.set_error(self._errors.translate(error))
                    continue
                if event is None:
                    break
                self._waiting.popleft()
                head.set_result(event)
        return blocked

    def _next_event(self, slice_ms: int) -> tuple[Event | None, bool]:
        count = len(self._sources)
        blocked = False
        for step in range(count):
            index = (self._next + step) % count
            partition, source = self._sources[index]
            future = self._pending.get(partition)
            if future is None:
                future = self._pending[partition] = source.pull()
            if completed(future):
                result = future.wait(timeout_ms=-1)
            elif slice_ms > 0:
                # Some implementations only move a pull forward while it is waited on.
                result = future.wait(timeout_ms=slice_ms)
                if result is None and not completed(future):
                    blocked = True
                    continue
            else:
                blocked = True
                continue
            del self._pending[partition]
            event = self.event(partition, result)
            if event is not None:
                self._next = index + 1
                return event, blocked
        return None, blocked

    def close(self) -> None:
        # The binding has no unsubscribe: dropping the foreign consumers is the C++ one.
        self._closed = True
        with self._lock:
            self._sources = []
            self._pending.clear()


class _MergedPull(Completion):
    """A pull over several foreign consumers (see the module's docstring)."""

    __slots__ = ("_consumer",)

    def __init__(self, consumer: BindingConsumer) -> None:
        super().__init__()
        self._consumer = consumer

    @property
    def settled(self) -> bool:
        return self._done

    @property
    def done(self) -> bool:
        if not self._done:
            self._consumer.serve(self)
        return self._done

    def wait(self, timeout_ms: Any) -> bool:
        timeout = _timeout_seconds(timeout_ms)
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _POLL_MIN_S
        while not self._done:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self._consumer.serve(self)
                break
            slice_s = _SLICE_S if remaining is None else min(_SLICE_S, remaining)
            if not self._consumer.serve(self, max(1, int(slice_s * 1000))) and not self._done:
                # Every foreign pull answered "nothing" at once (end of stream for the C++
                # files driver): pause before asking again.
                time.sleep(pause if remaining is None else min(pause, remaining))
                pause = min(pause * 2, _POLL_MAX_S)
        return super().wait(0) if self._done else False
