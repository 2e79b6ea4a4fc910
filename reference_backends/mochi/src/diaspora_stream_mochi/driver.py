"""``MochiDriver`` and ``MochiTopic``: the client of a mochi service, as a log-level backend.

Producer path (``append``): one RPC per batch carrying the batch's metadata. On the server's node
the batch's data is copied into shared memory this process created and handed to the server
(:mod:`.shared_memory`) and the request names where; elsewhere the server asks for the data on the
connection (a bulk stream). Consumer path (``read``): server-pushed metadata batches under
credit-based flow control (:mod:`.subscription`); data (``read_data``, ``read_full_data`` and
``read_selected_data``) is fetched with one request per call carrying every byte range wanted,
received straight into the destination buffers: one request per batch of events.
"""

from __future__ import annotations

import functools
import sys
import threading
from array import array
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
from diaspora_stream.backend.capabilities import Capabilities
from diaspora_stream.backend.log import (
    AppendRecord,
    LogDriver,
    LogTopic,
    ReadSettings,
    StoredRecord,
    TopicConfig,
)
from diaspora_stream.backend.options import TOPIC_OPTIONS, Option
from diaspora_stream.constants import AdaptiveBatchSize
from diaspora_stream.exceptions import ClosedError
from diaspora_stream.exceptions import Exception as DiasporaException

from .client import MemberClient
from .config import PARTITION_TYPES, read_group_file
from .errors import ConfigurationError, RemoteError
from .pipeline import SHARED_BYTES, AppendPipeline
from .subscription import Subscription

__all__ = ["MochiDriver", "MochiTopic"]

#: Bytes moved by this process, by path (read by the benchmark): data taken by the server from
#: shared memory on-node (``shm``) or pulled over the stream (``bulk``), data fetched by
#: consumers (``fetched``).
TRANSFER_BYTES = {"shm": 0, "bulk": 0, "fetched": 0}
#: Seconds the server spent taking data, by path (as it reports them).
TRANSFER_SECONDS = {"shm": 0.0, "bulk": 0.0}

_OPTIONS = {
    "group_file",
    "timeout_s",
    "transport",
    "credits",
    "consumer_batch_size",
    "appends_in_flight",
    "shared_memory_bytes",
}
#: Credits given to the feed of a consumer whose ``max_num_batches`` is unlimited.
MAX_CREDITS = 65536
#: Largest fixed feed batch a server is asked for (a larger ``batch_size`` is capped to it).
MAX_FEED_BATCH = 65536
#: Subscriptions kept per topic for consumers that may come back (older ones are closed).
_MAX_SUBSCRIPTIONS = 64


def _little(table: array[int]) -> bytes:
    if sys.byteorder != "little":
        table = array(table.typecode, table)
        table.byteswap()
    return table.tobytes()


def _prefix(destination: Sequence[memoryview], size: int) -> list[memoryview]:
    """The first ``size`` bytes of the ``destination`` views, as views."""
    views = []
    for view in destination:
        if not size:
            break
        part = view[: min(view.nbytes, size)]
        views.append(part)
        size -= part.nbytes
    return views


