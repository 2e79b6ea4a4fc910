"""Wire format: length-prefixed frames, each a small JSON header and a raw binary payload.

A frame is ``[u32 header length][u64 payload length][header: JSON object][payload]`` (lengths
big-endian). Requests carry ``"op"``; answers carry ``"ok": true`` or ``"error": message``.
Binary tables in payloads (sizes, segment lists) are little-endian packed integers, so both
sides can build and read them with :mod:`array` without a per-event Python loop.
"""

from __future__ import annotations

import array
import os
import socket
import struct
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from .errors import FrameTooLargeError, ProtocolError

__all__ = [
    "FileRange",
    "FrameReader",
    "MAX_HEADER",
    "MAX_PAYLOAD",
    "error_answer",
    "receive_frame",
    "receive_header",
    "receive_into",
    "send_frame",
    "send_frame_with_fd",
]

_PREFIX = struct.Struct("!IQ")
#: Largest header and payload a :class:`FrameReader` accepts unless told otherwise (servers set
#: their own limits); a larger length is refused, never allocated.
MAX_HEADER = 1 << 20
MAX_PAYLOAD = 1 << 36
#: Buffers per ``sendmsg`` (below the kernel's IOV_MAX).
_MAX_GATHER = 512
#: Most bytes one ``sendmsg`` or ``recv_into`` moves. Loopback TCP runs faster in pieces of
#: about 1 MiB than in one call per multi-MiB batch: sender and receiver then copy at the
#: same time instead of each waiting for the other to drain or fill the socket buffer.
_STREAM_PIECE = 1 << 20
#: Receive buffer of a :class:`FrameReader`.
_READ_BUFFER = 64 * 1024
#: Most bytes a :class:`FrameReader` allocates for a header or payload before they arrive;
#: beyond it the buffer grows with what arrived.
_PRESIZE = _STREAM_PIECE
#: Descriptors a :class:`FrameReader` accepts in one message (more are closed: an error).
_MAX_FDS = 1


class FileRange(NamedTuple):
    """``size`` bytes of the open file ``fd`` from ``offset``, as a part of a frame's payload:
    sent with ``os.sendfile``, from the page cache to the socket without a user-space copy
    (the socket must be blocking)."""

    fd: int
    offset: int
    size: int


def send_frame(
    sock: socket.socket,
    header: dict[str, Any],
    payload: Sequence[memoryview | bytes | FileRange] = (),
) -> None:
    """Send one frame; ``payload`` buffers are sent as they are (gathered, not joined), file
    ranges from their files."""
    encoded = orjson.dumps(header)
    parts = [
        part if isinstance(part, FileRange) else _byte_view(part)
        for part in payload
        if (part.size if isinstance(part, FileRange) else len(part))
    ]
    size = sum(part.size if isinstance(part, FileRange) else part.nbytes for part in parts)
    first = _PREFIX.pack(len(encoded), size) + encoded
    views = [memoryview(first)]
    pending = len(first)
    for part in parts:
        if isinstance(part, FileRange):
            if pending:
                _send_all(sock, views, pending)
            _send_file(sock, part)
            views, pending = [], 0
        else:
            views.append(part)
            pending += part.nbytes
    if pending:
        _send_all(sock, views, pending)


def send_frame_with_fd(sock: socket.socket, header: dict[str, Any], fd: int) -> None:
    """Send a frame without payload, the descriptor ``fd`` attached (Unix sockets)."""
    encoded = orjson.dumps(header)
    frame = _PREFIX.pack(len(encoded), 0) + encoded
    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]).tobytes())]
    sent = sock.sendmsg([frame], rights)
    if sent < len(frame):
        sock.sendall(frame[sent:])


def _send_file(sock: socket.socket, part: FileRange) -> None:
    offset, end = part.offset, part.offset + part.size
    while offset < end:
        sent = os.sendfile(sock.fileno(), part.fd, offset, min(end - offset, _STREAM_PIECE))
        if not sent:
            raise OSError(f"file ends at {offset}, before the {end} bytes to send")
        offset += sent


def _byte_view(part: memoryview | bytes) -> memoryview:
    return memoryview(part).cast("B")


