"""Client side of pipelined appends: requests sent back to back on one connection.

An :class:`AppendPipeline` owns a connection to the member hosting a partition. ``send`` writes
a request and returns at once with a function that waits for that request's answer; answers
come back in request order (the server handles a connection's requests one after the other),
so whichever thread waits reads the answers in turn and keeps those of the others. On the
member's node the connection is a Unix socket and the pipeline hands the member a shared memory
area at once (:class:`SharedArea`): a batch's data is copied into a free region of it and the
request names the region; the region is free again once the batch is answered. A batch whose
data has no room there (or on TCP) is pulled over the connection: the server's "pull"
request (naming the batch by its sequence number) comes among the answers, and the thread
reading them streams that batch's data back at once. When the
connection fails, every request sent on it that was not answered fails with the same error
(none is sent again: a batch is stored at most once), and the next ``send`` connects anew
(as it does when the server closed the idle connection, e.g. after a restart).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from diaspora_stream.exceptions import Exception as DiasporaException

from .client import Connection, MemberClient
from .errors import RemoteError
from .protocol import send_frame_with_fd
from .shared_memory import SharedArea

__all__ = ["AppendPipeline"]

log = logging.getLogger("diaspora_stream.mochi")
#: Default size of a pipeline's shared memory area.
SHARED_BYTES = 64 * 1024 * 1024


class AppendPipeline:
    """Requests to one member, pipelined on a dedicated connection (thread-safe)."""

    def __init__(self, member: MemberClient, shared_bytes: int = SHARED_BYTES) -> None:
        self._member = member
        self._shared_bytes = shared_bytes
        #: Requests whose data sits in a region of their connection's shared area.
        self._in_shared: set[int] = set()
        self._connection: Connection | None = None
        self._send_lock = threading.Lock()
        self._receive_lock = threading.Lock()
        self._lock = threading.Lock()
        #: Requests sent and not answered yet, oldest first: (sequence number, connection).
        self._outstanding: deque[tuple[int, Connection]] = deque()
        self._results: dict[int, dict[str, Any] | BaseException] = {}
        #: Data of the requests sent and not answered, by sequence number, for a pull.
        self._data: dict[int, Sequence[memoryview]] = {}
        self._sequence = 0

    def send(
        self,
        header: dict[str, Any],
        payload: Sequence[memoryview | bytes],
        data: Sequence[memoryview] = (),
    ) -> Callable[[], dict[str, Any]]:
        """Send a request; return the function that waits for its answer (or raises).

        ``data``: the batch's data segments, streamed if the server pulls them over the
        connection (they must stay unchanged until the answer)."""
        with self._send_lock:
            connection = self._connection
            if connection is not None and self._idle() and connection.stale():
                connection.close()  # the server closed it (e.g. restarted): nothing is lost
                connection = None
            if connection is None:
                connection = self._connection = self._member.acquire()
                self._share(connection)
            sequence = self._sequence  # numbers are given under the send lock: in send order
            header["seq"] = sequence
            if data and self._place(connection, sequence, data, header):
                data = ()
            with self._lock:
                if data:
                    self._data[sequence] = data
            try:
                connection.send(header, payload)
            except BaseException:
                with self._lock:
                    self._data.pop(sequence, None)
                    self._in_shared.discard(sequence)
                self._broken(connection, None)
                raise
            with self._lock:
                self._sequence += 1
                self._outstanding.append((sequence, connection))
        return lambda: self._take(sequence)

    def _share(self, connection: Connection) -> None:
        """Hand a new shared area to the member of a fresh (idle) local connection."""
        if not connection.local or connection.shared is not None:
            return
        area = SharedArea.take(self._shared_bytes)
        try:
            send_frame_with_fd(connection.sock, {"op": "share"}, area.fd)
            connection.receive()
        except RemoteError as error:
            log.warning("shared memory refused (%s): batches' data goes over the stream", error)
            area.close()
            return
        except BaseException:
            area.close()
            connection.close()
            raise
        connection.shared = area

    def _place(
        self,
        connection: Connection,
        sequence: int,
        data: Sequence[memoryview],
        header: dict[str, Any],
    ) -> bool:
        """Copy a batch's data into a free region of the shared area; whether it fit."""
        area = connection.shared
        if area is None:
            return False
        size = sum(view.nbytes for view in data)
        with self._lock:
            offset = area.allocate(size)
            if offset is None:
                return False
            self._in_shared.add(sequence)
        area.fill(offset, list(data))
        header["shared"] = offset
        return True

    def _idle(self) -> bool:
        with self._lock:
            return not self._outstanding

    def close(self) -> None:
        """Close the connection; unanswered requests fail."""
        with self._send_lock:
            connection, self._connection = self._connection, None
            if connection is not None and connection.shared is not None:
                connection.shared.recycle()  # no copy into it runs: the send lock is held
        if connection is not None:
            self._broken(connection, DiasporaException("the topic was closed"))

    def _take(self, sequence: int) -> dict[str, Any]:
        self._receive_until(sequence)
        with self._lock:
            result = self._results.pop(sequence)
        if isinstance(result, BaseException):
            raise result
        return result

    def _receive_until(self, sequence: int) -> None:
        with self._receive_lock:
            while True:
                with self._lock:
                    if sequence in self._results or not self._outstanding:
                        return
                    head, connection = self._outstanding[0]
                try:
                    answer: dict[str, Any] | BaseException = connection.receive()[0]
                    if isinstance(answer, dict) and answer.get("op") == "pull":
                        self._stream_data(connection, answer)
                        continue
                except RemoteError as error:
                    answer = error
                except Exception as error:  # noqa: BLE001 - every waiter of it gets it
                    self._broken(connection, error)
                    continue
                with self._lock:
                    self._outstanding.popleft()
                    self._results[head] = answer
                    self._data.pop(head, None)
                    if head in self._in_shared and connection.shared is not None:
                        self._in_shared.discard(head)
                        connection.shared.release()

    def _stream_data(self, connection: Connection, request: dict[str, Any]) -> None:
        """Send the data of the batch the server pulls over the connection."""
        with self._lock:
            data = self._data.pop(request.get("seq"), None)  # type: ignore[arg-type]
        size = sum(view.nbytes for view in data) if data is not None else None
        if data is None or size != request.get("size"):
            raise DiasporaException(
                f"the server pulled {request.get('size')} bytes of batch {request.get('seq')}, "
                f"which has {'no data waiting' if size is None else size}"
            )
        with self._send_lock:
            connection.send({"op": "bulk"}, data)

    def _broken(self, connection: Connection, error: BaseException | None) -> None:
        """Fail the unanswered requests sent on ``connection`` and close it."""
        connection.close()
        with self._lock:
            if self._connection is connection:
                self._connection = None
            if error is not None:
                kept: deque[tuple[int, Connection]] = deque()
                for sequence, used in self._outstanding:
                    if used is connection:
                        self._results[sequence] = error
                        self._data.pop(sequence, None)
                        self._in_shared.discard(sequence)
                    else:
                        kept.append((sequence, used))
                self._outstanding = kept
