"""Non-blocking FIFO ends that survive the other side going away.

:class:`FifoReader` reads lines from a FIFO whatever the number of writer sessions: when the
last writer closes, it flushes the unterminated last line (if any) and reopens the FIFO — the
new descriptor is opened before the old one is closed, so a writer that connects meanwhile
never finds the FIFO without a reader.

:func:`open_writer` / :func:`write_all` write lines to a FIFO whose reader may come and go:
``ENXIO`` (no reader yet) and ``EPIPE`` (the reader left) are reported to the caller instead of
killing the process (Python ignores ``SIGPIPE``).
"""

from __future__ import annotations

import errno
import os
import select
import stat
import threading

__all__ = ["FifoReader", "is_fifo", "open_writer", "write_all"]

_READ_SIZE = 65536
_MAX_READS_PER_CALL = 64


def is_fifo(path: str) -> bool:
    """Whether ``path`` exists and is a FIFO."""
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


class FifoReader:
    """The reading end of a FIFO, split into ``\\n``-terminated lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = self._open()
        self._buffer = bytearray()
        #: Why the FIFO could not be reopened after its last writer closed (then ``fd`` is -1).
        self.error: OSError | None = None

    def _open(self) -> int:
        return os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)

    def read_lines(self) -> tuple[list[bytes], bool]:
        """Read what is available; return the complete lines (without ``\\n``) and whether the
        last writer closed (then an unterminated last line is returned as a line too)."""
        if self.fd < 0:
            return [], True
        closed = False
        for _ in range(_MAX_READS_PER_CALL):
            try:
                chunk = os.read(self.fd, _READ_SIZE)
            except BlockingIOError:
                break
            if not chunk:
                closed = True
                break
            self._buffer += chunk
        *complete, rest = self._buffer.split(b"\n")
        lines = [bytes(line) for line in complete]
        self._buffer = bytearray(rest)
        if closed:
            if self._buffer:
                lines.append(bytes(self._buffer))
                self._buffer.clear()
            try:
                self.reopen()
            except OSError as error:  # e.g. the FIFO was removed: the caller gives up on it
                self.close()
                self.error = error
        return lines, closed

    def reopen(self) -> None:
        """Replace the descriptor by a fresh one (which does not report the old hang-up)."""
        fresh = self._open()
        os.close(self.fd)
        self.fd = fresh

    def close(self) -> None:
        """Close the descriptor (pending partial input is dropped)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_writer(path: str) -> int | None:
    """Open ``path`` for non-blocking writing; ``None`` if no reader has it open (``ENXIO``)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ENXIO:
            return None
        raise


def write_all(fd: int, data: bytes, stop: threading.Event, poll_ms: int = 100) -> bool:
    """Write all of ``data`` to the non-blocking ``fd``, waiting while the FIFO is full.

    Returns ``True`` when everything was written (or ``stop`` was set meanwhile), ``False`` when
    the reader went away (``EPIPE``): the caller then reopens and writes the line again.
    """
    view = memoryview(data)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            if stop.is_set():
                return True
            for _, mask in poller.poll(poll_ms):
                if mask & select.POLLERR:
                    return False
            continue
        except BrokenPipeError:
            return False
        view = view[written:]
    return True
