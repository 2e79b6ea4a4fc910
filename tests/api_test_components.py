"""Python components used by the tests (design D5), registered when this module is imported.

Tests refer to them by name (``"test_max_value"``) or with the ``"name:module"`` form
(``"test_max_value:api_test_components"``), which imports this module first.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

import orjson

from diaspora_stream.api import (
    InvalidMetadata,
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
    register_partition_selector,
    register_serializer,
    register_validator,
)

#: How many times each component type was created (``create`` calls), by type name.
CREATED: Counter[str] = Counter()


class MaxValueValidator(ValidatorInterface):
    """Rejects events whose ``metadata["value"]`` exceeds ``max_value`` or whose data is longer
    than ``max_bytes``. Its ``metadata()`` omits ``"type"``: the package must add it."""

    type_name: ClassVar[str] = "test_max_value"

    def __init__(self, max_value: int, max_bytes: int) -> None:
        self.max_value = max_value
        self.max_bytes = max_bytes

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> MaxValueValidator:
        CREATED[cls.type_name] += 1
        return cls(int(metadata.get("max_value", 10)), int(metadata.get("max_bytes", 1 << 20)))

    def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
        value = metadata.get("value", 0) if isinstance(metadata, dict) else 0
        if value > self.max_value:
            raise InvalidMetadata(f"value {value} exceeds max_value {self.max_value}")
        size = sum(memoryview(segment).nbytes for segment in data)
        if size > self.max_bytes:
            raise InvalidMetadata(f"data of {size} bytes exceeds max_bytes {self.max_bytes}")

    def metadata(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "max_bytes": self.max_bytes}


class TaggedSerializer(SerializerInterface):
    """Stores ``{"value": int}`` as ``b"V" + int64`` and anything else as ``b"J" + JSON``."""

    type_name: ClassVar[str] = "test_tagged"

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> TaggedSerializer:
        CREATED[cls.type_name] += 1
        return cls()

    def serialize(self, metadata: Any) -> bytes:
        if (
            isinstance(metadata, dict)
            and set(metadata) == {"value"}
            and type(metadata["value"]) is int
        ):
            return b"V" + struct.pack("<q", metadata["value"])
        return b"J" + orjson.dumps(metadata)

    def deserialize(self, blob: bytes | memoryview) -> Any:
        blob = bytes(blob)
        if blob[:1] == b"V":
            return {"value": struct.unpack("<q", blob[1:])[0]}
        if blob[:1] == b"J":
            return orjson.loads(blob[1:])
        raise ValueError(f"not a TaggedSerializer blob: {blob[:16]!r}")


class ModuloPartitionSelector(PartitionSelectorInterface):
    """Chooses partition ``metadata[key] % num_partitions`` (``key`` from its configuration)."""

    type_name: ClassVar[str] = "test_modulo"

    def __init__(self, key: str) -> None:
        self.key = key
        self.count = 0

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> ModuloPartitionSelector:
        CREATED[cls.type_name] += 1
        return cls(str(metadata.get("key", "value")))

    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        self.count = len(partitions)

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        return int(metadata[self.key]) % self.count

    def metadata(self) -> dict[str, Any]:
        return {"type": self.type_name, "key": self.key}


register_validator(MaxValueValidator.type_name, MaxValueValidator)
register_serializer(TaggedSerializer.type_name, TaggedSerializer)
register_partition_selector(ModuloPartitionSelector.type_name, ModuloPartitionSelector)
