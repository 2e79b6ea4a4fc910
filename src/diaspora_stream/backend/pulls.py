"""The futures ``pull()`` returns, for consumers of any backend.

A consumer supplies one function, ``claim(deadline)``: take the next event, waiting (fetching,
polling, blocking on a socket: the backend's way) until ``deadline`` (``time.monotonic()``
seconds; ``None``: no limit; a past deadline: do not wait), and return it, or ``None`` if none
came in time. :func:`pull_future` claims at once without waiting; when nothing is there, the
future's ``wait(timeout_ms)`` claims with a deadline. Nothing is claimed by a future nobody
waits on, so dropping a timed-out future loses no event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..futures import Completion, FutureEvent, _timeout_seconds

__all__ = ["Claim", "PendingPull", "pull_future"]

#: ``claim(deadline) -> event or None`` (see the module's docstring).
Claim = Callable[[float | None], Any]


class PendingPull(Completion):
    """A pull that found nothing yet: each ``wait`` claims with its own deadline."""

    __slots__ = ("_claim",)

    def __init__(self, claim: Claim) -> None:
        super().__init__()
        self._claim = claim

    def wait(self, timeout_ms: Any) -> bool:
        if self._done:
            return super().wait(timeout_ms)
        timeout = _timeout_seconds(timeout_ms)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            event = self._claim(deadline)
        except Exception as error:  # noqa: BLE001 - raised by wait, like the reference
            self.set_error(error)
            return super().wait(0)
        if event is None:
            return False
        self.set_result(event)
        return True


def pull_future(claim: Claim) -> FutureEvent:
    """The future of one pull: the next event if one is there now, else a pending pull."""
    try:
        event = claim(0.0)  # a deadline already past: no waiting
    except Exception as error:  # noqa: BLE001 - raised by wait
        return FutureEvent(Completion.failed(error))
    if event is None:
        return FutureEvent(PendingPull(claim))
    return FutureEvent(Completion.resolved(event))
