"""Storage primitives of the ``{{ cookiecutter.backend_name }}`` backend: one open topic.

diaspora-stream calls these methods; everything else (validation, serialization, batching,
ordering, futures, data selection, thread pools) happens in diaspora-stream before and after.
The methods may be called from several threads at once.

As generated, a partition is a pair of Python lists in memory (``state.py``). Each
``CHANGE ME`` below says what to replace and what the replacement must guarantee; the rules are
those of ``diaspora_stream.backend.log`` and the conformance suite checks every one of them
(``nox -s conformance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from diaspora_stream.api import (
    AppendRecord,
    ClosedError,
    LogTopic,
    StoredRecord,
)

from .state import PartitionState, TopicState

__all__ = ["{{ cookiecutter.title }}Topic"]


class {{ cookiecutter.title }}Topic(LogTopic):
    """An open topic of the ``{{ cookiecutter.backend_name }}`` backend.

    Created by :meth:`{{ cookiecutter.title }}Driver.open_topic`; several handles may be open on
    one topic (in several threads), and they all see the same events.
    """

    def __init__(self, name: str, state: TopicState) -> None:
        super().__init__(name, state.config)
        self._state = state
        self._closed = False

    def _partition(self, partition: int) -> PartitionState:
        """The state of ``partition`` (diaspora-stream has checked that the index is valid)."""
        if self._closed:
            raise ClosedError(f"Topic {self.name!r} is closed; open it again with open_topic")
        return self._state.partitions[partition]

    def partition_info(self, partition: int) -> dict[str, Any]:
        """JSON object shown to users as ``event.partition``.

        CHANGE ME (optional): describe where the partition lives (a server address, a path).
        """
        return {"backend": "{{ cookiecutter.backend_name }}", "partition": partition}

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        """Append ``records`` to ``partition`` and return the id of the first one."""
        state = self._partition(partition)
        # CHANGE ME: write the records to your engine. What the replacement must guarantee:
        # * All or nothing for readers: a concurrent read() sees none or all of these records,
        #   never some of them and never a partial record.
        # * Dense, exact ids: the records get the next ids of the partition (0, 1, 2, ... in
        #   append order), and the returned first id is exact even when several threads or
        #   handles append at once (and several processes, if you declare
        #   multi_process_producers in driver.py).
        # * Copy the bytes: record.data is a tuple of byte memoryviews that the producer may
        #   release or reuse as soon as append returns; keep no reference to them.
        # * On an error, raise diaspora_stream.api.Exception (or a subclass) with a message that
        #   says what went wrong and what to do, and leave the stored records intact.
        metadata = [bytes(record.metadata) for record in records]
        data = [b"".join(record.data) for record in records]  # copies the segments
        with state.lock:
            first_id = len(state.metadata)
            state.metadata.extend(metadata)
            state.data.extend(data)
        return first_id

    def sync(self, partition: int) -> None:
        """Make every appended record of ``partition`` durable (called on ``flush``)."""
        # CHANGE ME: if your engine buffers writes, push them to stable storage here (fsync, a
        # replicated commit...) and declare durable_flush=True in driver.py. In memory there is
        # nothing to do, and durable_flush is declared absent.
        self._partition(partition)

    def event_count(self, partition: int) -> int:
        """Number of complete records in ``partition``."""
        state = self._partition(partition)
        # CHANGE ME: count only records a reader may see (a record whose append is still in
        # progress does not count yet).
        with state.lock:
            return len(state.metadata)

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        """Up to ``max_count`` records of ``partition`` from id ``start`` (maybe none)."""
        state = self._partition(partition)
        # CHANGE ME: fetch record descriptions from your engine. What the replacement must
        # guarantee:
        # * Only complete records, in id order, starting exactly at ``start``; an empty
        #   sequence when ``start`` is at (or past) the end: consumers poll again later.
        # * Return metadata bytes and the data size; the data itself is fetched later, and only
        #   if the consumer wants it, by read_data. ``locator`` is yours: anything that helps
        #   read_data find the bytes (a file offset, a remote key); here, the event id.
        with state.lock:
            end = min(len(state.metadata), start + max_count)
            return [
                StoredRecord(
                    event_id=event_id,
                    metadata=state.metadata[event_id],
                    data_size=len(state.data[event_id]),
                    locator=event_id,
                )
                for event_id in range(start, end)
            ]

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        """Copy the selected byte ranges of ``record``'s data into ``destination``."""
        state = self._partition(partition)
        # CHANGE ME: read the bytes from your engine. What the replacement must guarantee:
        # * ``segments`` are (offset, size) pairs inside the event's data, already checked by
        #   diaspora-stream; their bytes, in order, fill the writable ``destination`` views
        #   back to back (view 0 first, then view 1...). The destination is large enough.
        # * Read only the selected ranges if you can (that is the partial_data_reads
        #   capability, declared in driver.py): consumers often want a small part of big data.
        # * Optional: also override read_full_data(partition, records) if your engine can fetch
        #   the whole data of consecutive records in one request (the default calls read_data
        #   once per record).
        with state.lock:
            whole = state.data[record.locator]
        view = memoryview(whole)
        _copy_into([view[offset : offset + size] for offset, size in segments], destination)

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Record that ``consumer_name`` processed ``partition`` up to ``event_id`` included."""
        state = self._partition(partition)
        # CHANGE ME: keep the position where your engine keeps consumer offsets. A consumer
        # created again with the same name resumes after it (acknowledgements capability);
        # keeping it beyond the process is the persistent_acknowledgements capability. If your
        # engine cannot store positions, delete this method and load_acknowledgements and
        # declare acknowledgements=False: the inherited method raises UnsupportedError, as
        # the suite requires of an absent capability.
        with state.lock:
            if event_id > state.acknowledged.get(consumer_name, -1):
                state.acknowledged[consumer_name] = event_id  # never moves backwards

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        """``{partition: last acknowledged event id}`` of ``consumer_name`` (maybe empty)."""
        if self._closed:
            raise ClosedError(f"Topic {self.name!r} is closed; open it again with open_topic")
        positions: dict[int, int] = {}
        for index, state in enumerate(self._state.partitions):
            with state.lock:
                if consumer_name in state.acknowledged:
                    positions[index] = state.acknowledged[consumer_name]
        return positions

    def close(self) -> None:
        """Release this handle; other handles on the topic keep working.

        CHANGE ME: close files, connections or sessions this handle opened.
        """
        self._closed = True


def _copy_into(sources: Sequence[memoryview], destination: Sequence[memoryview]) -> None:
    """Copy ``sources``, in order, back to back into the ``destination`` views."""
    target_index = 0
    position = 0
    for source in sources:
        offset = 0
        while offset < source.nbytes:
            target = destination[target_index]
            room = target.nbytes - position
            if room == 0:
                target_index += 1
                position = 0
                continue
            count = min(room, source.nbytes - offset)
            target[position : position + count] = source[offset : offset + count]
            position += count
            offset += count
