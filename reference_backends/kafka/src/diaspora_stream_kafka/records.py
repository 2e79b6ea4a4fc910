"""The Kafka record of an event, as Octopus writes it.

One event is one record; only its value is used (no key, no headers)::

    <u64 LE metadata size m> <u64 LE data size d> <m bytes: serialized metadata> <d bytes: data>

With the default serializer the metadata part is itself ``<u64 LE length> <compact JSON>``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from itertools import repeat
from operator import add

from diaspora_stream.exceptions import Exception as DiasporaException

__all__ = [
    "HEADER_SIZE",
    "END_OF_STREAM",
    "JSON_HEAD",
    "CorruptRecord",
    "decode",
    "encode",
    "encode_text",
    "encode_texts",
]

_HEADER = struct.Struct("<QQ")
HEADER_SIZE = _HEADER.size
_pack = _HEADER.pack
_unpack = _HEADER.unpack_from
#: The header followed by the length prefix of the metadata of the built-in serializers
#: (:func:`diaspora_stream.components.serializers.prefixed_json_loads`): ``(metadata size,
#: data size, JSON text size)``, the text starting at ``JSON_HEAD.size``.
JSON_HEAD = struct.Struct("<QQQ")
#: ``(metadata size, data size)`` of Octopus's end-of-stream marker record.
END_OF_STREAM = (2**64 - 1, 2**64 - 1)
_pack_head = JSON_HEAD.pack


class CorruptRecord(DiasporaException):
    """A record of a topic is not in the event layout (written by another tool?)."""


def encode(metadata: bytes, data: tuple[memoryview, ...], data_size: int) -> bytes:
    """The record value of an event (one copy of the data)."""
    if not data:
        return _pack(len(metadata), 0) + metadata
    return b"".join((_pack(len(metadata), data_size), metadata, *data))


def encode_text(text: bytes, data: tuple[memoryview, ...], data_size: int) -> bytes:
    """The record value of an event whose metadata the built-in serializer wrote as the JSON
    ``text``: :func:`encode` of the length-prefixed text, without building it apart."""
    size = len(text)
    if not data:
        return _pack_head(size + 8, 0, size) + text
    return b"".join((_pack_head(size + 8, data_size, size), text, *data))


def encode_texts(
    texts: Sequence[bytes],
    data: Sequence[tuple[memoryview, ...]] | None = None,
    data_sizes: Sequence[int] | None = None,
) -> list[bytes]:
    """:func:`encode_text` of each JSON text with its data (``None``: no event has data), in
    a few C-level calls."""
    sizes = list(map(len, texts))
    prefixed = map(add, sizes, repeat(8))
    if data is None or data_sizes is None:
        return list(map(add, map(_pack_head, prefixed, repeat(0), sizes), texts))
    heads = map(_pack_head, prefixed, data_sizes, sizes)
    return list(map(b"".join, map(add, zip(heads, texts, strict=True), data)))


def decode(value: bytes) -> tuple[int, int]:
    """``(data offset, data size)`` of a record value (the metadata lies between the header
    and the data offset); ``data size`` is -1 for Octopus's end-of-stream marker. Raises
    :class:`CorruptRecord` saying what is wrong with it (the caller names the record)."""
    size = len(value)
    if size < HEADER_SIZE:
        raise CorruptRecord(
            f"its value has {size} bytes, fewer than the "
            f"{HEADER_SIZE}-byte header (metadata size, data size)"
        )
    metadata_size, data_size = _unpack(value)
    if HEADER_SIZE + metadata_size + data_size == size:
        return HEADER_SIZE + metadata_size, data_size
    if (metadata_size, data_size) == END_OF_STREAM:
        return HEADER_SIZE, -1
    raise CorruptRecord(
        f"its header announces {metadata_size} bytes of "
        f"metadata and {data_size} bytes of data, but the value holds {size - HEADER_SIZE} "
        "bytes after the header"
    )
