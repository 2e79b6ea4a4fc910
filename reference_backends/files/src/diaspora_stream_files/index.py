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
from collections.abc import Sequence
from itertools import accumulate
from operator import add

__all__ = [
    "RECORD_SIZE",
    "FIELDS",
    "complete_records",
    "encode",
    "fields_of",
    "decode",
    "decode_one",
    "first_discontinuity",
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


def fields_of(
    metadata_offset: int,
    metadata_sizes: Sequence[int],
    data_offset: int,
    data_sizes: Sequence[int],
) -> array:
    """Fields of the records of metadata and data written back to back from those offsets."""
    count = len(metadata_sizes)
    fields = array("Q", bytes(RECORD_SIZE * count))
    fields[0::FIELDS] = array("Q", accumulate(metadata_sizes, initial=metadata_offset))[:count]
    fields[1::FIELDS] = array("Q", metadata_sizes)
    fields[2::FIELDS] = array("Q", accumulate(data_sizes, initial=data_offset))[:count]
    fields[3::FIELDS] = array("Q", data_sizes)
    return fields


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


def first_discontinuity(fields: array, first_id: int) -> tuple[int, str] | None:
    """``(event id, detail)`` of the first record of ``fields`` (records from ``first_id``)
    that does not start where the previous one ends, or ``None`` if all are contiguous.

    Writers append metadata and data back to back from offset 0 (reference-api.md §5.3), so
    every record starts where the previous one ends; a damaged record breaks this chain.
    """
    for field, what in ((0, "metadata"), (2, "data")):
        offsets = fields[field::FIELDS]
        sizes = fields[field + 1 :: FIELDS]
        if not offsets:
            continue
        if first_id == 0 and offsets[0] != 0:
            return 0, f"event 0 has its {what} at offset {offsets[0]} instead of 0"
        if _chained(offsets[0], sizes) == offsets:
            continue
        ends = list(map(add, offsets[:-1], sizes[:-1]))
        following = offsets[1:].tolist()
        if ends != following:
            pairs = enumerate(zip(ends, following, strict=True))
            position = next(i for i, (end, offset) in pairs if end != offset)
            event = first_id + position + 1
            return event, (
                f"event {event} has its {what} at offset {following[position]} but event "
                f"{event - 1} ends at {ends[position]}"
            )
    return None


def _chained(start: int, sizes: array) -> array | None:
    """The offsets of records of ``sizes`` written back to back from ``start`` (``None``: past
    the 64-bit range, which no valid index reaches)."""
    try:
        chained = array("Q", accumulate(sizes, initial=start))
    except OverflowError:
        return None
    chained.pop()
    return chained
