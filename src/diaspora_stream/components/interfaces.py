"""Interfaces of the three per-topic components, implementable in Python (design.md D5).

A component is created from its *metadata*, a JSON object whose ``"type"`` names the factory
(``{"type": "schema", "schema": {...}}``). ``metadata()`` must return an object that re-creates
an equivalent component through the same factory, and must always carry ``"type"``: backends
persist it and re-create the component when the topic is opened again.

Register a component under a name with :func:`diaspora_stream.registry.register_validator`
(and its siblings), by an entry point in the groups ``diaspora_stream.validators``,
``diaspora_stream.serializers``, ``diaspora_stream.partition_selectors``, or refer to it as
``"name:python.module"`` (the module is imported, and must register ``name`` when imported).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "ValidatorInterface",
    "SerializerInterface",
    "PartitionSelectorInterface",
    "DataSegments",
]

#: The data part of an event as components see it: a sequence of read-only byte memoryviews.
DataSegments = Sequence[memoryview]


class _Component(ABC):  # noqa: B024 - shared base of the three abstract interfaces
    #: The registered name of this component type; written as ``"type"`` in ``metadata()``.
    type_name: ClassVar[str] = ""

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> _Component:
        """Create the component from its metadata (the whole object, including ``"type"``)."""
        return cls()

    def metadata(self) -> dict[str, Any]:
        """Return the JSON object that re-creates this component (always with ``"type"``)."""
        return {"type": self.type_name}


class ValidatorInterface(_Component):
    """Checks an event before it is stored; raises ``InvalidMetadata`` to reject it."""

    #: True for validators that accept everything; lets producers skip the call entirely.
    accepts_everything: ClassVar[bool] = False

    @abstractmethod
    def validate(self, metadata: Any, data: DataSegments) -> None:
        """Raise :class:`diaspora_stream.exceptions.InvalidMetadata` if the event is invalid."""


class SerializerInterface(_Component):
    """Converts metadata (a JSON value) to bytes and back."""

    @abstractmethod
    def serialize(self, metadata: Any) -> bytes:
        """Return the bytes stored for ``metadata``."""

    @abstractmethod
    def deserialize(self, blob: bytes | memoryview) -> Any:
        """Return the metadata stored as ``blob``; raise ``Exception`` if it is not valid."""


class PartitionSelectorInterface(_Component):
    """Chooses the partition of each pushed event."""

    @abstractmethod
    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        """Called when the topic is created or opened, with one info object per partition."""

    @abstractmethod
    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        """Return the index of the partition for an event (``requested`` is ``push``'s hint)."""