def _send_all(sock: socket.socket, views: list[memoryview], remaining: int) -> None:
    """Send ``remaining`` bytes held by ``views``: gathered in one system call up to
    ``_STREAM_PIECE`` bytes, a larger view in pieces of that size."""
    start = 0
    while True:
        gathered: list[memoryview] = []
        size = 0
        for view in views[start : start + _MAX_GATHER]:
            if size + view.nbytes > _STREAM_PIECE:
                if not gathered:
                    gathered.append(view[:_STREAM_PIECE])
                break
            gathered.append(view)
            size += view.nbytes
        sent = sock.sendmsg(gathered)
        remaining -= sent
        if not remaining:
            return
        while sent:  # drop what went out; a partial send leaves the rest of one view
            first = views[start]
            if sent >= first.nbytes:
                sent -= first.nbytes
                start += 1
            else:
                views[start] = first[sent:]
                sent = 0


def receive_into(sock: socket.socket, view: memoryview) -> None:
    """Fill ``view`` from ``sock``; :class:`EOFError` if the peer closes first."""
    while view.nbytes:
        count = sock.recv_into(view[:_STREAM_PIECE])
        if count == 0:
            raise EOFError("connection closed by the peer")
        view = view[count:]


def receive_header(sock: socket.socket) -> dict[str, Any]:
    """Receive a frame's header; the payload (``header["_payload"]`` bytes) is left unread."""
    prefix = bytearray(_PREFIX.size)
    receive_into(sock, memoryview(prefix))
    header_size, payload_size = _PREFIX.unpack(prefix)
    if header_size > MAX_HEADER or payload_size > MAX_PAYLOAD:
        raise ProtocolError(
            f"frame too large (header {header_size} bytes, payload {payload_size} bytes)"
        )
    raw = bytearray(header_size)
    receive_into(sock, memoryview(raw))
    try:
        header = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ProtocolError(f"frame header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise ProtocolError("frame header must be a JSON object")
    header["_payload"] = payload_size
    return header


def receive_frame(sock: socket.socket) -> tuple[dict[str, Any], memoryview]:
    """Receive one frame: its header (a dict) and its payload.

    Raises :class:`EOFError` when the peer closed the connection between frames and
    :class:`ProtocolError` when the frame is malformed.
    """
    header = receive_header(sock)
    payload = memoryview(bytearray(header.pop("_payload")))
    receive_into(sock, payload)
    return header, payload


class FrameReader:
    """Receives the frames of one socket through a buffer (one reader per socket).

    One ``recv`` brings in every small frame that has arrived (answers to pipelined requests
    come in bursts), so a buffered frame costs no system call, and no release and re-take of
    the GIL, which a thread waiting for it would seize each time. A payload larger than the
    buffer goes from the socket straight into its destination.
    """

    def __init__(
        self, sock: socket.socket, capacity: int = _READ_BUFFER, receive_fds: bool = False
    ) -> None:
        self.sock = sock
        #: Largest header and payload accepted (a larger frame is a :class:`ProtocolError`).
        self.max_header = MAX_HEADER
        self.max_payload = MAX_PAYLOAD
        #: With ``receive_fds``: descriptors received with the bytes and not taken yet.
        self.fds: list[int] = []
        self._receive_fds = receive_fds
        self._buffer = bytearray(capacity)
        self._view = memoryview(self._buffer)
        self._start = 0
        self._end = 0
        #: Payload bytes of the last frame header that were not consumed yet.
        self.pending = 0

    @property
    def buffered(self) -> int:
        """Bytes received and not consumed yet."""
        return self._end - self._start

    def _fill(self, count: int) -> None:
        """Buffer at least ``count`` bytes (at most the buffer's capacity)."""
        if self._end - self._start >= count:
            return
        if self._start + count > len(self._buffer):
            size = self._end - self._start
            self._view[:size] = self._view[self._start : self._end]
            self._start, self._end = 0, size
        while self._end - self._start < count:
            if self._receive_fds:
                received = self._receive_with_fds(self._view[self._end :])
            else:
                received = self.sock.recv_into(self._view[self._end :])
            if not received:
                raise EOFError("connection closed by the peer")
            self._end += received

    def _receive_with_fds(self, view: memoryview) -> int:
        space = socket.CMSG_SPACE(_MAX_FDS * array.array("i").itemsize)
        received, ancillary, flags, _ = self.sock.recvmsg_into(
            [view], space, socket.MSG_CMSG_CLOEXEC
        )
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
                self.fds.extend(fds)
        if flags & socket.MSG_CTRUNC or len(self.fds) > _MAX_FDS:
            self.close_fds()
            raise ProtocolError(f"at most {_MAX_FDS} descriptor may come with a frame")
        return received

    def take_fd(self) -> int | None:
        """A received descriptor (the caller closes it), or ``None``."""
        return self.fds.pop(0) if self.fds else None

    def close_fds(self) -> None:
        """Close the received descriptors nobody took."""
        while self.fds:
            os.close(self.fds.pop())

    def _read_into(self, view: memoryview) -> None:
        """Fill ``view``: buffered bytes first, then straight from the socket."""
        have = min(self._end - self._start, view.nbytes)
        view[:have] = self._view[self._start : self._start + have]
        self._start += have
        receive_into(self.sock, view[have:])

    def header(self, max_payload: int | None = None) -> dict[str, Any]:
        """Receive a frame's header; its payload (``pending`` bytes) is read next.

        ``max_payload``: the payload limit of this frame only (default ``self.max_payload``).
        Lengths over the limits raise :class:`FrameTooLargeError` before anything is read.
        """
        while self.pending:  # an unread payload of the previous frame: dropped
            self._fill(1)
            dropped = min(self.pending, self._end - self._start)
            self._start += dropped
            self.pending -= dropped
        self._fill(_PREFIX.size)
        header_size, payload_size = _PREFIX.unpack_from(self._buffer, self._start)
        if header_size > self.max_header:
            raise FrameTooLargeError("header", header_size, self.max_header)
        limit = self.max_payload if max_payload is None else max_payload
        if payload_size > limit:
            raise FrameTooLargeError("payload", payload_size, limit)
        self._start += _PREFIX.size
        if header_size <= len(self._buffer):
            self._fill(header_size)
            raw: Any = self._view[self._start : self._start + header_size]
            self._start += header_size
        else:
            raw = self._receive_growing(header_size)
        try:
            header = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise ProtocolError(f"frame header is not JSON: {error}") from None
        if not isinstance(header, dict):
            raise ProtocolError("frame header must be a JSON object")
        self.pending = payload_size
        return header

    def _receive_growing(self, size: int) -> memoryview:
        """The next ``size`` bytes, in a buffer that grows as they arrive (doubling): a peer
        that announces more than it sends makes this side commit at most twice what it sent
        (plus ``_PRESIZE``), never what it announced."""
        buffer = bytearray(min(size, _PRESIZE))
        filled = 0
        while True:
            self._read_into(memoryview(buffer)[filled:])  # the view is gone before resizing
            filled = len(buffer)
            if filled == size:
                return memoryview(buffer)
            # A zeroed bytes object of that size costs no pages of its own (calloc).
            buffer += bytes(min(filled, size - filled))

    def payload_into(self, view: memoryview) -> None:
        """Receive the next ``view.nbytes`` bytes of the pending payload into ``view``."""
        if view.nbytes > self.pending:
            raise ProtocolError(
                f"{view.nbytes} payload bytes wanted, the frame has {self.pending} left"
            )
        self._read_into(view)
        self.pending -= view.nbytes

    def payload(self) -> memoryview:
        """The rest of the pending payload, in a new buffer grown as the bytes arrive."""
        size, self.pending = self.pending, 0
        return self._receive_growing(size)

    def frame(self) -> tuple[dict[str, Any], memoryview]:
        """One whole frame (see :func:`receive_frame`)."""
        header = self.header()
        return header, self.payload()


def error_answer(message: str, kind: str = "error") -> dict[str, Any]:
    """The header of an error answer."""
    return {"ok": False, "error": message, "kind": kind}
