"""The index file codec: fixed 32-byte records ``<QQQQ`` (reference-api.md §5.3).

Record *i* (event id *i*) is at byte offset ``32 * i`` and holds ``metadata_offset``,
``metadata_size``, ``data_offset`` and ``data_size`` as little-endian unsigned 64-bit integers.
A trailing partial record (a writer died in the middle of writing it) does not count.

Records are handled as flat ``array("Q")`` objects (4 integers per record): packing and
unpacking many records is then one C-level call rather than a Python loop.
"""

from __future__ import annotations

import struct
import sys
from array import array

__all__ = [
    "RECORD_SIZE",
    "FIELDS",
    "complete_records",
    "encode",
    "decode",
    "decode_one",
]

#: Size in bytes of one index record.
RECORD_SIZE = 32
#: Number of integers in one record.
FIELDS = 4

_RECORD = struct.Struct("<QQQQ")
_SWAP = sys.byteorder != "little"


def complete_records(index_size: int) -> int:
    """Number of complete records in an index file of ``index_size`` bytes."""
    return index_size // RECORD_SIZE


def encode(fields: array) -> bytes:
    """Bytes of the records whose fields are ``fields`` (an ``array("Q")``, 4 per record)."""
    if _SWAP:
        fields = array("Q", fields)
        fields.byteswap()
    return fields.tobytes()


def decode(raw: bytes | memoryview) -> array:
    """Fields of the complete records in ``raw`` as a flat ``array("Q")`` (4 per record)."""
    usable = len(raw) - len(raw) % RECORD_SIZE
    fields = array("Q")
    fields.frombytes(raw[:usable] if usable != len(raw) else raw)
    if _SWAP:
        fields.byteswap()
    return fields


def decode_one(raw: bytes) -> tuple[int, int, int, int]:
    """``(metadata_offset, metadata_size, data_offset, data_size)`` of one 32-byte record."""
    return _RECORD.unpack(raw)
