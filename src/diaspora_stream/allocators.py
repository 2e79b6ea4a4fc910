"""Ready-made data selector and allocator (``FullDataSelector``, ``ByteArrayAllocator``)."""

from __future__ import annotations

from typing import Any

from .data_descriptor import DataDescriptor

__all__ = ["FullDataSelector", "ByteArrayAllocator"]


def FullDataSelector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
    """Data selector that selects the whole data of every event."""
    return descriptor


def ByteArrayAllocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
    """Data allocator that returns one ``bytearray`` of the selection's size."""
    return [bytearray(descriptor.size)]
