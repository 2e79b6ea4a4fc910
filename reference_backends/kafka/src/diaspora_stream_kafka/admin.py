"""Topic administration on the cluster: create, describe, list, and the info topics."""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicCollection,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec
from diaspora_stream.exceptions import Exception as DiasporaException

from .config import KafkaConfig
from .errors import diaspora_error, is_retriable, kafka_error_of
from .fetching import fetch_available, position
from .naming import TopicNames

__all__ = ["INFO_READER_GROUP", "KafkaAdmin"]

#: Group id of the consumer that reads info topics (it never commits).
INFO_READER_GROUP = "diaspora-stream-info-reader"
T = TypeVar("T")
#: Groups whose offsets ``groups_with_offsets`` reads at once.
_GROUP_READERS = 8
_MISSING = {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC}


def _code(error: BaseException) -> int | None:
    kafka_error = kafka_error_of(error)
    return None if kafka_error is None else kafka_error.code()


class KafkaAdmin:
    """The driver's admin client, and the short-lived clients that read and write info topics."""

    def __init__(self, config: KafkaConfig, names: TopicNames) -> None:
        self.config = config
        self.names = names
        self._timeout_s = config.timeout_ms / 1000
        try:
            self._client = AdminClient(dict(config.kafka))
        except KafkaException as error:
            raise diaspora_error(
                error, "Creating the kafka driver", config.bootstrap_servers
            ) from None

    def _error(self, error: BaseException, doing: str) -> DiasporaException:
        return diaspora_error(error, doing, self.config.bootstrap_servers)

    def retrying(self, call: Callable[[], T]) -> T:
        """``call()``, again while it fails with an error Kafka calls retriable (stale
        metadata after a broker restart, a leader election...), until the timeout."""
        deadline = time.monotonic() + self._timeout_s
        pause = 0.05
        while True:
            try:
                return call()
            except KafkaException as error:
                if not is_retriable(error):
                    raise
                if time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    # -------------------------------------------------------------- creation

    def create(
        self,
        name: str,
        num_partitions: int,
        replication_factor: int,
        topic_settings: dict[str, str],
        info_records: Sequence[bytes] | None,
    ) -> None:
        """Create the topic (and its info topic holding ``info_records``, unless ``None``)."""
        data_topic = self.names.data_topic(name)
        settings = {"max.message.bytes": str(self.config.max_event_bytes), **topic_settings}
        wanted = [NewTopic(data_topic, num_partitions, replication_factor, config=settings)]
        if info_records is not None:
            wanted.append(NewTopic(self.names.info_topic(name), 1, replication_factor))
        futures = self._client.create_topics(
            wanted, operation_timeout=self._timeout_s, request_timeout=self._timeout_s
        )
        created: list[str] = []
        failures: dict[str, KafkaException] = {}
        for topic, future in futures.items():
            try:
                future.result()
                created.append(topic)
            except KafkaException as error:
                failures[topic] = error
        if failures:
            self._delete(created)
            failure = failures.get(data_topic)
            if failure is not None and _code(failure) == KafkaError.TOPIC_ALREADY_EXISTS:
                raise DiasporaException(f"Topic already exists: {name}")
            if failure is None:  # only the info topic failed
                topic, failure = next(iter(failures.items()))
                if _code(failure) == KafkaError.TOPIC_ALREADY_EXISTS:
                    raise DiasporaException(
                        f"Cannot create topic {name!r}: its info topic {topic!r} already exists "
                        "without the topic (left by a topic deleted with other tools); delete "
                        f"{topic!r} from the cluster, then create the topic again"
                    )
            raise self._error(failure, f"Creating topic {name!r}")
        if info_records is not None:
            try:
                self._write_info(self.names.info_topic(name), info_records)
            except BaseException:
                self._delete(created)
                raise

    def _write_info(self, info_topic: str, records: Sequence[bytes]) -> None:
        self.produce(info_topic, [(0, record) for record in records], "Writing the info topic")

    def produce(
        self, kafka_topic: str, records: Sequence[tuple[int, bytes]], doing: str
    ) -> list[int]:
        """Store ``(partition, value)`` records in that order; return their offsets.

        Not idempotent: a few records, one in flight at a time, need no producer id (which
        takes the broker about half a second to grant).
        """
        producer = Producer(
            {
                **self.config.kafka,
                "acks": "all",
                "linger.ms": "0",
                "max.in.flight.requests.per.connection": "1",
            }
        )
        errors: list[KafkaError] = []
        offsets: list[int] = [-1] * len(records)

        def delivered_to(index: int) -> Callable[[KafkaError | None, Any], None]:
            def delivered(error: KafkaError | None, message: Any) -> None:
                if error is not None:
                    errors.append(error)
                else:
                    offsets[index] = message.offset()

            return delivered

        for index, (partition, record) in enumerate(records):
            producer.produce(
                kafka_topic, record, partition=partition, on_delivery=delivered_to(index)
            )
        left = producer.flush(self._timeout_s)
        if errors or left:
            reason = errors[0] if errors else KafkaError(KafkaError._MSG_TIMED_OUT)
            raise self._error(KafkaException(reason), f"{doing} {kafka_topic!r}")
        return offsets

    def _delete(self, topics: list[str]) -> None:
        if not topics:
            return
        for future in self._client.delete_topics(
            topics, operation_timeout=self._timeout_s
        ).values():
            try:
                future.result()
            except KafkaException:
                pass  # best effort: the creation error is what the caller reports

    # ---------------------------------------------------------------- lookup

    def partition_counts(self, kafka_topics: Sequence[str]) -> dict[str, int | None]:
        """Number of partitions of each of ``kafka_topics`` (``None``: no such topic)."""

        def describe() -> dict[str, int | None]:
            futures = self._client.describe_topics(
                TopicCollection(list(kafka_topics)), request_timeout=self._timeout_s
            )
            counts: dict[str, int | None] = {}
            for topic, future in futures.items():
                try:
                    counts[topic] = len(future.result().partitions)
                except KafkaException as error:
                    if _code(error) not in _MISSING:
                        raise
                    counts[topic] = None
            return counts

        try:
            return self.retrying(describe)
        except KafkaException as error:
            raise self._error(error, f"Describing Kafka topics {list(kafka_topics)}") from None

    def read_info(self, info_topics: Sequence[str]) -> dict[str, list[bytes]]:
        """The records of each info topic (one partition, read from its beginning)."""
        if not info_topics:
            return {}
        partitions = [TopicPartition(topic, 0) for topic in info_topics]
        starts = self._offsets(partitions, OffsetSpec.earliest(), "Reading info topics")
        ends = self._offsets(partitions, OffsetSpec.latest(), "Reading info topics")
        records: dict[str, list[bytes]] = {topic: [] for topic in info_topics}
        wanted = {topic: end for topic, end in ends.items() if end > starts[topic]}
        if not wanted:
            return records
        reader = Consumer(
            {
                **self.config.kafka,
                "group.id": INFO_READER_GROUP,
                "enable.auto.commit": "false",
                "enable.partition.eof": "false",
                "fetch.wait.max.ms": "10",
            }
        )
        try:
            # Explicit offsets: OFFSET_BEGINNING would cost an extra half-second offset query.
            reader.assign([TopicPartition(topic, 0, starts[topic]) for topic in wanted])
            deadline = time.monotonic() + self._timeout_s
            while wanted:
                if time.monotonic() > deadline:
                    raise DiasporaException(
                        f"Reading the info topics {sorted(wanted)} took more than "
                        f"{self._timeout_s:.0f} s (cluster at {self.config.bootstrap_servers})"
                    )
                for message in fetch_available(reader, 1000, 0.5):
                    error = message.error()
                    if error is not None:
                        if error.fatal():
                            raise self._error(KafkaException(error), "Reading info topics")
                        continue
                    topic = message.topic()
                    _partition, offset = position(message)
                    if topic in wanted and offset < wanted[topic]:
                        records[topic].append(message.value() or b"")
                        if offset + 1 >= wanted[topic]:
                            del wanted[topic]
        finally:
            reader.close()
        return records

    def list_data_topics(self) -> dict[str, tuple[str, int]]:
        """Diaspora name → (Kafka topic, number of partitions) of every topic of the namespace."""
        try:
            metadata = self._client.list_topics(timeout=self._timeout_s)
        except KafkaException as error:
            raise self._error(error, "Listing topics") from None
        topics = {}
        for kafka_topic, description in metadata.topics.items():
            name = self.names.diaspora_name(kafka_topic)
            if name is not None and description.error is None:
                topics[name] = (kafka_topic, len(description.partitions))
        return topics

    def _offsets(
        self, partitions: Sequence[TopicPartition], spec: OffsetSpec, doing: str
    ) -> dict[str, int]:
        def query() -> dict[str, int]:
            futures = self._client.list_offsets(
                {tp: spec for tp in partitions}, request_timeout=self._timeout_s
            )
            return {tp.topic: future.result().offset for tp, future in futures.items()}

        try:
            return self.retrying(query)
        except KafkaException as error:
            raise self._error(error, doing) from None

    def partition_offsets(
        self, kafka_topic: str, partitions: Sequence[int], earliest: bool = False
    ) -> dict[int, int]:
        """The high watermark (next offset; with ``earliest``, the first offset still stored)
        of each of ``partitions`` of ``kafka_topic``."""
        spec = OffsetSpec.earliest() if earliest else OffsetSpec.latest()

        def query() -> dict[int, int]:
            futures = self._client.list_offsets(
                {TopicPartition(kafka_topic, p): spec for p in partitions},
                request_timeout=self._timeout_s,
            )
            return {tp.partition: future.result().offset for tp, future in futures.items()}

        try:
            return self.retrying(query)
        except KafkaException as error:
            raise self._error(error, f"Reading the offsets of {kafka_topic!r}") from None

    def topic_names(self) -> set[str]:
        """Every Kafka topic of the cluster."""
        try:
            return set(self._client.list_topics(timeout=self._timeout_s).topics)
        except KafkaException as error:
            raise self._error(error, "Listing topics") from None

    # -------------------------------------------------------- consumer groups
    #
    # Offsets are read and committed with a consumer of the group, never with the admin API's
    # ListConsumerGroupOffsets/AlterConsumerGroupOffsets: librdkafka crashes the process when
    # those get a "not coordinator" answer (as a new cluster gives while its offsets topic
    # loads; librdkafka issue 5040).

    def group_offsets(
        self, group: str, kafka_topic: str, partitions: Sequence[int], keep: bool = False
    ) -> dict[int, int]:
        """The offsets ``group`` committed in ``partitions`` of ``kafka_topic`` (partitions
        without a commit are absent). ``keep``: the group is asked often, keep its reader."""
        wanted = _partitions(kafka_topic, partitions)

        def query(reader: Consumer) -> dict[int, int]:
            committed = self.retrying(lambda: reader.committed(wanted, timeout=self._timeout_s))
            return {tp.partition: tp.offset for tp in committed if tp.offset >= 0}

        try:
            if keep:
                return group_readers.use(self.config.kafka, group, query)
            reader = group_reader(self.config.kafka, group)
            try:
                return query(reader)
            finally:
                reader.close()
        except KafkaException as error:
            raise self._error(error, f"Reading the offsets of group {group!r}") from None

    def set_group_offsets(self, group: str, kafka_topic: str, offsets: dict[int, int]) -> None:
        """Commit ``{partition: offset}`` of ``kafka_topic`` for ``group`` (kept reader)."""
        wanted = [TopicPartition(kafka_topic, p, o) for p, o in sorted(offsets.items())]

        def commit(reader: Consumer) -> None:
            self.retrying(lambda: reader.commit(offsets=wanted, asynchronous=False))

        try:
            group_readers.use(self.config.kafka, group, commit)
        except KafkaException as error:
            raise self._error(error, f"Committing offsets for group {group!r}") from None

    def groups_with_offsets(
        self, kafka_topic: str, partitions: Sequence[int], excluded: frozenset[str]
    ) -> list[str]:
        """The consumer groups (but ``excluded``) with a committed offset in ``kafka_topic``,
        sorted. Each group is asked by a reader of its own, a few at a time."""
        try:
            listed = self.retrying(
                lambda: self._client.list_consumer_groups(request_timeout=self._timeout_s).result()
            )
        except KafkaException as error:
            raise self._error(error, "Listing consumer groups") from None
        groups = sorted({g.group_id for g in listed.valid or []} - excluded)
        if not groups:
            return []
        with ThreadPoolExecutor(min(len(groups), _GROUP_READERS)) as pool:
            answers = list(
                pool.map(lambda group: self.group_offsets(group, kafka_topic, partitions), groups)
            )
        return [group for group, offsets in zip(groups, answers, strict=True) if offsets]


