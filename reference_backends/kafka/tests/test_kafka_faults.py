"""Faults: a broker restarted under a producer, a consumer process killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from diaspora_stream.api import Driver
from diaspora_stream.api import Exception as DiasporaException

from diaspora_stream_kafka.local_broker import LocalBroker


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker of this test alone (it is restarted)."""
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    yield broker
    broker.close()


@pytest.mark.slow
def test_broker_restart_while_pushing_loses_and_duplicates_nothing(
    own_broker: LocalBroker,
) -> None:
    options = {"kafka": {"bootstrap.servers": own_broker.bootstrap_servers}}
    driver = Driver(backend="kafka", options=options)
    driver.create_topic("restarted", options={"num_partitions": 2})
    producer = driver.open_topic("restarted").producer("during-restart", batch_size=32)
    futures = []
    pushed_enough = threading.Event()
    keep_pushing = threading.Event()
    keep_pushing.set()

    def push() -> None:
        i = 0
        while keep_pushing.is_set() or i < 3000:
            futures.append(producer.push({"i": i}, b"%d" % i))
            i += 1
            if i == 1000:
                pushed_enough.set()
            if i % 100 == 0:
                threading.Event().wait(0.01)

    pusher = threading.Thread(target=push)
    pusher.start()
    assert pushed_enough.wait(60)
    own_broker.restart()  # while the pusher goes on
    keep_pushing.clear()
    pusher.join()
    assert producer.flush().wait(180000) is True
    stored = {}
    failures = 0
    for index, future in enumerate(futures):
        try:
            stored[index] = future.wait(0)
        except DiasporaException:
            failures += 1
    assert len(futures) >= 3000
    assert failures == 0, f"{failures} pushes failed although the broker came back"
    consumer = driver.open_topic("restarted").consumer("checker")
    seen: dict[int, tuple[int, int]] = {}
    for _ in range(len(stored)):
        event = consumer.pull().wait(30000)
        assert event is not None, f"only {len(seen)} of {len(stored)} events came back"
        i = event.metadata["i"]
        assert i not in seen, f"event {i} delivered twice"
        assert bytes(event.data[0]) == b"%d" % i
        seen[i] = (event.partition_index, event.event_id)
    assert consumer.pull().wait(1000) is None, "more events than pushes"
    assert set(seen) == set(stored)
    for i, event_id in stored.items():
        assert seen[i][1] == event_id


CHILD = textwrap.dedent(
    """
    import sys
    from diaspora_stream.api import Driver
    options = {"kafka": {"bootstrap.servers": sys.argv[1]}}
    consumer = Driver(backend="kafka", options=options).open_topic(sys.argv[2]).consumer("victim")
    for count in range(1, 101):
        event = consumer.pull().wait(30000)
        if count <= 37:
            event.acknowledge()
    print("acknowledged 37 of 100", flush=True)
    sys.stdin.read()  # killed here
    """
)


def test_killed_consumer_resumes_after_its_last_acknowledgement(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = topic_name()
    driver.create_topic(name)
    topic = driver.open_topic(name)
    producer = topic.producer()
    for i in range(150):
        producer.push({"i": i})
    producer.flush().wait()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, bootstrap, name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "acknowledged 37 of 100"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    resumed = topic.consumer("victim")
    events = [resumed.pull().wait(10000) for _ in range(150 - 37)]
    assert [event.metadata["i"] for event in events] == list(range(37, 150))
    assert resumed.pull().wait(300) is None
