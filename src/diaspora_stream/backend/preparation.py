"""What every producer does to an event before storing it: validate, choose, serialize.

Full-level backends (Kafka, a researcher's own transport) and the generic producer of log-level
backends share this step, so a validator, partition selector or serializer behaves, and fails,
the same way on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from operator import add, itemgetter
from typing import TYPE_CHECKING, Any

from ..batches import BatchEvents
from ..components.partition_selectors import DefaultPartitionSelector
from ..components.serializers import DefaultSerializer, pack_length
from ..exceptions import Exception as DiasporaException
from ..json_codec import dumps_metadata, dumps_metadata_many

if TYPE_CHECKING:
    from .full import TopicHandleInterface

__all__ = ["EventPreparer", "component_error", "frame_texts"]

_BUILTIN_SERIALIZE = DefaultSerializer.serialize
_BUILTIN_SELECT_MANY = DefaultPartitionSelector.select_partitions_for_many
_metadata_of = itemgetter(0)


def component_error(component: str, error: BaseException) -> DiasporaException:
    """``error`` as a :class:`~diaspora_stream.exceptions.Exception` naming ``component``.

    Diaspora exceptions pass through unchanged; anything else is wrapped, keeping the original
    as ``__cause__``.
    """
    if isinstance(error, DiasporaException):
        return error
    wrapped = DiasporaException(f"{component} failed: {type(error).__name__}: {error}")
    wrapped.__cause__ = error
    return wrapped


def frame_texts(texts: Sequence[bytes]) -> tuple[bytes, list[int]]:
    """The serialized metadata of JSON ``texts`` (each with the built-in serializer's length
    prefix), back to back in one buffer, and the size of each."""
    lengths = list(map(len, texts))
    pieces: list[bytes] = [b""] * (2 * len(texts))
    pieces[0::2] = map(pack_length, lengths)
    pieces[1::2] = texts
    return b"".join(pieces), list(map(add, lengths, repeat(8)))


class EventPreparer:
    """Runs a topic's validator, partition selector and serializer on one event.

    ``prepare`` returns ``(partition index, serialized metadata)`` or raises a
    :class:`~diaspora_stream.exceptions.Exception` that names the component that failed.
    """

    __slots__ = (
        "_builtin",
        "_num_partitions",
        "_select",
        "_select_many",
        "_serialize",
        "_topic_name",
        "_validate",
        "prepare",
    )

    def __init__(self, topic: TopicHandleInterface, num_partitions: int) -> None:
        validator = topic.validator
        selector = topic.partition_selector
        serializer = topic.serializer
        self._validate = None if validator.accepts_everything else validator.validate
        self._select = selector.select_partition_for
        self._serialize = serializer.serialize
        self._num_partitions = num_partitions
        self._topic_name = topic.name
        # The built-in selector and serializer always return a valid index and bytes, so
        # their results need no check, and the serializer's body can run in place.
        builtin = (
            type(selector).select_partition_for is DefaultPartitionSelector.select_partition_for
            and type(serializer).serialize is _BUILTIN_SERIALIZE
        )
        self._builtin = builtin
        # Nothing of the user's runs in the preparation: a batch can be prepared in bulk.
        self._select_many: Callable[[int, int | None], list[int]] | None = None
        if (
            builtin
            and self._validate is None
            and isinstance(selector, DefaultPartitionSelector)
            and type(selector).select_partitions_for_many is _BUILTIN_SELECT_MANY
        ):
            self._select_many = selector.select_partitions_for_many
        self.prepare: Callable[[Any, tuple[memoryview, ...], int | None], tuple[int, bytes]] = (
            self._prepare_builtin if builtin else self._prepare_checked
        )

    def prepare_many(
        self, events: Sequence[tuple[Any, tuple[memoryview, ...], int]], partition: int | None
    ) -> tuple[list[tuple[int, bytes]], DiasporaException | None]:
        """:meth:`prepare` each ``(metadata, data, data size)`` in order, until one fails.

        Returns the ``(partition index, serialized metadata)`` of the events prepared, and the
        error of the event after them (``None`` when all were prepared): the same results, and
        the same component calls in the same order, as calling :meth:`prepare` on each.
        """
        prepared: list[tuple[int, bytes]] = []
        append = prepared.append
        if not self._builtin:
            prepare = self.prepare
            try:
                for metadata, data, _ in events:
                    append(prepare(metadata, data, partition))
            except DiasporaException as error:
                return prepared, error
            return prepared, None
        validate, select = self._validate, self._select
        step = "Validator"
        try:
            for metadata, data, _ in events:
                step = "Validator"
                if validate is not None:
                    validate(metadata, data)
                step = "Partition selector"
                index = select(metadata, partition)
                step = "Serializer"
                text = dumps_metadata(metadata)
                append((index, pack_length(len(text)) + text))
        except Exception as error:  # noqa: BLE001 - wrapped with the component's name
            return prepared, component_error(step, error)
        return prepared, None

    def prepare_columns(
        self, events: Sequence[tuple[Any, tuple[memoryview, ...], int]], partition: int | None
    ) -> tuple[list[int], bytes, list[int], DiasporaException | None]:
        """:meth:`prepare_many` as columns: the partition index of each event prepared, their
        serialized metadata back to back in one buffer and the size of each; and the error of
        the event after them.

        With the built-in components and no validator, the whole batch is serialized with a
        few C calls and its partitions chosen at once; any refusal there sends the batch
        through :meth:`prepare_many` (the built-in components change nothing when they refuse),
        which names the event and the component that refused it.
        """
        if self._select_many is not None:
            if isinstance(events, BatchEvents):
                metadata = events.metadata
            else:
                metadata = list(map(_metadata_of, events))
            bulk = self.prepare_texts(metadata, partition)
            if bulk is not None:
                indices, texts = bulk
                return indices, *frame_texts(texts), None
        prepared, error = self.prepare_many(events, partition)
        blobs = [blob for _, blob in prepared]
        return [index for index, _ in prepared], b"".join(blobs), list(map(len, blobs)), error

    @property
    def prepares_in_bulk(self) -> bool:
        """Whether :meth:`prepare_texts` can prepare events (built-in components, no
        validator: nothing of the user's runs in the preparation)."""
        return self._select_many is not None

    def prepare_texts(
        self, metadata: list[Any], partition: int | None
    ) -> tuple[list[int], list[bytes]] | None:
        """The partition index and JSON text of each metadata, in a few C-level calls, or
        ``None`` when some event is refused or bulk preparation is not possible (see
        :attr:`prepares_in_bulk`): the per-event path then names the event that was refused.
        The built-in components change nothing when they refuse, so a ``None`` leaves the
        round robin where it was.
        """
        if self._select_many is None:
            return None
        try:
            texts = dumps_metadata_many(metadata)
            return self._select_many(len(texts), partition), texts
        except Exception:  # noqa: BLE001 - reported by the per-event path
            return None

    def _prepare_checked(
        self, metadata: Any, data: tuple[memoryview, ...], partition: int | None
    ) -> tuple[int, bytes]:
        """Validate ``metadata``/``data``, choose the partition, serialize the metadata."""
        step = "Validator"
        try:
            if self._validate is not None:
                self._validate(metadata, data)
            step = "Partition selector"
            index = self._select(metadata, partition)
            step = "Serializer"
            blob = self._serialize(metadata)
        except Exception as error:  # noqa: BLE001 - wrapped with the component's name
            raise component_error(step, error) from None
        if type(index) is not int or not 0 <= index < self._num_partitions:
            raise DiasporaException(
                f"Invalid partition index {index!r} returned by the partition selector: topic "
                f"{self._topic_name!r} has {self._num_partitions} partition(s)"
            )
        if type(blob) is not bytes:
            blob = bytes(blob)
        return index, blob

    def _prepare_builtin(
        self, metadata: Any, data: tuple[memoryview, ...], partition: int | None
    ) -> tuple[int, bytes]:
        """:meth:`_prepare_checked` for the built-in selector and serializer."""
        step = "Validator"
        try:
            if self._validate is not None:
                self._validate(metadata, data)
            step = "Partition selector"
            index = self._select(metadata, partition)
            step = "Serializer"
            text = dumps_metadata(metadata)
        except Exception as error:  # noqa: BLE001 - wrapped with the component's name
            raise component_error(step, error) from None
        return index, pack_length(len(text)) + text
