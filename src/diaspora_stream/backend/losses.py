"""Which flushes must report the events a producer failed to store.

A flush covers every event pushed before it: when any of them was not stored, the flush raises
:class:`~diaspora_stream.exceptions.EventsNotStored`. :class:`LossLedger` keeps the count for
producers (the generic log-level one and full-level ones alike): a lost event is reported by
every flush pending when it was lost and by every flush started before a flush that reported
it completed, so no flush covering a lost event returns ``True``, and a producer whose storage
recovered gets ``True`` again once one flush has reported the loss.
"""

from __future__ import annotations

import threading

from ..exceptions import EventsNotStored

__all__ = ["FlushTally", "LossLedger"]


class _Loss:
    __slots__ = ("count", "error", "sequence")

    def __init__(self, count: int, error: BaseException, sequence: int | None) -> None:
        self.count = count
        self.error = error
        self.sequence = sequence


class FlushTally:
    """The losses one pending flush will report."""

    __slots__ = ("losses", "upto")

    def __init__(self, upto: int | None) -> None:
        self.upto = upto
        self.losses: list[_Loss] = []

    def covers(self, loss: _Loss) -> bool:
        """Whether the lost events were pushed before this flush."""
        return self.upto is None or loss.sequence is None or loss.sequence < self.upto


class LossLedger:
    """Losses of one producer not yet reported by a completed flush (thread-safe).

    ``sequence`` numbers are optional: a producer that numbers its pushes passes the number of
    the lost event to :meth:`lost` and the number of the next push to :meth:`open_flush`, so a
    flush never reports an event pushed after it; without numbers, a flush reports every loss
    that happened while it was pending (the generic producer completes a flush only after the
    batches sealed before it).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unreported: list[_Loss] = []
        self._pending: list[FlushTally] = []

    def lost(self, count: int, error: BaseException, sequence: int | None = None) -> None:
        """Record that ``count`` events were not stored because of ``error``."""
        loss = _Loss(count, error, sequence)
        with self._lock:
            self._unreported.append(loss)
            for tally in self._pending:
                if tally.covers(loss):
                    tally.losses.append(loss)

    def open_flush(self, upto: int | None = None) -> FlushTally:
        """Start tallying for a new flush (``upto``: number of the first push after it)."""
        tally = FlushTally(upto)
        with self._lock:
            tally.losses = [loss for loss in self._unreported if tally.covers(loss)]
            self._pending.append(tally)
        return tally

    def close_flush(self, tally: FlushTally) -> EventsNotStored | None:
        """End ``tally``'s flush: the error it must raise, or ``None`` if nothing was lost."""
        with self._lock:
            self._pending.remove(tally)
            reported = {id(loss) for loss in tally.losses}
            self._unreported = [loss for loss in self._unreported if id(loss) not in reported]
        if not tally.losses:
            return None
        return EventsNotStored(sum(loss.count for loss in tally.losses), tally.losses[0].error)
