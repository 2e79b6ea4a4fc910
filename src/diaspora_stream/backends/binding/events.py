"""Our events over the foreign ones, adapted when first read.

A pulled event's ``metadata``, ``data`` and ``partition`` are read from the foreign event (and
turned into ours) the first time they are asked for, then kept: a consumer that never reads a
field does not pay for it, and one that reads it pays the same foreign read as a caller of the
binding itself would. ``event_id`` is read at once (the end-of-stream sentinel is recognised by
it). Each field can be assigned, as on any :class:`~diaspora_stream.event.Event`. Two threads
reading a field of one event for the first time at once may each read the foreign one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...event import Event

__all__ = ["ForeignEvent"]

#: ``acknowledge(foreign_event)``, or ``None`` when acknowledgements are refused.
Acknowledge = Callable[[Any], None]


def _lazy(name: str, read: Callable[[ForeignEvent], Any]) -> Any:
    """A property over the base class's slot ``name``, filled by ``read`` on first access."""
    slot = Event.__dict__[name]

    def get(self: ForeignEvent) -> Any:
        try:
            return slot.__get__(self, Event)
        except AttributeError:
            value = read(self)
            slot.__set__(self, value)
            return value

    def set_(self: ForeignEvent, value: Any) -> None:
        slot.__set__(self, value)

    return property(get, set_, doc=f"The event's ``{name}`` (read when first asked for).")


def _or_empty(data: Any) -> Any:
    return data if data is not None else []


class ForeignEvent(Event):
    """An :class:`~diaspora_stream.event.Event` pulled through the bridge."""

    __slots__ = ("_acknowledge_foreign", "_data_of", "_foreign")

    def __init__(
        self,
        foreign: Any,
        event_id: int,
        partition_index: int,
        data_of: Callable[[Any], Any],
        acknowledge: Acknowledge,
    ) -> None:
        # Event.__init__ is not called: it would read every field now.
        self._foreign = foreign
        self.event_id = event_id
        self._partition_index = partition_index
        self._data_of = data_of
        self._acknowledge_foreign = acknowledge
        self._acknowledger = None

    metadata = _lazy("metadata", lambda self: self._foreign.metadata)
    data = _lazy("data", lambda self: _or_empty(self._data_of(self._foreign)))
    partition = _lazy("partition", lambda self: dict(self._foreign.partition))

    def acknowledge(self) -> None:
        """Acknowledge through the foreign event (its own ``acknowledge()``)."""
        if self.event_id is not None:
            self._acknowledge_foreign(self._foreign)
