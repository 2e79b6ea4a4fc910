"""librdkafka producer instances shared by the producers of a process.

librdkafka is meant to run one producer instance per process: each instance has its own
threads, connections and, with idempotence, a producer id that takes the broker about half a
second to grant. Diaspora producers with the same settings therefore share one instance
(:func:`shared_producer`), kept for the life of the process.

Delivery reports are Python callbacks, and librdkafka's binding takes the interpreter lock for
each. A thread that pushes serves the reports that arrived between its pushes itself
(:meth:`SharedProducer.serve_here`), which costs it no switch of the interpreter lock; the
background thread serves them when nobody pushes, or at once when a thread waits for one
(:meth:`SharedProducer.wake`).
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
#: How long the background thread keeps away while threads push (unless woken).
_YIELD_S = 0.002
_EXIT_FLUSH_S = 60.0
_lock = threading.Lock()
_instances: dict[tuple[int, tuple[tuple[str, Any], ...]], SharedProducer] = {}


class SharedProducer:
    """A librdkafka producer and the thread that serves its delivery reports.

    One thread at a time serves reports (``_serving``): librdkafka hands each polling thread
    the reports that arrived, and the binding releases the interpreter lock between two
    reports, so two threads serving at once could interleave the reports of one partition,
    which the producers match with their records in order.
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        self.client = Producer(settings)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._serving = threading.Lock()
        self._pushing = False
        self._thread = threading.Thread(
            target=self._serve, name="diaspora-kafka-delivery-reports", daemon=True
        )
        self._thread.start()

    def serve_here(self) -> None:
        """Serve the delivery reports that arrived, in the calling thread, unless another
        thread serves them (for a thread that pushes: the background thread keeps away while
        threads do)."""
        self._pushing = True
        if self._serving.acquire(blocking=False):
            try:
                self.client.poll(0)
            finally:
                self._serving.release()

    def wait_for_room(self, timeout_s: float) -> None:
        """Serve reports for at most ``timeout_s`` (librdkafka's queue is full), or let the
        thread that serves them make room."""
        self._pushing = True
        if self._serving.acquire(timeout=timeout_s):
            try:
                self.client.poll(timeout_s)
            finally:
                self._serving.release()

    def wake(self) -> None:
        """Have the background thread serve reports now: a thread waits for one."""
        self._wake.set()

    def _serve(self) -> None:
        poll = self.client.poll
        pause = time.sleep
        woken = self._wake
        serving = self._serving
        while not self._stop.is_set():
            if self._pushing:
                # A pushing thread serves the reports between its pushes, without switching
                # the interpreter lock for each: keep away unless a thread waits for one.
                self._pushing = False
                if not woken.wait(_YIELD_S):
                    continue
            woken.clear()
            with serving:
                served = poll(0)
                if not served:
                    poll(_POLL_INTERVAL_S)
            if served:
                # Reports arrive a batch at a time: let them gather, then serve them together.
                pause(_GATHER_S)

    def drain(self, timeout_s: float) -> int:
        """Stop serving reports in the background, then wait until every record is reported
        (at most ``timeout_s``); return how many are still pending (at exit)."""
        self._stop.set()
        self._wake.set()
        self._thread.join()
        with self._serving:
            return int(self.client.flush(timeout_s))


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
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
