"""The batch path of the generic consumer of log-level backends (``pull_many``).

Events are claimed exactly as ``pull`` claims them (round robin over the targeted partitions,
end-of-stream sentinels, records read ahead), several under one acquisition of the consumer's
lock and without a future per event; when fewer than asked are available, the consumer polls
the backend as ``pull`` does until the deadline.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..backend.batching import PullResult

if TYPE_CHECKING:
    from .consumer import LogConsumer

__all__ = ["claim_many"]

_FIRST_POLL_INTERVAL = 0.0005
_MAX_POLL_INTERVAL = 0.02


def claim_many(consumer: LogConsumer, max_events: int, deadline: float | None) -> PullResult:
    """``consumer.pull_many``: see the module's docstring."""
    events: list[Any] = []
    append = events.append
    claim = consumer._claim
    interval = _FIRST_POLL_INTERVAL
    while True:
        try:
            with consumer._lock:
                while len(events) < max_events:
                    event = claim()
                    if event is None:
                        break
                    append(event)
                    if event.event_id is None:  # a sentinel ends the batch
                        return events, None
        except Exception as error:  # noqa: BLE001 - raised by the public layer in its turn
            return events, error
        if len(events) >= max_events:
            return events, None
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return events, None
        time.sleep(interval if deadline is None else min(interval, deadline - now))
        interval = min(interval * 2, _MAX_POLL_INTERVAL)
