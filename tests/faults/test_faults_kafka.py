"""Campaigns on Kafka: a broker restarted (or killed) under a producer, a broker gone for good."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_workers import event_content
from fault_campaign import Tally, conclude
from judge import judge_writers, read_topic

from diaspora_stream.api import Driver, EventsNotStored, FutureUint, Unreachable
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream_kafka.local_broker import LocalBroker

RESTART_TRIALS = 2
GONE_TRIALS = 1
#: Short bounds, so that a broker gone for good is reported within seconds.
GONE_OPTIONS = {"timeout_ms": 3000, "delivery_timeout_ms": 5000}


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker of this campaign alone (it is stopped, killed and started again)."""
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


def _take_down(broker: LocalBroker, kill: bool) -> None:
    """SIGKILL the broker (a crash) or stop it cleanly."""
    if kill:
        broker.kill()
    else:
        broker.stop()


class Pusher:
    """A thread pushing events of writer ``writer`` until told to stop."""

    def __init__(self, driver: Driver, topic: str, writer: int) -> None:
        self.producer = driver.open_topic(topic).producer(f"p{writer}", batch_size=16)
        self.writer = writer
        self.futures: list[FutureUint] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            i = len(self.futures)
            self.futures.append(self.producer.push(*event_content(self.writer, i)))
            if i % 50 == 49:
                time.sleep(0.01)

    def wait_stored(self, count: int) -> None:
        """Wait until the first ``count`` pushes are stored (so that a fault has something
        acknowledged to lose)."""
        while len(self.futures) < count:
            time.sleep(0.01)
        self.futures[count - 1].wait(30_000)

    def stop(self) -> None:
        """Stop pushing (the events pushed stay pending)."""
        self._stop.set()
        self._thread.join()

    def outcomes(self, tally: Tally) -> dict[int, int]:
        """Index -> id of every push future that succeeded; untyped failures count as crashes."""
        stored = {}
        for i, future in enumerate(self.futures):
            try:
                stored[i] = future.wait(0)
            except DiasporaException:
                pass
            except Exception as error:  # noqa: BLE001 - judged: an untyped error
                tally.found("crashed", f"push {i}: untyped {type(error).__name__}: {error}")
        return stored


def _flush(tally: Tally, pusher: Pusher, timeout_ms: int) -> bool:
    """Flush; whether it said every event was stored (a typed EventsNotStored says not)."""
    try:
        done = pusher.producer.flush().wait(timeout_ms)
    except EventsNotStored:
        return False
    except Exception as error:  # noqa: BLE001 - judged: anything else is a crash
        tally.found("crashed", f"flush: {type(error).__name__}: {error}")
        return False
    if done is not True:
        tally.found("crashed", f"the flush did not complete within {timeout_ms} ms")
    return done is True


def _judge_acknowledged(
    tally: Tally, driver: Driver, topic: str, pusher: Pusher, all_stored: bool
) -> None:
    """Every event whose push future gave an id is at that id with its bytes, once."""
    stored = pusher.outcomes(tally)
    if all_stored and len(stored) < len(pusher.futures):
        tally.found(
            "lost", "the flush said stored, push futures failed", len(pusher.futures) - len(stored)
        )
    events = read_topic(driver, topic, len(stored), quiet_ms=2000)
    prefix = 0
    while prefix in stored:
        prefix += 1
    judge_writers(tally, events, {pusher.writer: prefix})
    by_id = {event_id: metadata.get("i") for _, event_id, metadata, _ in events}
    for i, event_id in stored.items():
        if by_id.get(event_id) != i:
            tally.found(
                "lost", f"event {i} acknowledged as id {event_id}, there: {by_id.get(event_id)}"
            )


