"""The bridge's consumer: pulls through foreign consumers.

The binding's events do not say which partition they come from (``event.partition`` is the
partition's JSON description, ``{}`` for the C++ files driver). On a topic of one partition the
bridge uses one foreign consumer. On several partitions it makes one foreign consumer per
partition, restricted to it with ``targets=[p]``, and takes events from them in turn: the
partition of an event is the one its foreign consumer targets. A foreign driver that ignores
``targets`` (the C++ files driver) then delivers every event once per partition, and the suite
sees it.

Pulls follow this package's rule (:mod:`diaspora_stream.backend.pulls`): an event is claimed
only by a ``pull()`` that finds one at once or by a ``wait`` on its future, so a future dropped
after a timeout loses nothing. The foreign pulls belong to the consumer: one pending foreign pull
per foreign consumer, kept until it delivers. Across several foreign consumers there is no one
future to block on: a wait gives each pending foreign pull a few milliseconds in turn
(``_SLICE_S``), and pauses (up to ``_PAUSE_MAX_S``) when every foreign consumer answers "nothing"
at once (the C++ files driver at the end of its data).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...backend.full import ConsumerInterface
from ...backend.pulls import PendingPull, pull_future
from ...event import Event
from ...exceptions import ClosedError, UnsupportedError
from ...futures import Completion, FutureEvent
from .calls import completed
from .data import ConsumerFunctions
from .events import ForeignEvent, ForeignFields

if TYPE_CHECKING:
    from .topic import BindingTopic

__all__ = ["BindingConsumer"]

_PAUSE_MIN_S = 0.0005
_PAUSE_MAX_S = 0.01
#: Longest wait given to one pending foreign pull before the others are looked at again.
_SLICE_S = 0.005
#: Longest wait on the only foreign consumer before looking whether the consumer was closed.
_CLOSE_CHECK_S = 0.05


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
        self._errors = topic.errors
        self._fields = ForeignFields(
            self._errors,
            functions.data,
            self._acknowledge_foreign if acknowledgements else self._refuse,
        )
        if len(partitions) == 1:
            self._sources: list[tuple[int, Any]] = [(0, make(targets))]
        else:
            self._sources = [(p, make([p])) for p in (targets or partitions)]
        self._pending: dict[int, Any] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ events

    def event(self, partition: int, foreign: Any) -> Event | None:
        """Our event for a foreign one (``None`` for the "no more events" sentinel); its
        fields are read from the foreign event when first asked for (:mod:`.events`)."""
        if foreign is None:
            return None
        event_id = foreign.event_id
        if event_id is None:
            return None
        return ForeignEvent(foreign, int(event_id), partition, self._fields)

    def _refuse(self, foreign: Any) -> None:
        raise UnsupportedError(
            f"acknowledgements are declared absent for the bridged backend "
            f"{self._topic.backend!r} (binding driver option 'capabilities')"
        )

    def _acknowledge_foreign(self, foreign: Any) -> None:
        self._errors.call(foreign.acknowledge)

    # -------------------------------------------------------------------- pull

    def pull(self) -> FutureEvent:
        if self._closed:
            raise ClosedError(f"Consumer {self._name!r} is closed")
        sources = self._sources
        if len(sources) != 1 or not self._lock.acquire(False):
            return pull_future(self._claim)
        # One foreign consumer, free: pull_future's first claim (deadline already past) in one
        # step, as the first round of _claim_locked does it.
        try:
            try:
                if self._closed:
                    self._drop()
                    raise ClosedError(f"Consumer {self._name!r} is closed")
                partition, source = sources[0]
                future = self._pending.pop(partition, None)
                if future is None:
                    future = source.pull()
                result = future.wait(timeout_ms=1)
                if result is None and not completed(future):
                    self._pending[partition] = future
                    return FutureEvent(PendingPull(self._claim))
                event = self.event(partition, result)
            except self._errors.foreign as error:
                raise self._errors.translate(error) from error
            finally:
                self._lock.release()
        except Exception as error:  # noqa: BLE001 - raised by wait, as pull_future does
            return FutureEvent(Completion.failed(error))
        if event is None:
            return FutureEvent(PendingPull(self._claim))
        return FutureEvent(Completion.resolved(event))

    def _claim(self, deadline: float | None) -> Event | None:
        """The next event, waiting until ``deadline`` at most (``None``: no limit)."""
        lock = self._lock
        if not lock.acquire(False):
            if deadline is None:
                lock.acquire()
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not lock.acquire(timeout=remaining):
                    return None
        try:
            return self._claim_locked(deadline)
        except self._errors.foreign as error:
            raise self._errors.translate(error) from error
        finally:
            lock.release()

    def _claim_locked(self, deadline: float | None) -> Event | None:
        pause = _PAUSE_MIN_S
        first = True
        while True:
            if self._closed:
                self._drop()
                raise ClosedError(f"Consumer {self._name!r} is closed")
            event, waited = self._one_round(deadline, first)
            first = False
            if event is not None:
                return event
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            if not waited:
                time.sleep(pause if remaining is None else min(pause, remaining))
                pause = min(pause * 2, _PAUSE_MAX_S)

    def _one_round(self, deadline: float | None, first: bool) -> tuple[Event | None, bool]:
        """Ask each foreign consumer once, in turn; return an event (or ``None``) and whether
        some foreign pull was waited on. In the ``first`` round of a claim every pending foreign
        pull is waited on, 1 ms at least, even past the deadline: the binding cannot poll, and
        some implementations only look for an event while a pull is waited on. (A completed
        foreign pull returns at once from that wait: the first round does not ask ``completed``
        before it, and counts as waited only the pulls that are still pending after it.)"""
        sources = self._sources
        pending = self._pending
        count = len(sources)
        waited = False
        for step in range(count):
            index = (self._next + step) % count
            partition, source = sources[index]
            future = pending.pop(partition, None)
            if future is None:
                future = source.pull()
            if first:
                result = future.wait(timeout_ms=self._wait_ms(deadline, count, True))
                if result is None and not completed(future):
                    waited = True
                    pending[partition] = future
                    continue
            elif not completed(future):
                wait_ms = self._wait_ms(deadline, count, False)
                if wait_ms == 0:
                    pending[partition] = future
                    continue
                waited = True
                result = future.wait(timeout_ms=wait_ms)
                if result is None and not completed(future):
                    pending[partition] = future
                    continue
            else:
                result = future.wait(timeout_ms=-1)
            event = self.event(partition, result)
            if event is not None:
                self._next = index + 1
                return event, waited
        return None, waited

    @staticmethod
    def _wait_ms(deadline: float | None, count: int, first: bool) -> int:
        """How long to wait on one pending foreign pull (0: not at all)."""
        longest = _SLICE_S if count > 1 else _CLOSE_CHECK_S
        if deadline is None:
            return math.ceil(longest * 1000)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return 1 if first else 0
        return max(1, math.ceil(min(remaining, longest) * 1000))

    def close(self) -> None:
        # The binding has no unsubscribe: dropping the foreign consumers is the C++ one. A wait
        # in progress sees the flag within _CLOSE_CHECK_S and drops them itself.
        self._closed = True
        if self._lock.acquire(False):
            try:
                self._drop()
            finally:
                self._lock.release()

    def _drop(self) -> None:
        self._sources = []
        self._pending.clear()
