"""Client side of the RPCs: connections to the members of a group, with clear failures.

Every failure to reach a server, or a server that stops answering within the timeout, raises
:class:`ServerUnavailableError` naming the server's address and the group file, so a push or
pull future fails with a message saying where to look instead of hanging.
"""

from __future__ import annotations

import select
import socket
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from diaspora_stream.logs import get_logger

from .config import GroupMember, read_token
from .errors import (
    AccessDeniedError,
    CompletedPartitionError,
    ProtocolError,
    RemoteError,
    ServerUnavailableError,
)
from .protocol import FrameReader, send_frame
from .shared_memory import SharedArea

T = TypeVar("T")

__all__ = ["Connection", "MemberClient"]

_LOGGER = get_logger("mochi")


class Connection:
    """One connection to a member: over its Unix socket when the client is on its node (and
    ``member.local`` allows it), else TCP; not thread-safe (the pool gives it to one thread).
    It starts with the ``hello`` frame carrying the group file's access token."""

    def __init__(self, member: MemberClient) -> None:
        self.member = member
        #: Shared memory handed to the member on this connection (Unix sockets only).
        self.shared: SharedArea | None = None
        #: Whether the server ends this connection after an answer (a request over a limit).
        self.ended = False
        self.sock = self._open_local() or self._open_tcp()
        # A connection dropped without close() (with its pool or driver) closes its socket.
        self._closer = weakref.finalize(self, _close_socket, self.sock)
        self.local = self.sock.family == socket.AF_UNIX
        self.sock.settimeout(member.timeout)
        self.reader = FrameReader(self.sock)
        try:
            self.send({"op": "hello", "token": member.token})
            self.receive()
        except RemoteError as error:
            self.close()
            raise AccessDeniedError(
                f"mochi server {member.member.address} (group file {member.group_file}) refused "
                f"this client: {error}"
            ) from None
        except BaseException:
            self.close()
            raise

    def _open_local(self) -> socket.socket | None:
        name = self.member.member.local
        if not (self.member.local and name):
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.member.timeout)
            sock.connect("\0" + name)
        except OSError:  # another node (or network namespace): TCP
            sock.close()
            return None
        return sock

    def _open_tcp(self) -> socket.socket:
        host, port = self.member.member.host_port
        try:
            sock = socket.create_connection((host, port), timeout=self.member.timeout)
        except OSError as error:
            raise self.member.unavailable(f"cannot connect ({error})") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def stale(self) -> bool:
        """Whether the server closed this idle connection (e.g. it restarted)."""
        if self.ended or self.reader.buffered or self.reader.pending:
            return True  # an idle connection has nothing unread: it is out of step
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)  # an idle connection has nothing to read unless it was closed

    def send(self, header: dict[str, Any], payload: Sequence[memoryview | bytes] = ()) -> None:
        """Send one frame."""
        try:
            send_frame(self.sock, header, payload)
        except OSError as error:
            raise self.member.unavailable(
                f"sending {header.get('op')!r} failed ({error})"
            ) from None

    def _answer(self, read: Callable[[], T]) -> T:
        """``read()``, its failures as the member's unavailability."""
        try:
            return read()
        except TimeoutError:
            raise self.member.unavailable(
                f"no answer within {self.member.timeout:g} s (driver option timeout_s)"
            ) from None
        except (EOFError, OSError) as error:
            raise self.member.unavailable(f"connection lost ({error or 'closed'})") from None
        except ProtocolError as error:
            raise self.member.unavailable(f"malformed answer ({error})") from None

    def _checked(self, header: dict[str, Any]) -> dict[str, Any]:
        if header.get("ok") is False:
            # The server closes the connection after refusing a request over a limit: the
            # next request must not be sent on it.
            self.ended = self.ended or header.get("kind") == "limit"
            message = str(header.get("error", "unknown server error"))
            if header.get("kind") == "completed":
                raise CompletedPartitionError(message)
            raise RemoteError(message)
        return header

    def receive_header(self) -> dict[str, Any]:
        """Receive an answer's header only; its payload is left on the socket for the caller."""
        return self._checked(self._answer(self.reader.header))

    def receive(self) -> tuple[dict[str, Any], memoryview]:
        """Receive one frame; raise :class:`RemoteError` for an error answer."""
        header, payload = self._answer(self.reader.frame)
        return self._checked(header), payload

    def close(self) -> None:
        """Close the socket (waking a thread blocked receiving on it)."""
        # Dropped, not closed: a thread may still be copying into it (it goes with the last
        # reference).
        self.shared = None
        self._closer()


def _close_socket(sock: socket.socket) -> None:
    """Shut ``sock`` down (waking a thread blocked on it) and close it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class MemberClient:
    """A pool of connections to one member of the group."""

    def __init__(
        self,
        member: GroupMember,
        group_file: Path,
        timeout: float,
        resolve: Callable[[int], GroupMember | None] | None = None,
        local: bool = False,
    ) -> None:
        self.member = member
        self.group_file = group_file
        self.timeout = timeout
        #: Whether connections go over the member's Unix socket when it is reachable.
        self.local = local
        #: The service's access token, from the group file (``None``: the file has none).
        self.token = read_token(group_file)
        self._resolve = resolve
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def unavailable(self, what: str) -> ServerUnavailableError:
        """The error for a server that cannot be reached."""
        return ServerUnavailableError(
            f"mochi server {self.member.address} (member {self.member.rank} of group file "
            f"{self.group_file}): {what}; check that the service is running "
            f"('diaspora-mochi status --config FILE') and that the group file is current"
        )

    def acquire(self) -> Connection:
        """An idle connection, or a new one."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect()
            if not connection.stale():
                return connection
            connection.close()

    def _connect(self) -> Connection:
        try:
            return Connection(self)
        except ServerUnavailableError:
            # Nothing was sent yet, so trying the group file's current address is safe.
            current = self._resolve(self.member.rank) if self._resolve else None
            if current is None or current.address == self.member.address:
                raise
            _LOGGER.info(
                "mochi member %d is unreachable at %s; reconnecting at %s (from group file %s)",
                self.member.rank,
                self.member.address,
                current.address,
                self.group_file,
            )
            self.member = current
            return Connection(self)

    def release(self, connection: Connection) -> None:
        """Give a healthy connection back to the pool."""
        with self._lock:
            self._idle.append(connection)

    def call(
        self, header: dict[str, Any], payload: Sequence[memoryview | bytes] = ()
    ) -> tuple[dict[str, Any], memoryview]:
        """One request, one answer."""
        connection = self.acquire()
        try:
            connection.send(header, payload)
            answer = connection.receive()
        except RemoteError:
            self.release(connection)
            raise
        except BaseException:
            connection.close()
            raise
        self.release(connection)
        return answer

    def close(self) -> None:
        """Close idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
