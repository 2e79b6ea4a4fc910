"""The memory reserve: faulted in by a background thread, handed out in order, then exhausted."""

from __future__ import annotations

import pytest
from diaspora_stream.api import Driver

from diaspora_stream_mochi import service
from diaspora_stream_mochi.config import ServerConfig, read_group_file
from diaspora_stream_mochi.errors import ConfigurationError
from diaspora_stream_mochi.memory_reserve import MemoryReserve


def test_buffers_come_from_the_reserve_in_order_until_it_is_used_up() -> None:
    reserve = MemoryReserve(1 << 20)
    assert reserve.wait_ready(30)
    assert reserve.stats() == {"size": 1 << 20, "populated": 1 << 20, "used": 0}
    first = reserve.take(100)
    second = reserve.take(1000)
    assert first is not None and second is not None
    assert (first.nbytes, second.nbytes) == (100, 1000)
    first[:] = b"a" * 100
    second[:] = b"b" * 1000
    assert bytes(first) == b"a" * 100  # distinct, non-overlapping buffers
    assert reserve.stats()["used"] == 128 + 1000  # the second one starts on a cache line
    assert reserve.take(1 << 20) is None  # more than what is left: the caller allocates
    rest = reserve.take((1 << 20) - 1152)
    assert rest is not None and rest.nbytes == (1 << 20) - 1152
    assert reserve.take(1) is None


def test_memory_partitions_land_in_the_reserve_then_in_fresh_memory(make_service) -> None:
    running = make_service(memory_reserve=3 * 4096)
    member = read_group_file(running.config.group_file)[0]
    driver = Driver(backend="mochi", options=running.options())
    driver.create_topic("reserved", options={"type": "memory"})
    topic = driver.open_topic("reserved")
    producer = topic.producer(batch_size=1)
    payloads = [bytes([i]) * 4096 for i in range(6)]  # half fits in the reserve
    assert [producer.push({"i": i}, payloads[i]).wait(10_000) for i in range(6)] == list(range(6))
    answer = service.ping(member, running.config.group_file)
    assert answer is not None
    assert answer["memory_reserve"]["size"] == 3 * 4096
    assert answer["memory_reserve"]["used"] >= 2 * 4096
    consumer = topic.consumer("c")
    events = [consumer.pull().wait(10_000) for _ in range(6)]
    assert [bytes(event.data[0]) for event in events] == payloads
    producer.close()
    consumer.close()
    driver.close()


def test_a_bad_memory_reserve_is_refused_with_the_key_named(tmp_path) -> None:
    for bad in (-1, "1G", True):
        with pytest.raises(ConfigurationError, match="'memory_reserve' must be an integer >= 0"):
            ServerConfig.from_dict(
                {"root": "r", "group_file": "g", "memory_reserve": bad}, tmp_path
            )
    config = ServerConfig.from_dict({"root": "r", "group_file": "g"}, tmp_path)
    assert config.memory_reserve == 0 and config.as_dict()["memory_reserve"] == 0