class MochiDriver(LogDriver):
    """Client of a mochi service found through its group file.

    Options: ``group_file`` (required: the file ``diaspora-mochi start`` writes), ``timeout_s`` (30:
    longest wait for a server answer), ``transport`` (``"auto"``: the Unix socket and shared memory
    on the server's node; ``"tcp"``: always TCP and the bulk stream), ``shared_memory_bytes`` (64
    MiB: the shared memory of each partition's pipeline). A consumer's feed uses the consumer's own
    ``batch_size`` (events per pushed batch; adaptive: what is there, up to a cap) and
    ``max_num_batches`` (credits: pushed batches not yet handed to the consumer); ``credits`` (4)
    and ``consumer_batch_size`` (0: adaptive) are only the defaults of plain :meth:`MochiTopic.read`
    calls, made without a consumer's settings. ``appends_in_flight`` (8): batches a producer may
    have sent to a partition without their answer yet (pipelined on one connection; 1: one batch at
    a time).
    """

    capabilities = Capabilities(
        persistent_topics=True,
        acknowledgements=True,
        persistent_acknowledgements=True,
        multi_process_producers=True,
        partial_data_reads=True,
        durable_flush=True,
        end_of_stream=True,
        replay=True,
        consumer_positions=True,
    )

    topic_options: ClassVar[Mapping[str, Option]] = {
        **TOPIC_OPTIONS,
        "type": Option(str, "default", "partition type", choices=PARTITION_TYPES),
    }

    def __init__(self, options: dict[str, Any]) -> None:
        """Check the options and read the group file."""
        if not isinstance(options, dict):
            raise ConfigurationError("mochi driver options must be a JSON object")
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ConfigurationError(
                f"unknown mochi driver options {sorted(unknown)}; known: {sorted(_OPTIONS)}"
            )
        group_file = options.get("group_file")
        if not isinstance(group_file, str) or not group_file:
            raise ConfigurationError(
                "mochi driver option group_file is required: the group file written by "
                "'diaspora-mochi start --config FILE'"
            )
        timeout = options.get("timeout_s", 30.0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError("mochi driver option timeout_s must be a positive number")
        transport = options.get("transport", "auto")
        if transport not in ("auto", "tcp"):
            raise ConfigurationError(
                f"mochi driver option transport must be 'auto' or 'tcp', got {transport!r}"
            )
        self.credits = self._positive(options, "credits", 4, 1)
        self.consumer_batch_size = self._positive(options, "consumer_batch_size", 0, 0)
        self.appends_in_flight = self._positive(options, "appends_in_flight", 8, 1)
        self.shared_memory_bytes = self._positive(
            options, "shared_memory_bytes", SHARED_BYTES, 4096
        )
        self.group_file = Path(group_file).resolve()
        self.timeout = float(timeout)
        self.on_node = transport == "auto" and sys.platform == "linux"
        self._members = [
            MemberClient(
                member,
                self.group_file,
                self.timeout,
                functools.partial(_resolve_member, self.group_file),
                self.on_node,
            )
            for member in read_group_file(self.group_file)
        ]
        self._closed = False

    @staticmethod
    def _positive(options: dict[str, Any], key: str, default: int, low: int) -> int:
        value = options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigurationError(f"mochi driver option {key} must be an integer >= {low}")
        return value

    @classmethod
    def create(cls, options: dict[str, Any]) -> MochiDriver:
        return cls(options)

    def member(self, rank: int) -> MemberClient:
        """The connection pool of member ``rank``."""
        if self._closed:
            raise ClosedError("this mochi driver is closed; create a new Driver")
        if rank >= len(self._members):
            raise ConfigurationError(
                f"partition hosted by member {rank}, but group file {self.group_file} lists "
                f"{len(self._members)} member(s)"
            )
        return self._members[rank]

    def create_topic(self, name: str, config: TopicConfig) -> None:
        self.member(0).call(
            {
                "op": "create_topic",
                "name": name,
                "config": {
                    "num_partitions": config.num_partitions,
                    "options": config.options,
                    "validator": config.validator,
                    "serializer": config.serializer,
                    "partition_selector": config.partition_selector,
                },
            }
        )

    def open_topic(self, name: str) -> MochiTopic:
        header, _ = self.member(0).call({"op": "open_topic", "name": name})
        stored = header["config"]
        config = TopicConfig(
            num_partitions=stored["num_partitions"],
            options=stored.get("options") or {},
            validator=stored.get("validator"),
            serializer=stored.get("serializer"),
            partition_selector=stored.get("partition_selector"),
        )
        return MochiTopic(self, name, config, header["partitions"])

    def topic_exists(self, name: str) -> bool:
        try:
            self.member(0).call({"op": "open_topic", "name": name})
        except RemoteError:
            return False
        return True

    def list_topics(self) -> dict[str, dict[str, Any]]:
        header, _ = self.member(0).call({"op": "list_topics"})
        return {
            name: {
                "name": name,
                "num_partitions": config["num_partitions"],
                "options": config.get("options") or {},
            }
            for name, config in header["topics"].items()
        }

    def close(self) -> None:
        self._closed = True
        for member in self._members:
            member.close()


def _resolve_member(group_file: Path, rank: int) -> Any:
    """The current entry of member ``rank`` in ``group_file`` (after a restart).

    A function of the file only, not a method: the driver's member clients hold it, and a
    driver dropped without close() must not be kept alive by them.
    """
    try:
        members = read_group_file(group_file)
    except ConfigurationError:
        return None
    return members[rank] if rank < len(members) else None


class MochiTopic(LogTopic):
    """An open topic: partitions hosted by members of the group."""

    def __init__(
        self, driver: MochiDriver, name: str, config: TopicConfig, partitions: list[dict[str, Any]]
    ) -> None:
        super().__init__(name, config)
        self.driver = driver
        self._partitions = partitions
        #: Feeds kept for consumers that may come back: (partition, next id, batch size, credits).
        self._subscriptions: dict[tuple[int, int, int, int], Subscription] = {}
        self._lock = threading.Lock()
        self._closed = False
        #: How the server took each batch's data: ``"shm"`` (shared memory), ``"bulk"`` (stream).
        self.transfers = {"shm": 0, "bulk": 0, "none": 0}
        #: Partitions the server said are complete (a mark is never taken back).
        self._complete: set[int] = set()
        self.appends_in_flight = driver.appends_in_flight
        self._pipelines: dict[int, AppendPipeline] = {}

    def partition_info(self, partition: int) -> dict[str, Any]:
        entry = self._partitions[partition]
        return {"uuid": entry["uuid"], "member": entry["member"], "type": entry["type"]}

    def _member(self, partition: int) -> MemberClient:
        if self._closed:
            raise ClosedError(f"topic {self.name!r} is closed")
        return self.driver.member(self._partitions[partition]["member"])

    def _key(self, partition: int) -> dict[str, Any]:
        return {"topic": self.name, "partition": partition}

    # ------------------------------------------------------------------ produce

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        return self.start_append(partition, records)()

    def start_append(self, partition: int, records: Sequence[AppendRecord]) -> Callable[[], int]:
        """Send the batch's request at once, on the partition's pipeline (several batches in
        flight, answered in order); the returned function waits for its answer.

        The data goes through the pipeline's shared memory when it can, else over its
        connection.
        """
        header, payload, views, data_sizes = self._request(partition, records)
        total = sum(data_sizes)
        wait = self._pipeline(partition).send(header, payload, views)
        return lambda: self._accepted(wait(), total)

    def _pipeline(self, partition: int) -> AppendPipeline:
        with self._lock:
            pipeline = self._pipelines.get(partition)
            if pipeline is None:
                pipeline = self._pipelines[partition] = AppendPipeline(
                    self._member(partition), self.driver.shared_memory_bytes
                )
            return pipeline

    def _request(
        self, partition: int, records: Sequence[AppendRecord]
    ) -> tuple[dict[str, Any], list[bytes], list[memoryview], array[int]]:
        """An append request: header, payload (size tables, metadata), the data segments and
        the data sizes."""
        blobs = [record.metadata for record in records]
        meta_sizes = array("I", map(len, blobs))
        data_sizes = array("Q", [record.data_size for record in records])
        views = [
            memoryview(segment).cast("B")
            for record in records
            for segment in record.data
            if segment.nbytes
        ]
        header: dict[str, Any] = {
            "op": "append",
            "topic": self.name,
            "partition": partition,
            "count": len(records),
        }
        payload = [_little(meta_sizes), _little(data_sizes), b"".join(blobs)]
        return header, payload, views, data_sizes

    def _accepted(self, answer: dict[str, Any], total: int) -> int:
        """Count how the server pulled an acknowledged batch; its first id."""
        path = answer.get("path", "none")
        self.transfers[path] = self.transfers.get(path, 0) + 1
        if path in TRANSFER_SECONDS:
            TRANSFER_BYTES[path] += total
            TRANSFER_SECONDS[path] += float(answer.get("pull_s", 0.0))
        return int(answer["first_id"])

    def event_count(self, partition: int) -> int:
        header, _ = self._member(partition).call({"op": "count", **self._key(partition)})
        if header.get("complete") is True:
            self._complete.add(partition)
        return int(header["count"])

    def mark_complete(self, partition: int) -> None:
        """Mark ``partition`` complete on the member hosting it: it refuses later appends
        (``PartitionCompleted``) and answers once the batches stored before are committed and
        the mark is durable."""
        self._member(partition).call({"op": "mark_complete", **self._key(partition)})
        self._complete.add(partition)

    def is_complete(self, partition: int) -> bool:
        """Whether ``partition`` is complete (asked with its event count until it is)."""
        if partition not in self._complete:
            self.event_count(partition)
        return partition in self._complete

    # ------------------------------------------------------------------ consume

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        return self._take(
            partition, start, max_count, self.driver.consumer_batch_size, self.driver.credits
        )

    def read_for_consumer(
        self, partition: int, start: int, max_count: int, settings: ReadSettings
    ) -> Sequence[StoredRecord]:
        """Read through a feed of the consumer's batch size with its ``max_num_batches`` as
        credits."""
        size = settings.batch_size
        batch_size = 0 if size == AdaptiveBatchSize or size <= 0 else min(size, MAX_FEED_BATCH)
        grants = max(1, min(settings.max_num_batches, MAX_CREDITS))
        return self._take(partition, start, max_count, batch_size, grants)

    def _take(
        self, partition: int, start: int, max_count: int, batch_size: int, grants: int
    ) -> Sequence[StoredRecord]:
        key = (partition, start, batch_size, grants)
        with self._lock:
            subscription = self._subscriptions.pop(key, None)
        if subscription is None:
            subscription = Subscription(
                self._member(partition), self.name, partition, start, batch_size, grants
            )
        try:
            records = subscription.take(max_count)
            # Nothing buffered: events stored before this call must still be seen now, so ask
            # the server and, if it has some, wait for the batch it is pushing.
            if not records and self.event_count(partition) > start:
                records = subscription.take(max_count, wait=True)
        except BaseException:
            subscription.close()
            raise
        evicted = []
        with self._lock:
            if self._closed:
                evicted.append(subscription)
            else:
                key = (partition, subscription.next_id, batch_size, grants)
                previous = self._subscriptions.pop(key, None)
                if previous is not None:
                    evicted.append(previous)
                self._subscriptions[key] = subscription
                while len(self._subscriptions) > _MAX_SUBSCRIPTIONS:
                    oldest = next(iter(self._subscriptions))
                    evicted.append(self._subscriptions.pop(oldest))
        for old in evicted:
            old.close()
        return records

    def _fetch(
        self, partition: int, ranges: Sequence[tuple[int, int, int]], destination: list[memoryview]
    ) -> None:
        """One request for every ``(event id, offset, size)``; bytes land in ``destination``."""
        triples = array("Q")
        for triple in ranges:
            triples.extend(triple)
        member = self._member(partition)
        connection = member.acquire()
        try:
            connection.send(
                {"op": "read", **self._key(partition), "count": len(ranges)}, [_little(triples)]
            )
            header = connection.receive_header()
            size = int(header["size"])
            if size != sum(view.nbytes for view in destination):
                raise DiasporaException(f"server sent {size} bytes for a smaller selection")
            for view in destination:
                connection.reader.payload_into(view)
            TRANSFER_BYTES["fetched"] += size
        except RemoteError:
            member.release(connection)
            raise
        except (OSError, EOFError) as error:
            connection.close()
            raise member.unavailable(f"connection lost while reading data ({error})") from None
        except BaseException:
            connection.close()
            raise
        member.release(connection)

    def read_data(
        self,
        partition: int,
        record: StoredRecord,
        segments: Sequence[tuple[int, int]],
        destination: Sequence[memoryview],
    ) -> None:
        self.read_selected_data(partition, [(record, segments, destination)])

    def read_full_data(self, partition: int, records: Sequence[StoredRecord]) -> list[memoryview]:
        buffer = memoryview(bytearray(sum(record.data_size for record in records)))
        ranges = [(record.event_id, 0, record.data_size) for record in records if record.data_size]
        if ranges:
            self._fetch(partition, ranges, [buffer])
        views = []
        position = 0
        for record in records:
            views.append(buffer[position : position + record.data_size])
            position += record.data_size
        return views

    def read_selected_data(
        self,
        partition: int,
        requests: Sequence[tuple[StoredRecord, Sequence[tuple[int, int]], Sequence[memoryview]]],
    ) -> None:
        ranges = []
        views: list[memoryview] = []
        for record, segments, destination in requests:
            wanted = [(record.event_id, offset, size) for offset, size in segments if size]
            ranges.extend(wanted)
            views.extend(_prefix(destination, sum(size for _, _, size in wanted)))
        if ranges:
            self._fetch(partition, ranges, views)

    # -------------------------------------------------------------- positions

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        self._member(partition).call(
            {"op": "ack", **self._key(partition), "consumer": consumer_name, "event_id": event_id}
        )

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        header, _ = self._member(0).call(
            {"op": "load_acks", "topic": self.name, "consumer": consumer_name}
        )
        return {int(key): int(value) for key, value in header["positions"].items()}

    def consumer_names(self) -> list[str]:
        """Every consumer name with an acknowledged position in the topic (from the catalog)."""
        _, payload = self._member(0).call({"op": "consumer_names", "topic": self.name})
        names = orjson.loads(payload)
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise DiasporaException("the server sent consumer names that are not a list of strings")
        return names

    def close(self) -> None:
        with self._lock:
            self._closed = True
            subscriptions = list(self._subscriptions.values())
            self._subscriptions.clear()
            pipelines = list(self._pipelines.values())
            self._pipelines.clear()
        for pipeline in pipelines:
            pipeline.close()
        for subscription in subscriptions:
            subscription.close()
