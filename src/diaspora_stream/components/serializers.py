"""Built-in serializers: ``default`` and ``schema`` (reference-api.md §4.4, §4.5).

Both store metadata the same way, byte-compatible with the C++ reference: the length of the
compact JSON text as an 8-byte little-endian unsigned integer, then the text itself (sorted
keys, no spaces, UTF-8; see :func:`diaspora_stream.json_codec.dumps_compact`). NaN and
infinities are refused (:func:`diaspora_stream.json_codec.dumps_metadata`).
"""

from __future__ import annotations

import copy
import struct
from collections.abc import Callable, Sequence
from itertools import accumulate, repeat
from operator import add, attrgetter, itemgetter, sub
from typing import Any, ClassVar

import orjson

from ..exceptions import Exception as DiasporaError
from ..json_codec import dumps_metadata
from .interfaces import SerializerInterface
from .validators import _compile_schema, _schema_from_config

__all__ = ["DefaultSerializer", "SchemaSerializer", "prefixed_json_loads"]

_LENGTH = struct.Struct("<Q")
_pack_length = _LENGTH.pack
#: The 8-byte little-endian length prefix of a serialized blob.
pack_length = _pack_length
_unpack_length = _LENGTH.unpack_from
_text_of = itemgetter(slice(8, None))
_itemsize_of = attrgetter("itemsize")
_ERROR = "Could not deserialize Serializer metadata: "


def _byte_sized(blobs: Sequence[bytes | memoryview]) -> bool:
    """Whether ``len`` of each blob is its size in bytes (views of wider items are cast by
    ``deserialize`` one at a time)."""
    kinds = set(map(type, blobs))
    if kinds <= {bytes, bytearray}:
        return True
    return kinds == {memoryview} and set(map(_itemsize_of, blobs)) == {1}


class _LengthPrefixedJsonSerializer(SerializerInterface):
    """Shared wire format: ``<Q`` length + compact JSON."""

    def serialize(self, metadata: Any) -> bytes:
        """Return the 8-byte little-endian length of the compact JSON of ``metadata``, then it."""
        text = dumps_metadata(metadata)
        return _pack_length(len(text)) + text

    def deserialize(self, blob: bytes | bytearray | memoryview) -> Any:
        """Parse a blob made by :meth:`serialize`.

        Raises :class:`~diaspora_stream.exceptions.Exception` (``"Could not deserialize
        Serializer metadata: ..."``) if the blob is shorter than its length prefix, has bytes
        after the announced JSON text, or the text is not valid JSON.
        """
        if isinstance(blob, memoryview) and blob.itemsize != 1:
            blob = blob.cast("B")
        size = len(blob)
        if size < 8:
            raise DiasporaError(
                f"{_ERROR}blob of {size} bytes is too short for the 8-byte length prefix"
            )
        (length,) = _unpack_length(blob)
        if length != size - 8:
            raise DiasporaError(
                f"{_ERROR}the length prefix announces {length} bytes of JSON but the blob "
                f"holds {size - 8} bytes after the prefix"
            )
        try:
            return orjson.loads(blob[8:])
        except orjson.JSONDecodeError as error:
            raise DiasporaError(f"{_ERROR}{error}") from None

    def deserialize_many(self, blobs: Sequence[bytes | memoryview]) -> list[Any]:
        """:meth:`deserialize` of each of ``blobs`` (byte buffers), with a few C-level loops;
        raises what :meth:`deserialize` raises for the first blob it refuses."""
        if _byte_sized(blobs):
            try:
                sizes = list(map(len, blobs))
                announced = list(map(_unpack_length, blobs))
                if announced == list(zip(map(sub, sizes, repeat(8)))):
                    return list(map(orjson.loads, map(_text_of, blobs)))
            except (struct.error, orjson.JSONDecodeError):
                pass
        return [self.deserialize(blob) for blob in blobs]  # names the first refusal

    def deserialize_packed(self, buffer: bytes, sizes: Sequence[int]) -> list[Any]:
        """:meth:`deserialize` of each blob of ``buffer``, where the blobs lie back to back,
        ``sizes[i]`` bytes for blob *i*; raises what :meth:`deserialize` raises for the first
        blob it refuses."""
        if not sizes:
            return []
        ends = list(accumulate(sizes))
        starts = [0, *ends[:-1]]
        texts = list(map(buffer.__getitem__, map(slice, map(add, starts, repeat(8)), ends)))
        # Every blob is its text's length prefix then the text: the buffer says so as a whole.
        rebuilt: list[bytes] = [b""] * (2 * len(texts))
        rebuilt[0::2] = map(_pack_length, map(len, texts))
        rebuilt[1::2] = texts
        if ends[-1] == len(buffer) and b"".join(rebuilt) == buffer:
            try:
                return list(map(orjson.loads, texts))
            except orjson.JSONDecodeError:
                pass
        blobs = map(buffer.__getitem__, map(slice, starts, ends))
        return [self.deserialize(blob) for blob in blobs]  # names the first refusal


def prefixed_json_loads(serializer: Any) -> Callable[[bytes], Any] | None:
    """The function that parses the JSON text of ``serializer``'s blobs when its
    ``deserialize`` is the built-in one (``None`` otherwise): for a blob whose 8-byte length
    prefix matches the rest, ``deserialize(blob)`` is that function applied to the rest, which
    raises :class:`ValueError` if it is not JSON. A backend decoding many records can parse
    the text in place, and call ``deserialize`` only for a blob that does not parse (to raise
    its error)."""
    if type(serializer).deserialize is _LengthPrefixedJsonSerializer.deserialize:
        return orjson.loads
    return None


class DefaultSerializer(_LengthPrefixedJsonSerializer):
    """Serializer storing metadata as ``<Q length> + compact JSON``; type ``"default"``."""

    type_name: ClassVar[str] = "default"

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> DefaultSerializer:
        """Create the serializer; its configuration is ignored."""
        return cls()


class SchemaSerializer(_LengthPrefixedJsonSerializer):
    """Serializer of type ``"schema"``, configured with a JSON schema.

    As in the reference, the schema is only checked at creation; the wire format is the
    default serializer's and metadata is not validated against the schema.
    """

    type_name: ClassVar[str] = "schema"

    def __init__(self, schema: Any) -> None:
        """Check ``schema``; raise :class:`ValueError` if it is not a valid JSON schema."""
        self._schema = copy.deepcopy(schema)
        _compile_schema(self._schema, "SchemaSerializer")

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> SchemaSerializer:
        """Create the serializer from ``{"type": "schema", "schema": ...}``.

        Raises :class:`~diaspora_stream.exceptions.Exception` if the configuration is not an
        object or has no ``"schema"``, :class:`ValueError` if the schema is invalid.
        """
        return cls(_schema_from_config(metadata, "SchemaSerializer"))

    def metadata(self) -> dict[str, Any]:
        """Return ``{"type": "schema", "schema": <schema>}``."""
        return {"type": "schema", "schema": copy.deepcopy(self._schema)}
