"""Data selector / allocator plugins used by the forward tests (``ctl_plugins:first_half``)."""

from __future__ import annotations

from typing import Any


def first_half(metadata: Any, descriptor: Any) -> Any:
    """Select the first half of each event's data."""
    return descriptor.make_sub_view(offset=0, size=descriptor.size // 2)


def bytearray_allocator(metadata: Any, descriptor: Any) -> list[bytearray]:
    """Allocate one bytearray for the selection."""
    return [bytearray(descriptor.size)]


not_callable = 42
