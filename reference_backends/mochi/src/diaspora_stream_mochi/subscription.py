"""Consumer side of the push path: a server-fed stream of metadata batches with credits.

A subscription owns one connection on which the server pushes batches of metadata (starting at
an event id). The server sends a batch only while it holds a credit; the client grants one
credit back each time it has handed a whole batch to the consumer, so at most ``credits``
batches are ever buffered on the client (credit-based flow control, ``max_num_batches``).
"""

from __future__ import annotations

import sys
import threading
import weakref
from array import array
from collections import deque
from itertools import accumulate

from diaspora_stream.backend.log import StoredRecord
from diaspora_stream.exceptions import Exception as DiasporaException

from .client import Connection, MemberClient

__all__ = ["Subscription"]


class Subscription:
    """Batches pushed by the server for one partition, from event ``start`` on."""

    def __init__(
        self,
        member: MemberClient,
        topic: str,
        partition: int,
        start: int,
        batch_size: int,
        max_batches: int,
    ) -> None:
        self.partition = partition
        self.next_id = start
        self._connection = Connection(member)
        try:
            self._connection.send(
                {
                    "op": "subscribe",
                    "topic": topic,
                    "partition": partition,
                    "start": start,
                    "batch_size": batch_size,
                    "credits": max_batches,
                }
            )
            self._connection.receive()
        except BaseException:
            self._connection.close()
            raise
        self._connection.sock.settimeout(None)  # pushes come when events do
        #: Pushed batches not handed out yet; ``_head``: records of the first already taken.
        self._batches: deque[list[StoredRecord]] = deque()
        self._head = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._timeout = member.timeout
        self._send_lock = threading.Lock()
        self._error: DiasporaException | None = None
        self._closed = False
        # The reader holds the subscription only weakly: a subscription dropped without close()
        # is collected, and its finalizer closes the connection, which ends the reader.
        self._closer = weakref.finalize(self, self._connection.close)
        self._reader = threading.Thread(
            target=_receive,
            args=(self._connection, weakref.ref(self)),
            daemon=True,
            name="mochi-feed",
        )
        self._reader.start()

    def _fail(self, error: DiasporaException) -> None:
        with self._lock:
            if not self._closed:
                self._error = error
            self._arrived.notify_all()

    def _add_batch(self, first_id: int, count: int, payload: memoryview) -> None:
        meta_sizes = array("I")
        meta_sizes.frombytes(payload[: 4 * count])
        data_sizes = array("Q")
        data_sizes.frombytes(payload[4 * count : 12 * count])
        if sys.byteorder != "little":
            meta_sizes.byteswap()
            data_sizes.byteswap()
        blob = bytes(payload[12 * count :])
        ends = accumulate(meta_sizes)
        starts = accumulate(meta_sizes[:-1], initial=0) if count else iter(())
        records = [
            StoredRecord(event_id, blob[start:end], data_size)
            for event_id, start, end, data_size in zip(
                range(first_id, first_id + count), starts, ends, data_sizes, strict=True
            )
        ]
        with self._lock:
            self._batches.append(records)
            self._arrived.notify_all()

    def take(self, max_count: int, wait: bool = False) -> list[StoredRecord]:
        """Up to ``max_count`` buffered records (maybe none); raises if the feed broke.

        With ``wait`` (the caller knows the server has events from ``next_id`` on), wait for
        the batch the server is pushing, up to the driver's timeout.
        """
        taken: list[StoredRecord] = []
        granted = 0
        with self._lock:
            if wait and not self._batches and self._error is None:
                if not self._arrived.wait_for(
                    lambda: self._batches or self._error is not None, self._timeout
                ):
                    raise DiasporaException(
                        f"the server did not push events of partition {self.partition} from id "
                        f"{self.next_id} within {self._timeout:g} s (driver option timeout_s)"
                    )
            while self._batches and len(taken) < max_count:
                batch = self._batches[0]
                end = self._head + max_count - len(taken)
                taken += batch[self._head : end]
                if end >= len(batch):
                    self._batches.popleft()
                    self._head = 0
                    granted += 1
                else:
                    self._head = end
            if not taken and self._error is not None:
                raise self._error
        if granted:
            with self._send_lock:
                self._connection.send({"op": "credit", "credits": granted})
        if taken:
            self.next_id = taken[-1].event_id + 1
        return taken

    def close(self) -> None:
        """Stop the feed (the server ends it when the connection closes)."""
        with self._lock:
            self._closed = True
        self._closer()


def _receive(connection: Connection, subscription: weakref.ref[Subscription]) -> None:
    """The reader thread of a subscription: hands each pushed batch to it while it lives."""
    try:
        while True:
            header, payload = connection.receive()
            if header.get("op") != "batch":
                raise DiasporaException(f"unexpected message {header.get('op')!r} in a feed")
            target = subscription()
            if target is None:
                return
            target._add_batch(int(header["first_id"]), int(header["count"]), payload)
            del target
    except DiasporaException as error:
        target = subscription()
        if target is not None:
            target._fail(error)
