"""Edge cases: close() under a waiting pull, bad librdkafka settings, a cluster gone away."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from diaspora_stream.api import ClosedError, Driver
from diaspora_stream.api import Exception as DiasporaException

from diaspora_stream_kafka.errors import KafkaUnreachable
from diaspora_stream_kafka.local_broker import LocalBroker


def test_close_wakes_a_pull_waiting_without_timeout(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    driver.create_topic(name)
    consumer = driver.open_topic(name).consumer("waiter")
    outcome: list[Any] = []

    def wait_forever() -> None:
        try:
            outcome.append(consumer.pull().wait(-1))
        except BaseException as error:  # noqa: BLE001 - the outcome is checked below
            outcome.append(error)

    waiter = threading.Thread(target=wait_forever, daemon=True)
    waiter.start()
    time.sleep(0.5)  # let it reach the wait
    closer = threading.Thread(target=consumer.close, daemon=True)
    closer.start()
    closer.join(10)
    assert not closer.is_alive(), "close() did not return while a pull waited"
    waiter.join(10)
    assert not waiter.is_alive(), "the waiting pull was not woken by close()"
    assert len(outcome) == 1 and isinstance(outcome[0], ClosedError), outcome


@pytest.mark.parametrize("where", ["driver", "producer", "consumer"])
def test_an_unknown_librdkafka_setting_is_a_typed_error_naming_it(
    where: str, options: dict[str, Any], topic_name: Callable[[], str]
) -> None:
    bad = {"no.such.setting": 1}
    if where == "driver":
        with pytest.raises(DiasporaException) as raised:
            Driver(backend="kafka", options={"kafka": {**options["kafka"], **bad}})
    else:
        driver = Driver(backend="kafka", options=options)
        name = topic_name()
        driver.create_topic(name)
        topic = driver.open_topic(name)
        with pytest.raises(DiasporaException) as raised:
            getattr(topic, where)("x", options={"kafka": bad})
    assert isinstance(raised.value, TypeError), "an InvalidArgument"
    assert "no.such.setting" in str(raised.value)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker of this test alone (it is stopped and started again)."""
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    yield broker
    broker.close()


@pytest.mark.slow
def test_a_pull_on_a_cluster_gone_away_raises_after_timeout_ms(own_broker: LocalBroker) -> None:
    options = {"kafka": {"bootstrap.servers": own_broker.bootstrap_servers}, "timeout_ms": 3000}
    driver = Driver(backend="kafka", options=options)
    driver.create_topic("gone")
    topic = driver.open_topic("gone")
    consumer = topic.consumer("patient")
    assert consumer.pull().wait(500) is None
    own_broker.stop()
    with pytest.raises(KafkaUnreachable) as raised:
        consumer.pull().wait(60000)  # documented bound: timeout_ms, then a 2 s metadata request
    assert own_broker.bootstrap_servers in str(raised.value)
    own_broker.start()  # the same consumer reads again once the cluster is back
    producer = topic.producer()
    producer.push({"back": True})
    producer.flush().wait(60000)
    event = consumer.pull().wait(60000)
    assert event is not None and event.metadata == {"back": True}


@pytest.mark.parametrize("name", [" ", "\t", "a\0b", " a", "a\n"])
def test_a_consumer_name_kafka_would_fold_or_abort_on_is_a_typed_error(
    name: str, driver: Driver, topic_name: Callable[[], str]
) -> None:
    """librdkafka cuts a group id at NUL and trims whitespace (an all-blank one aborts the
    process): such names are refused rather than folded into another consumer's group."""
    topic = topic_name()
    driver.create_topic(topic)
    with pytest.raises(DiasporaException, match="Invalid consumer name"):
        driver.open_topic(topic).consumer(name)
