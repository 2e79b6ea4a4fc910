"""The log-level backend interface (design.md §4): storage primitives only.

A log-level backend stores, per partition of a topic, an append-only sequence of records. Each
record is an event already validated and serialized by the API package: serialized metadata bytes
and a data part made of segments. The API package supplies everything else (producers, consumers,
batching, ordering, futures, thread pools, components) on top of these primitives, see
:mod:`diaspora_stream.backend.log_adapter`.

A backend is registered under a name in the entry point group ``diaspora_stream.drivers``; the
object registered is a :class:`LogDriver` subclass (or a full-level ``DriverInterface``
subclass). ``create(options)`` is called with the user's options dict.

Rules every implementation follows (the conformance suite checks them):

* ``append`` is all-or-nothing for readers: a reader sees either none or all of the records of
  one ``append`` call, never a partial record; ids are dense (0, 1, 2, ... per partition) and
  exact even when several producers (threads, handles or processes, as declared in
  ``Capabilities``) append at once.
* ``read`` returns only complete records, in id order.
* Bad input raises :class:`diaspora_stream.exceptions.Exception` (or a subclass) with a message
  saying what is wrong and what to do, and leaves stored data intact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, ClassVar

from .capabilities import Capabilities
from .options import TOPIC_OPTIONS, Option

__all__ = [
    "LogDriver",
    "LogTopic",
    "TopicConfig",
    "AppendRecord",
    "RecordColumns",
    "StoredRecord",
    "StoredColumns",
    "ReadSettings",
]


@dataclass(frozen=True)
class TopicConfig:
    """What ``create_topic`` stores and ``open_topic`` gives back.

    Component entries are the components' ``metadata()`` objects (each with a ``"type"``), or
    ``None`` when the topic was created without that component (the default one is then used).
    """

    num_partitions: int
    options: dict[str, Any] = field(default_factory=dict)
    validator: dict[str, Any] | None = None
    serializer: dict[str, Any] | None = None
    partition_selector: dict[str, Any] | None = None


@dataclass(slots=True)
class AppendRecord:
    """One event to append: serialized metadata and the data segments (byte memoryviews).

    ``data`` holds 1-D, C-contiguous, format ``"B"`` memoryviews (possibly empty ones);
    ``data_size`` is the sum of their lengths. Backends must not keep references to ``data``
    after ``append`` returns (the producer may release the user's buffers then).
    """

    metadata: bytes
    data: tuple[memoryview, ...]
    data_size: int


@dataclass(slots=True)
class RecordColumns:
    """Many records to append, column by column (:meth:`LogTopic.append_columns`).

    ``metadata`` holds the serialized metadata of every record back to back, record *i*
    taking ``metadata_sizes[i]`` bytes; ``data[i]`` and ``data_sizes[i]`` are record *i*'s
    data segments and their total size, as in :class:`AppendRecord`.
    """

    metadata: bytes
    metadata_sizes: Sequence[int]
    data: Sequence[tuple[memoryview, ...]]
    data_sizes: Sequence[int]

    def __len__(self) -> int:
        return len(self.metadata_sizes)

    def records(self) -> list[AppendRecord]:
        """The same records as :class:`AppendRecord` objects."""
        ends = list(accumulate(self.metadata_sizes))
        blobs = map(self.metadata.__getitem__, map(slice, [0, *ends[:-1]], ends))
        return list(map(AppendRecord, blobs, self.data, self.data_sizes))


@dataclass(slots=True)
class StoredRecord:
    """One stored event as ``read`` returns it.

    ``locator`` is backend-private (where the data lives, e.g. a file offset); the API package
    only hands it back to ``read_data``. ``data`` caches the whole data once a consumer fetched
    it with :meth:`LogTopic.read_full_data`; ``selection`` caches, for a consumer with a data
    selector or allocator, the deserialized metadata and the event's data once fetched with
    :meth:`LogTopic.read_selected_data`.
    """

    event_id: int
    metadata: bytes | memoryview
    data_size: int
    locator: Any = None
    data: memoryview | None = None
    selection: Any = None


@dataclass(slots=True)
class StoredColumns:
    """Consecutive stored records column by column, as :meth:`LogTopic.read_columns` returns
    them: ids ``first_id``, ``first_id + 1``, ...; record *i*'s serialized metadata takes
    ``metadata_sizes[i]`` bytes of ``metadata`` (all back to back); ``data_sizes`` and
    ``locators`` are those of :class:`StoredRecord`."""

    first_id: int
    metadata: bytes
    metadata_sizes: Sequence[int]
    data_sizes: Sequence[int]
    locators: Sequence[Any]

    def __len__(self) -> int:
        return len(self.metadata_sizes)

    def records(self) -> list[StoredRecord]:
        """The same records as :class:`StoredRecord` objects."""
        ends = list(accumulate(self.metadata_sizes))
        view = memoryview(self.metadata)
        blobs = map(view.__getitem__, map(slice, [0, *ends[:-1]], ends))
        ids = range(self.first_id, self.first_id + len(ends))
        return list(map(StoredRecord, ids, blobs, self.data_sizes, self.locators))


@dataclass(frozen=True, slots=True)
class ReadSettings:
    """What a consumer asked for, handed to :meth:`LogTopic.read_for_consumer`.

    ``batch_size`` is the consumer's ``batch_size`` (``AdaptiveBatchSize`` when adaptive) and
    ``max_num_batches`` its ``max_num_batches`` (``MaxNumBatchesInfinity`` for no limit). A
    backend that feeds consumers in batches (e.g. server-pushed batches under credits) uses
    them as the feed's batch size and number of batches in flight.
    """

    batch_size: int
    max_num_batches: int


class LogTopic(ABC):
    """An open topic of a log-level backend. Methods may be called from several threads."""

    def __init__(self, name: str, config: TopicConfig) -> None:
        self.name = name
        self.config = config

    @property
    def num_partitions(self) -> int:
        """Number of partitions of the topic."""
        return self.config.num_partitions

    def partition_info(self, partition: int) -> dict[str, Any]:
        """JSON object describing a partition (``event.partition``); ``{}`` by default."""
        return {}

    def locate(self, partition: int, record: StoredRecord) -> str:
        """Where ``record`` is stored, added to errors about its content (e.g. metadata the
        serializer rejects); a backend names its file and byte offset if it has them."""
        return f"partition {partition}, event {record.event_id}"

    @abstractmethod
    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append ``records`` to ``partition`` atomically for readers; return the first id."""

    def append_columns(self, partition: int, columns: RecordColumns) -> int:
        """:meth:`append` for records given column by column; return the first id.

        The producer's batch path (``push_many``) calls it; a backend overrides it to store a
        whole batch without a Python object per record. The default calls :meth:`append`.
        """
        return self.append(partition, columns.records())

    #: How many appends a producer may have in flight at once through :meth:`start_append`
    #: (1: the producer stores its batches one after the other with :meth:`append`).
    appends_in_flight: int = 1

    def start_append(self, partition: int, records: Sequence[AppendRecord]) -> Callable[[], int]:
        """Start appending ``records`` to ``partition``; return a function that waits for the
        append to complete and returns its first id (or raises its error).

        Only called when :attr:`appends_in_flight` is above 1. Appends started on a partition
        get their ids in the order they were started, and each is stored at most once. The
        records' data stays valid until the returned function has returned. The default
        appends at once.
        """
        first = self.append(partition, records)
        return lambda: first

    def sync(self, partition: int) -> None:  # noqa: B027 - optional hook
        """Make every appended record of ``partition`` durable, if the backend can (on flush)."""

    @abstractmethod
    def event_count(self, partition: int) -> int:
        """Number of complete records in ``partition``."""

    @abstractmethod
    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Return up to ``max_count`` records of ``partition`` from id ``start`` (maybe none)."""

    def read_for_consumer(
        self, partition: int, start: int, max_count: int, settings: ReadSettings
    ) -> Sequence[StoredRecord]:
        """:meth:`read` on behalf of a consumer with ``settings``; the generic consumer calls it.

        The default ignores ``settings`` and calls :meth:`read`; a backend overrides it to give
        the consumer's batch size and ``max_num_batches`` to its feed.
        """
        return self.read(partition, start, max_count)

    def read_columns(self, partition: int, start: int, max_count: int) -> StoredColumns | None:
        """:meth:`read` as :class:`StoredColumns` (maybe empty), or ``None`` when the backend
        does not read that way (the default), or not now: the consumer then calls
        :meth:`read_for_consumer`.

        A consumer's ``pull_many`` calls it for a run of records; a backend overrides it to
        hand over many records without a Python object per record.
        """
        return None

    @abstractmethod
    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the selected bytes of ``record``'s data into ``destination``.

        ``segments`` are ``(offset, size)`` pairs within the event's data, already checked to be
        in range. Their bytes, in order, fill ``destination`` (writable byte memoryviews)
        contiguously: segment 0 of the destination first, then segment 1, and so on. The API
        package has checked that the destination is large enough.
        """

    def read_full_data(self, partition: int, records: Sequence[StoredRecord]) -> list[memoryview]:
        """Return the whole data of each of ``records`` as writable byte views.

        Consumers that fetch every byte call this for a run of consecutive records, so a backend
        can read them at once. The default reads each record into its own ``bytearray``.
        """
        views = []
        for record in records:
            buffer = memoryview(bytearray(record.data_size))
            self.read_data(partition, record, ((0, record.data_size),), (buffer,))
            views.append(buffer)
        return views

    def read_selected_data(
        self,
        partition: int,
        requests: Sequence[tuple[StoredRecord, Sequence[tuple[int, int]], Sequence[memoryview]]],
    ) -> None:
        """For each ``(record, segments, destination)``, do what :meth:`read_data` does.

        Consumers that read data through a data selector or a data allocator call this for a
        run of consecutive records when the backend overrides it, so a backend can fetch the
        selected ranges of a whole batch with one request (segments are checked to be in range
        and destinations to be large enough). The default calls :meth:`read_data` per record; a
        backend that does not override it is read one event at a time, as before.
        """
        for record, segments, destination in requests:
            self.read_data(partition, record, segments, destination)

    #: Most data bytes a consumer fetches at once, for a run of events whose whole data it
    #: reads (or whose selections it plans ahead); an event larger than that is fetched alone.
    read_ahead_bytes: int = 4 * 1024 * 1024

    #: Whether a consumer with its own data selector may call it ahead of its pulls, to fetch
    #: the selections of a batch with one :meth:`read_selected_data` call (a remote backend
    #: saves a round trip per event). ``False``: the selector is called at pull time, and only
    #: selections made without user code (no selector, or ``FullDataSelector``, with the
    #: library's allocators) are read a batch at a time. Used only when the backend overrides
    #: :meth:`read_selected_data`.
    selects_ahead: bool = True

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Record that ``consumer_name`` processed ``partition`` up to ``event_id`` included."""
        from ..exceptions import UnsupportedError

        raise UnsupportedError(f"{type(self).__name__} does not support acknowledgements")

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """Return ``{partition: last acknowledged event id}`` for ``consumer_name``."""
        return {}

    def consumer_names(self) -> list[str]:
        """Every consumer name with an acknowledged position (the ``consumer_positions``
        capability); the default raises ``UnsupportedError``."""
        from ..exceptions import UnsupportedError

        raise UnsupportedError(f"{type(self).__name__} cannot list consumer names")

    def mark_complete(self, partition: int) -> None:
        """Mark ``partition`` complete (the ``end_of_stream`` capability): :meth:`is_complete`
        is true from then on, and :meth:`append` to it raises
        :class:`~diaspora_stream.exceptions.PartitionCompleted` (checked atomically with the
        append, so no record lands after the mark). Marking twice is harmless. The default
        raises ``UnsupportedError``."""
        from ..exceptions import UnsupportedError

        raise UnsupportedError(f"{type(self).__name__} cannot mark partitions complete")

    def is_complete(self, partition: int) -> bool:
        """Whether ``partition`` was marked complete; ``False`` by default. Consumers call it
        when a partition has no record left to read, before reading again."""
        return False

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (files, connections). The topic is not used afterwards."""


class LogDriver(ABC):
    """Entry point of a log-level backend: creates, opens and lists topics."""

    #: What this backend can do; see :class:`Capabilities`.
    capabilities: ClassVar[Capabilities] = Capabilities()

    #: The topic options ``create_topic`` uses (in ``TopicConfig.options``); others are
    #: ignored with a warning naming them, as the C++ reference ignores them.
    topic_options: ClassVar[Mapping[str, Option]] = TOPIC_OPTIONS

    @classmethod
    @abstractmethod
    def create(cls, options: dict[str, Any]) -> LogDriver:
        """Create the driver from the user's options; reject unknown or ill-typed options."""

    @abstractmethod
    def create_topic(self, name: str, config: TopicConfig) -> None:
        """Create a topic; raise ``Exception`` if it already exists."""

    @abstractmethod
    def open_topic(self, name: str) -> LogTopic:
        """Open an existing topic; raise ``Exception`` if it does not exist."""

    @abstractmethod
    def topic_exists(self, name: str) -> bool:
        """Whether a topic of that name exists."""

    @abstractmethod
    def list_topics(self) -> dict[str, dict[str, Any]]:
        """Map each topic name to a JSON object describing it (at least ``name`` and
        ``num_partitions``)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources held by the driver."""
