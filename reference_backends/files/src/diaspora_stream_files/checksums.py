"""Integrity mode: a CRC-32 of each event's metadata and data, in a side file.

``partitions/%08d/checksums`` (ignored by the C++ driver, like acknowledgements) holds for
event *i*, at byte ``8 * i``, ``<II``: the CRC-32 of its metadata blob and of its data. Writers
in integrity mode write the records after the data and before the index records, so an event
visible in the index has its checksum; records missing for events appended without integrity
mode (by the C++ driver, or with ``integrity`` false) are computed from the stored bytes by the
next append in integrity mode. Readers in integrity mode verify every byte they return.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from .corruption import corrupted

__all__ = ["CHECKSUMS_FILE", "RECORD_SIZE", "ChecksumFile", "crc_of", "crc_of_range"]

#: Name of the side file, next to ``data``, ``metadata`` and ``index``.
CHECKSUMS_FILE = "checksums"
#: Size of one record (two CRC-32s).
RECORD_SIZE = 8
_RECORD = struct.Struct("<II")
_CHUNK = 1 << 20


def crc_of(buffers: Iterable[Any]) -> int:
    """CRC-32 of ``buffers`` back to back."""
    crc = 0
    for buffer in buffers:
        crc = zlib.crc32(buffer, crc)
    return crc


def crc_of_range(fd: int, offset: int, size: int) -> int:
    """CRC-32 of ``size`` bytes of ``fd`` from ``offset``, read 1 MiB at a time."""
    crc = 0
    while size:
        chunk = os.pread(fd, min(size, _CHUNK), offset)
        if not chunk:
            raise EOFError(f"end of file at byte {offset}")
        crc = zlib.crc32(chunk, crc)
        offset += len(chunk)
        size -= len(chunk)
    return crc


class ChecksumFile:
    """The checksums of one partition (open for the lifetime of its handle)."""

    def __init__(self, fd: int, path: str) -> None:
        """Wrap the open side file ``fd`` found at ``path``."""
        self.fd = fd
        self.path = path

    @staticmethod
    def encode(checksums: Sequence[tuple[int, int]]) -> bytes:
        """The records of ``(metadata CRC, data CRC)`` pairs."""
        return b"".join(_RECORD.pack(*pair) for pair in checksums)

    def count(self) -> int:
        """Number of complete records."""
        return os.fstat(self.fd).st_size // RECORD_SIZE

    def load(self, start: int, stop: int) -> list[tuple[int, int]]:
        """``(metadata CRC, data CRC)`` of events ``start`` to ``stop - 1``; raises if the file
        does not have them all."""
        raw = os.pread(self.fd, (stop - start) * RECORD_SIZE, start * RECORD_SIZE)
        if len(raw) != (stop - start) * RECORD_SIZE:
            missing = start + len(raw) // RECORD_SIZE
            raise corrupted(
                self.path,
                missing * RECORD_SIZE,
                f"Missing checksum of event {missing}: the file ends before it (the event was "
                "written without integrity mode, or the file was truncated)",
                "read with the driver option integrity set to false, or append once in "
                "integrity mode to compute the missing checksums from the stored bytes",
            )
        return list(_RECORD.iter_unpack(raw))

    def verify(
        self, event_id: int, what: str, expected: int, actual: int, path: str, offset: int
    ) -> None:
        """Raise unless ``actual`` (CRC of the ``what`` of ``event_id`` at ``offset`` of
        ``path``) is ``expected``."""
        if actual != expected:
            raise corrupted(
                path,
                offset,
                f"Checksum mismatch for the {what} of event {event_id}: CRC-32 {actual:08x}, "
                f"but {self.path} records {expected:08x} at byte "
                f"{event_id * RECORD_SIZE + (0 if what == 'metadata' else 4)}",
            )
