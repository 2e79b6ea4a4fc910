"""Growing a benchmark topic fast: ``push_many`` in chunks, from this process."""

from __future__ import annotations

import time
from typing import Any

from ...api import Driver, Producer
from ..progress import Progress

__all__ = ["TopicFiller"]

WAIT_MS = 600_000


class TopicFiller:
    """Appends copies of one event to a topic until it holds a given number of events.

    The producer stays open between calls, so the topic grows from one size to the next
    (10^4, then 10^6, ...) without writing the first events again.
    """

    def __init__(
        self,
        driver: Driver,
        topic_name: str,
        metadata: Any,
        data: bytes | None,
        chunk: int,
    ) -> None:
        """Fill ``topic_name`` (which must exist) with ``metadata`` and ``data`` (``None``:
        no data), ``chunk`` events per ``push_many``."""
        self.topic = driver.open_topic(topic_name)
        self.producer: Producer = self.topic.producer(batch_size=chunk)
        self.chunk = chunk
        self._metadata = [metadata] * chunk
        self._data = None if data is None else [data] * chunk
        #: Events in the topic so far.
        self.size = 0
        #: Events appended and seconds spent, over every call (for the fill rate).
        self.appended = 0
        self.seconds = 0.0

    def grow_to(self, target: int, label: str = "fill") -> float:
        """Append events until the topic holds ``target``; the seconds it took (flush
        included). A progress bar on stderr (on a terminal) follows it."""
        needed = max(0, target - self.size)
        progress = Progress(needed, f"{label} {self.size:,} -> {target:,} events")
        start = time.perf_counter()
        done = 0
        while done < needed:
            count = min(self.chunk, needed - done)
            data = None if self._data is None else self._data[:count]
            self.producer.push_many(self._metadata[:count], data)
            done += count
            progress.update(done)
        self.producer.flush().wait(WAIT_MS)
        elapsed = time.perf_counter() - start
        progress.close()
        self.size += needed
        self.appended += needed
        self.seconds += elapsed
        return elapsed

    @property
    def rate(self) -> float | None:
        """Events appended per second so far (``None`` before any)."""
        return self.appended / self.seconds if self.seconds > 0 else None

    def close(self) -> None:
        """Close the producer and the topic handle."""
        self.producer.close()
        self.topic.close()
