"""Server side of pipelined appends: answers sent once their batch is committed.

A connection's handler thread writes each appended batch (:meth:`Partition.write`) and hands
the answer to the connection's :class:`Acknowledger`, then reads the next request at once. The
acknowledger commits the batches in order (:meth:`Partition.commit`, which groups the
``fdatasync`` of every batch written meanwhile) and only then sends each answer: a producer
is never acknowledged before its batch is durable, yet several batches in flight share a sync.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import deque
from typing import Any

from .protocol import error_answer, send_frame
from .storage import Partition

__all__ = ["Acknowledger"]

log = logging.getLogger("diaspora_stream_mochi.server")


class Acknowledger:
    """Commits written batches and sends their answers, in order, on one connection."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._queue: deque[tuple[Partition, int, dict[str, Any]]] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._broken = False
        self._send_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="mochi-acks")
        self._thread.start()

    def submit(self, partition: Partition, ticket: int, answer: dict[str, Any]) -> None:
        """Send ``answer`` once ``partition`` committed the batch of ``ticket``."""
        with self._cond:
            self._queue.append((partition, ticket, answer))
            self._cond.notify_all()

    def send_now(self, header: dict[str, Any]) -> bool:
        """Send a frame that is no answer (a data pull) at once, between two answers;
        ``False`` if the connection broke."""
        with self._send_lock:
            if self._broken:
                return False
            try:
                send_frame(self._sock, header)
            except OSError:
                self._broken = True
                return False
        return True

    def drain(self) -> bool:
        """Wait until every submitted answer was sent; ``False`` if the connection broke."""
        with self._cond:
            self._cond.wait_for(lambda: not self._queue and not self._busy)
            return not self._broken

    def close(self) -> None:
        """Send what is queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                partition, ticket, answer = self._queue.popleft()
                self._busy = True
            try:
                partition.commit(ticket)
            except Exception as error:  # the producer is told, never acknowledged
                log.exception("commit failed")
                answer = error_answer(f"server error: storing the batch failed: {error}")
            with self._send_lock:
                try:
                    if not self._broken:
                        send_frame(self._sock, answer)
                except OSError:
                    self._broken = True
            with self._cond:
                self._busy = False
                self._cond.notify_all()
