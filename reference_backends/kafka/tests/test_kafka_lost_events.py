"""Events lost because the broker is gone make the flush that covers them raise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from diaspora_stream.api import Driver, EventsNotStored

from diaspora_stream_kafka.errors import KafkaUnreachable
from diaspora_stream_kafka.local_broker import LocalBroker


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker of this test alone (it is stopped)."""
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    yield broker
    broker.close()


def test_flush_raises_when_the_broker_stopped_before_delivery(own_broker: LocalBroker) -> None:
    options = {
        "kafka": {"bootstrap.servers": own_broker.bootstrap_servers},
        "delivery_timeout_ms": 3000,
    }
    driver = Driver(backend="kafka", options=options)
    driver.create_topic("stopped", options={"num_partitions": 2})
    producer = driver.open_topic("stopped").producer("before-stop")
    stored = [producer.push({"i": i}) for i in range(4)]
    assert producer.flush().wait(60000) is True
    own_broker.stop()
    lost = [producer.push({"i": i}, partition=i % 2) for i in range(10)]
    with pytest.raises(EventsNotStored) as raised:
        producer.flush().wait(60000)
    assert raised.value.failed == 10
    assert isinstance(raised.value.first_cause, KafkaUnreachable)
    for future in lost:
        with pytest.raises(KafkaUnreachable):
            future.wait(0)
    assert all(isinstance(future.wait(0), int) for future in stored)
