"""Data selectors and allocators handed to the foreign consumer, and the descriptors they pass.

The foreign consumer calls ``selector(metadata, its_descriptor)`` then
``allocator(metadata, its_selected_descriptor)``. The user's functions receive our
:class:`~diaspora_stream.data_descriptor.DataDescriptor`; the selection they return is given to
the foreign side as one unstructured view of the base data (its ``flatten()`` pieces), which
every implementation interprets the same way whatever its rules for stacked views.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from operator import attrgetter
from types import ModuleType
from typing import Any

from ...backend.full import DataAllocator, DataSelector
from ...data_descriptor import DataDescriptor
from ...event import FULL_DATA_ALLOCATOR
from ...exceptions import InvalidArgument

__all__ = ["ConsumerFunctions"]


def _ours(foreign: Any) -> DataDescriptor:
    return DataDescriptor(str(foreign.location), int(foreign.size))


def _own_buffer(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
    return [bytearray(descriptor.size)]


class ConsumerFunctions:
    """The ``data_selector``/``data_allocator`` pair for the foreign ``consumer`` call.

    ``keywords`` is empty when the binding's own "whole data" overload serves (no selector, the
    consumer allocates). ``data(event)`` is ``event.data`` in our conventions (a function chosen
    once for the consumer).
    """

    def __init__(
        self,
        module: ModuleType,
        selector: DataSelector | None,
        allocator: DataAllocator | None,
    ) -> None:
        self._module = module
        self._selector = selector
        self._allocator = allocator
        self._chosen = threading.local()
        self.reads_data = allocator is not None
        self.owns_buffers = allocator is FULL_DATA_ALLOCATOR and selector is not None
        self.keywords: dict[str, Any] = {}
        self.data = self._pick_data()
        if allocator is FULL_DATA_ALLOCATOR and selector is None:
            return
        # A None allocator is passed as None: no data is read, and event.data is never touched
        # (the binding dereferences null there).
        self.keywords = {
            "data_selector": self._select,
            "data_allocator": None if allocator is None else self._allocate,
        }

    def _select(self, metadata: Any, foreign: Any) -> Any:
        base = _ours(foreign)
        chosen = base if self._selector is None else self._selector(metadata, base)
        self._chosen.value = chosen
        if chosen is base:
            return foreign
        if chosen is None:
            return None
        if not isinstance(chosen, DataDescriptor):
            raise InvalidArgument(
                f"A data selector must return a DataDescriptor or None, got {chosen!r}"
            )
        pieces = chosen.flatten()
        if not pieces:
            return None
        whole = self._module.DataDescriptor(chosen.location, chosen.base_size)
        if pieces == [(0, chosen.base_size)]:
            return whole
        return whole.make_unstructured_view(segments=pieces)

    def _allocate(self, metadata: Any, foreign: Any) -> Any:
        chosen = getattr(self._chosen, "value", None)
        self._chosen.value = None
        descriptor = chosen if isinstance(chosen, DataDescriptor) else _ours(foreign)
        allocator = _own_buffer if self.owns_buffers else self._allocator
        assert allocator is not None
        return allocator(metadata, descriptor)

    def _no_data(self, foreign_event: Any) -> Any:
        return []

    def _owned_data(self, foreign_event: Any) -> Any:
        return [memoryview(buffer) for buffer in foreign_event.data]

    def _pick_data(self) -> Callable[[Any], Any]:
        """``data(event)``: our ``event.data`` for a foreign event (chosen once per consumer)."""
        if not self.reads_data:
            return self._no_data
        if self.owns_buffers:
            return self._owned_data
        return attrgetter("data")