def _partitions(kafka_topic: str, partitions: Sequence[int]) -> list[TopicPartition]:
    return [TopicPartition(kafka_topic, p) for p in partitions]


def group_reader(kafka: dict[str, Any], group: str) -> Consumer:
    """A consumer of ``group`` that only reads and commits offsets (never fetches)."""
    return Consumer({**kafka, "group.id": group, "enable.auto.commit": "false"})


class _GroupReaders:
    """Readers of the groups asked often (the completion group), kept for the process and
    closed at exit (a librdkafka consumer destroyed without ``close()`` can abort it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers: dict[
            tuple[tuple[tuple[str, str], ...], str], tuple[Consumer, threading.Lock]
        ] = {}

    def use(self, kafka: dict[str, Any], group: str, call: Callable[[Consumer], T]) -> T:
        """``call(reader)`` with the process's reader of ``group`` on that cluster."""
        key = (tuple(sorted((k, str(v)) for k, v in kafka.items())), group)
        with self._lock:
            entry = self._readers.get(key)
            if entry is None:
                entry = self._readers[key] = (group_reader(kafka, group), threading.Lock())
        reader, lock = entry
        with lock:
            return call(reader)

    def close(self) -> None:
        """Close every reader (at exit)."""
        with self._lock:
            readers, self._readers = list(self._readers.values()), {}
        for reader, _lock in readers:
            try:
                reader.close()
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


group_readers = _GroupReaders()
atexit.register(group_readers.close)
