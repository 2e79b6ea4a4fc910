"""Components written in Python (D5) that the suite configures on topics to see them work."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.api import (
    InvalidMetadata,
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
    register_partition_selector,
    register_serializer,
    register_validator,
)

__all__ = [
    "EnvelopeSerializer",
    "KeyPartitionSelector",
    "RequiredKeyValidator",
    "SlowValidator",
]


class RequiredKeyValidator(ValidatorInterface):
    """Rejects metadata that is not an object holding the configured ``key``."""

    type_name: ClassVar[str] = "diaspora-conformance-required-key"

    def __init__(self, key: str) -> None:
        """Require ``key`` in every event's metadata."""
        self.key = key

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> RequiredKeyValidator:
        """Create from ``{"type": ..., "key": "name"}``."""
        return cls(str(metadata.get("key", "ok")))

    def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
        """Raise :class:`InvalidMetadata` naming the missing key."""
        if not isinstance(metadata, dict) or self.key not in metadata:
            raise InvalidMetadata(f"metadata has no required key {self.key!r}")

    def metadata(self) -> dict[str, Any]:
        """The configuration, with its type."""
        return {"type": self.type_name, "key": self.key}


class EnvelopeSerializer(SerializerInterface):
    """Stores ``b"ENV1" + JSON``; objects read back carry ``"serializer_tag": tag``, so a test can
    see that this serializer, with its configuration, is the one in use."""

    type_name: ClassVar[str] = "diaspora-conformance-envelope"

    def __init__(self, tag: str) -> None:
        """Tag every object read back with ``tag``."""
        self.tag = tag

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> EnvelopeSerializer:
        """Create from ``{"type": ..., "tag": "text"}``."""
        return cls(str(metadata.get("tag", "")))

    def serialize(self, metadata: Any) -> bytes:
        """Encode ``metadata`` behind a magic prefix."""
        return b"ENV1" + json.dumps(metadata, sort_keys=True).encode()

    def deserialize(self, blob: bytes | memoryview) -> Any:
        """Decode a blob written by :meth:`serialize`, tagging objects."""
        raw = bytes(blob)
        if not raw.startswith(b"ENV1"):
            raise DiasporaException(f"not an envelope blob: {raw[:16]!r}")
        value = json.loads(raw[4:])
        if isinstance(value, dict):
            value["serializer_tag"] = self.tag
        return value

    def metadata(self) -> dict[str, Any]:
        """The configuration, with its type."""
        return {"type": self.type_name, "tag": self.tag}


class KeyPartitionSelector(PartitionSelectorInterface):
    """Sends an event to partition ``metadata[key] % n``; without the key, to the requested
    partition modulo n, else to partition 0."""

    type_name: ClassVar[str] = "diaspora-conformance-by-key"

    def __init__(self, key: str) -> None:
        """Route by ``metadata[key]``."""
        self.key = key
        self.count = 0

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> KeyPartitionSelector:
        """Create from ``{"type": ..., "key": "name"}``."""
        return cls(str(metadata.get("key", "p")))

    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        """Remember how many partitions there are."""
        self.count = len(partitions)

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        """The partition for one event."""
        if isinstance(metadata, dict) and self.key in metadata:
            return int(metadata[self.key]) % self.count
        return 0 if requested is None else requested % self.count

    def metadata(self) -> dict[str, Any]:
        """The configuration, with its type."""
        return {"type": self.type_name, "key": self.key}


class SlowValidator(ValidatorInterface):
    """Accepts everything, taking ``metadata["sleep_ms"]`` milliseconds to validate an event:
    the suite uses it to make the preparation of some events slower than others' (to force
    threads to interleave) and to keep a flush busy for a known time."""

    type_name: ClassVar[str] = "diaspora-conformance-slow"

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> SlowValidator:
        """Create from ``{"type": ...}``."""
        return cls()

    def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
        """Sleep for the event's ``sleep_ms``, then accept it."""
        if isinstance(metadata, dict) and metadata.get("sleep_ms"):
            time.sleep(float(metadata["sleep_ms"]) / 1000)

    def metadata(self) -> dict[str, Any]:
        """The configuration, with its type."""
        return {"type": self.type_name}


register_validator(SlowValidator.type_name, SlowValidator)
register_validator(RequiredKeyValidator.type_name, RequiredKeyValidator)
register_serializer(EnvelopeSerializer.type_name, EnvelopeSerializer)
register_partition_selector(KeyPartitionSelector.type_name, KeyPartitionSelector)
