"""librdkafka producer instances shared by the producers of a process.

librdkafka is meant to run one producer instance per process: each instance has its own
threads, connections and, with idempotence, a producer id that takes the broker about half a
second to grant. Diaspora producers with the same settings therefore share one instance
(:func:`shared_producer`), kept for the life of the process, whose delivery reports a
background thread serves.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any

from confluent_kafka import Producer

__all__ = ["SharedProducer", "shared_producer"]

_POLL_INTERVAL_S = 0.05
_GATHER_S = 0.002
_EXIT_FLUSH_S = 60.0
_lock = threading.Lock()
_instances: dict[tuple[int, tuple[tuple[str, Any], ...]], SharedProducer] = {}


class SharedProducer:
    """A librdkafka producer and the thread that serves its delivery reports."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.client = Producer(settings)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name="diaspora-kafka-delivery-reports", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        poll = self.client.poll
        pause = time.sleep
        while not self._stop.is_set():
            # Reports arrive a batch at a time: let them gather, then serve them together, so
            # the pushing thread is not interrupted for the interpreter lock record by record.
            if poll(0) == 0:
                poll(_POLL_INTERVAL_S)
            else:
                pause(_GATHER_S)

    def drain(self, timeout_s: float) -> int:
        """Wait until every record is reported (at most ``timeout_s``); return how many are
        still pending."""
        return int(self.client.flush(timeout_s))

    def stop(self) -> None:
        """Stop serving reports (at exit, once drained)."""
        self._stop.set()
        self._thread.join()


def shared_producer(settings: dict[str, Any]) -> SharedProducer:
    """The process's producer instance for ``settings`` (created the first time)."""
    key = (os.getpid(), tuple(sorted(settings.items())))
    with _lock:
        instance = _instances.get(key)
        if instance is None:
            instance = _instances[key] = SharedProducer(settings)
        return instance


@atexit.register
def _drain_at_exit() -> None:
    """Deliver what is still queued when the interpreter exits (no lost events)."""
    with _lock:
        instances = [item for key, item in _instances.items() if key[0] == os.getpid()]
        _instances.clear()
    for instance in instances:
        try:
            instance.drain(_EXIT_FLUSH_S)
            instance.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
