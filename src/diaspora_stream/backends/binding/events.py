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
from .calls import ErrorMap

__all__ = ["ForeignEvent", "ForeignFields"]

#: What a field holds until it is read.
_UNREAD: Any = object()


class ForeignFields:
    """How the events of one consumer read their foreign event: the foreign module's
    exceptions become ours, as in every other call of the bridge.

    ``data_of(foreign)`` gives our ``data`` for a foreign event; ``acknowledge(foreign)``
    acknowledges it (or refuses to).
    """

    __slots__ = ("_data_of", "_errors", "acknowledge")

    def __init__(
        self,
        errors: ErrorMap,
        data_of: Callable[[Any], Any],
        acknowledge: Callable[[Any], None],
    ) -> None:
        self._errors = errors
        self._data_of = data_of
        self.acknowledge = acknowledge

    def metadata(self, foreign: Any) -> Any:
        """The foreign event's metadata."""
        try:
            return foreign.metadata
        except self._errors.foreign as error:
            raise self._errors.translate(error) from error

    def data(self, foreign: Any) -> Any:
        """Our ``data`` for the foreign event (``[]`` when it has none)."""
        try:
            data = self._data_of(foreign)
        except self._errors.foreign as error:
            raise self._errors.translate(error) from error
        return data if data is not None else []

    def partition(self, foreign: Any) -> dict[str, Any]:
        """The foreign event's partition description, as a dict of ours."""
        try:
            return dict(foreign.partition)
        except self._errors.foreign as error:
            raise self._errors.translate(error) from error


class ForeignEvent(Event):
    """An :class:`~diaspora_stream.event.Event` pulled through the bridge."""

    __slots__ = (
        "_fields",
        "_foreign",
        "_foreign_data",
        "_foreign_metadata",
        "_foreign_partition",
    )

    def __init__(
        self, foreign: Any, event_id: int, partition_index: int, fields: ForeignFields
    ) -> None:
        # Event.__init__ is not called: it would read every field now.
        self._foreign = foreign
        self.event_id = event_id
        self._partition_index = partition_index
        self._fields = fields
        self._acknowledger = None
        self._foreign_metadata = self._foreign_data = self._foreign_partition = _UNREAD

    @property
    def metadata(self) -> Any:
        """The event's metadata (read from the foreign event when first asked for)."""
        value = self._foreign_metadata
        if value is _UNREAD:
            value = self._foreign_metadata = self._fields.metadata(self._foreign)
        return value

    @metadata.setter
    def metadata(self, value: Any) -> None:
        self._foreign_metadata = value

    @property
    def data(self) -> Any:
        """The event's data buffers (read from the foreign event when first asked for)."""
        value = self._foreign_data
        if value is _UNREAD:
            value = self._foreign_data = self._fields.data(self._foreign)
        return value

    @data.setter
    def data(self, value: Any) -> None:
        self._foreign_data = value

    @property
    def partition(self) -> Any:
        """The JSON object describing the event's partition (read when first asked for)."""
        value = self._foreign_partition
        if value is _UNREAD:
            value = self._foreign_partition = self._fields.partition(self._foreign)
        return value

    @partition.setter
    def partition(self, value: Any) -> None:
        self._foreign_partition = value

    def acknowledge(self) -> None:
        """Acknowledge through the foreign event (its own ``acknowledge()``)."""
        if self.event_id is not None:
            self._fields.acknowledge(self._foreign)
