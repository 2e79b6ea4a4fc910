"""What the kafka backend does beyond the conformance suite, or better than Octopus."""

from __future__ import annotations

import threading
from collections.abc import Callable

from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient
from diaspora_stream.api import Driver
from diaspora_stream_conformance.behaviours import read_all


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    from confluent_kafka import ConsumerGroupTopicPartitions

    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = ConsumerGroupTopicPartitions(
        group, [TopicPartition(topic, p) for p in range(partitions)]
    )
    answer = admin.list_consumer_group_offsets([request])[group].result()
    return {tp.partition: tp.offset for tp in answer.topic_partitions if tp.offset >= 0}


def test_ids_are_offsets_on_every_partition(driver: Driver, topic_name: Callable[[], str]) -> None:
    """Octopus fails the second push on a topic of several partitions; not here."""
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 3})
    producer = driver.open_topic(name).producer(batch_size=16)
    futures = [producer.push({"i": i}) for i in range(30)]
    producer.flush().wait()
    assert [future.wait() for future in futures] == [i // 3 for i in range(30)]
    events = read_all(driver.open_topic(name), 30)
    assert sorted((e.partition_index, e.event_id) for e in events) == [
        (p, i) for p in range(3) for i in range(10)
    ]


def test_acknowledge_commits_the_next_offset_for_the_group(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    producer = topic.producer()
    for i in range(6):
        producer.push({"i": i}, partition=i % 2)
    producer.flush().wait()
    consumer = topic.consumer("analysis")
    events = [consumer.pull().wait(10000) for _ in range(3)]
    assert committed(bootstrap, "analysis", name, 2) == {}  # nothing without acknowledge
    events[-1].acknowledge()  # partition 0, event 1
    assert committed(bootstrap, "analysis", name, 2) == {0: 2}
    consumer.close()
    again = topic.consumer("analysis")
    resumed = [again.pull().wait(10000) for _ in range(4)]
    assert [(e.partition_index, e.event_id) for e in resumed] == [(0, 2), (1, 0), (1, 1), (1, 2)]


def test_targets_are_assigned_not_subscribed(driver: Driver, topic_name: Callable[[], str]) -> None:
    """Octopus ignores targets (it subscribes); two consumers of one group split by targets."""
    name = topic_name()
    driver.create_topic(name, options={"num_partitions": 3})
    topic = driver.open_topic(name)
    producer = topic.producer()
    for i in range(9):
        producer.push({"i": i})
    producer.flush().wait()
    only_two = topic.consumer("split", targets=[2])
    only_zero = topic.consumer("split", targets=[0])
    got_two = [only_two.pull().wait(10000) for _ in range(3)]
    got_zero = [only_zero.pull().wait(10000) for _ in range(3)]
    assert {e.partition_index for e in got_two} == {2}
    assert {e.partition_index for e in got_zero} == {0}
    assert only_two.pull().wait(300) is None


def test_selection_is_cut_from_the_record(driver: Driver, topic_name: Callable[[], str]) -> None:
    from diaspora_stream.api import DataDescriptor

    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    producer = topic.producer()
    payload = bytes(range(256)) * 4096  # 1 MiB
    producer.push({"size": len(payload)}, payload)
    producer.flush().wait()

    def selector(_metadata: object, descriptor: DataDescriptor) -> DataDescriptor:
        return descriptor.make_stride_view(offset=10, num_blocks=4, block_size=3, gap_size=1000)

    event = topic.consumer("strided", data_selector=selector).pull().wait(10000)
    expected = b"".join(payload[10 + k * 1003 : 13 + k * 1003] for k in range(4))
    assert bytes(event.data[0]) == expected


def test_producers_of_several_threads_get_exact_ids(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    results: dict[int, list[int]] = {}

    def push(thread: int) -> None:
        producer = topic.producer(f"p{thread}")
        futures = [producer.push({"t": thread, "i": i}) for i in range(200)]
        producer.flush().wait()
        results[thread] = [future.wait() for future in futures]

    threads = [threading.Thread(target=push, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = sorted(i for values in results.values() for i in values)
    assert ids == list(range(800))
    for values in results.values():
        assert values == sorted(values)
    by_id = {e.event_id: e.metadata for e in read_all(topic, 800)}
    for thread, values in results.items():
        assert [by_id[i] for i in values] == [{"t": thread, "i": i} for i in range(200)]