@pytest.mark.slow
def test_broker_restart_or_kill_keeps_acknowledged_events(
    own_broker: LocalBroker, campaign: Callable[[str], Tally], trial_count: Callable[[int], int]
) -> None:
    """Each trial: a thread pushes into a fresh topic; at a random instant the broker is
    stopped cleanly or killed with SIGKILL, and started again while the pushes go on. Every
    acknowledged event must be there once, at its id, with its bytes."""
    tally = campaign("kafka-broker-restart")
    rng = tally.rng
    driver = Driver(
        backend="kafka", options={"kafka": {"bootstrap.servers": own_broker.bootstrap_servers}}
    )
    for trial in range(trial_count(RESTART_TRIALS)):
        tally.trials += 1
        topic = f"restart-{tally.seed}-{trial}"
        driver.create_topic(topic, options={"num_partitions": 1})
        pusher = Pusher(driver, topic, trial)
        try:
            time.sleep(rng.uniform(0.1, 1.5))
            _take_down(own_broker, rng.random() < 0.5)
            own_broker.start()
            time.sleep(rng.uniform(0.0, 0.5))
        finally:
            pusher.stop()
        all_stored = _flush(tally, pusher, 180_000)
        _judge_acknowledged(tally, driver, topic, pusher, all_stored)
        pusher.producer.close()
    driver.close()
    conclude(tally)


@pytest.mark.slow
def test_broker_gone_for_good_is_reported_and_keeps_what_was_acknowledged(
    own_broker: LocalBroker, campaign: Callable[[str], Tally], trial_count: Callable[[int], int]
) -> None:
    """Each trial: events are pushed and flushed, then the broker goes away (stopped or
    killed) at a random instant of further pushes and does not come back: the flush covering
    the later events and a waiting pull must raise typed errors within their documented
    bounds (a silent ``True`` or ``None`` counts as lost). The broker is then started again
    only to check that every event acknowledged before it went is there."""
    tally = campaign("kafka-broker-gone")
    rng = tally.rng
    options: dict[str, Any] = {
        "kafka": {"bootstrap.servers": own_broker.bootstrap_servers},
        **GONE_OPTIONS,
    }
    for trial in range(trial_count(GONE_TRIALS)):
        tally.trials += 1
        driver = Driver(backend="kafka", options=options)
        topic = f"gone-{tally.seed}-{trial}"
        driver.create_topic(topic, options={"num_partitions": 1})
        consumer = driver.open_topic(topic).consumer("watcher")
        pusher = Pusher(driver, topic, trial)
        try:
            pusher.wait_stored(100)
            time.sleep(rng.uniform(0.0, 1.0))
            _take_down(own_broker, rng.random() < 0.5)
            time.sleep(rng.uniform(0.0, 0.3))
        finally:
            pusher.stop()
        began = time.monotonic()
        if _flush(tally, pusher, 60_000) and len(pusher.outcomes(tally)) < len(pusher.futures):
            tally.found("lost", "the flush after the broker went away said every event was stored")
        _drain_then_expect_unreachable(tally, consumer, len(pusher.futures))
        if time.monotonic() - began > 45:
            tally.found(
                "crashed", f"the failure took {time.monotonic() - began:.0f} s to be reported"
            )
        own_broker.start()
        _judge_acknowledged(tally, driver, topic, pusher, all_stored=False)
        consumer.close()
        pusher.producer.close()
        driver.close()
    conclude(tally)


def _drain_then_expect_unreachable(tally: Tally, consumer: Any, at_most: int) -> None:
    """Pull what the consumer already fetched; then a pull must raise ``Unreachable``."""
    for _ in range(at_most + 1):
        try:
            event = consumer.pull().wait(20_000)
        except Unreachable:
            return
        except Exception as error:  # noqa: BLE001 - judged: anything else is a crash
            tally.found("crashed", f"pull: {type(error).__name__}: {error}")
            return
        if event is None:
            tally.found("lost", "a pull on a cluster gone away returned None without an error")
            return
    tally.found("crashed", "the consumer kept delivering events from a cluster gone away")
