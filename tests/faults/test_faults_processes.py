"""Campaigns: producers and consumers killed with SIGKILL at random instants, several writer
processes at once, on every backend that runs across processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from api_workers import event_content
from children import Child, children, last_number
from fault_campaign import PROCESS_BACKENDS, Tally, conclude
from judge import judge_writers, read_topic

from diaspora_stream.api import Driver

#: Trials per backend (before ``$DIASPORA_FAULTS_SCALE``): kafka clients start slowly.
PRODUCER_TRIALS = {"files": 6, "mochi": 5, "kafka": 3}
CONSUMER_TRIALS = {"files": 6, "mochi": 5, "kafka": 3}
#: How long nothing more must come before a topic is deemed read whole (ms): a kafka fetch
#: may pause longer than a local read.
QUIET_MS = {"kafka": 2000}
#: Events pushed before each consumer trial.
CONSUMER_EVENTS = 300


def _crashed(tally: Tally, child: Child, what: str) -> None:
    tally.found("crashed", f"{what} exited with {child.process.returncode}: {child.stderr_tail()}")


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
@pytest.mark.slow
def test_sigkill_producers_among_several_writers(
    backend: str,
    campaign: Callable[[str], Tally],
    backend_options: Callable[[str], dict[str, Any]],
    trial_count: Callable[[int], int],
) -> None:
    """Each trial: 2-3 writer processes push into one 2-partition topic; a random non-empty
    subset is killed at random instants, the others finish. Every flushed event must be stored
    once with its bytes."""
    tally = campaign(f"{backend}-sigkill-producers")
    rng = tally.rng
    options = backend_options(backend)
    driver = Driver(backend=backend, options=options)
    for trial in range(trial_count(PRODUCER_TRIALS[backend])):
        tally.trials += 1
        topic = f"producers-{tally.seed}-{trial}"
        driver.create_topic(topic, options={"num_partitions": 2})
        writers = rng.randint(2, 3)
        victims = set(rng.sample(range(writers), rng.randint(1, writers)))
        with children() as spawn:
            started = [
                spawn(
                    "producer",
                    backend,
                    options,
                    topic,
                    w,
                    rng.randint(300, 1500),
                    rng.randrange(1 << 30),
                )
                for w in range(writers)
            ]
            for child in started:
                child.wait_for(lambda lines: "ready" in lines)  # an early exit is judged below
            delays = sorted((rng.uniform(0.0, 1.0), w) for w in victims)
            begin = time.monotonic()
            for delay, w in delays:
                time.sleep(max(0.0, begin + delay - time.monotonic()))
                started[w].kill()
            flushed = {}
            for w, child in enumerate(started):
                code = child.finish()
                if code != 0 and not (w in victims and child.killed):
                    _crashed(tally, child, f"writer {w}")
                flushed[w] = last_number(child.lines, "flushed") or 0
        events = read_topic(driver, topic, sum(flushed.values()), QUIET_MS.get(backend, 300))
        judge_writers(tally, events, flushed)
    driver.close()
    conclude(tally)


def _judge_consumer_run(tally: Tally, child: Child, allowed: range) -> range:
    """Count what the killed consumer child got wrong, given the ids it was ``allowed`` to
    resume at; the ids the next consumer may resume at."""
    lines = child.lines
    for line in lines:
        if line.startswith("bad"):
            tally.found("torn", line)
    delivered = [int(line.split()[1]) for line in lines if line.startswith("acking")]
    tally.events += len(delivered)
    if not delivered:
        return allowed
    _check_resume(tally, delivered[0], allowed)
    acked = last_number(lines, "acked")
    if acked == delivered[-1]:
        return range(acked + 1, acked + 2)
    # Killed during the last acknowledgement: it may or may not have been stored.
    return range(delivered[-1], delivered[-1] + 2)


def _check_resume(tally: Tally, first: int, allowed: range) -> None:
    if first < allowed.start:
        tally.found("duplicated", f"resumed at {first}, acknowledged up to {allowed.start - 1}")
    elif first >= allowed.stop:
        tally.found("lost", f"resumed at {first}, expected one of {list(allowed)}")


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_sigkill_consumers_resume_after_their_acknowledgement(
    backend: str,
    campaign: Callable[[str], Tally],
    backend_options: Callable[[str], dict[str, Any]],
    trial_count: Callable[[int], int],
) -> None:
    """Each trial: more events are pushed, a consumer process of a fixed name acknowledges
    every event it pulls and is killed at a random instant; the next one must resume right
    after the last acknowledgement (neither skipping nor repeating events)."""
    tally = campaign(f"{backend}-sigkill-consumers")
    rng = tally.rng
    options = backend_options(backend)
    driver = Driver(backend=backend, options=options)
    topic = f"consumers-{tally.seed}"
    driver.create_topic(topic, options={"num_partitions": 1})
    producer = driver.open_topic(topic).producer()
    pushed = 0
    allowed = range(0, 1)
    for _ in range(trial_count(CONSUMER_TRIALS[backend])):
        tally.trials += 1
        for i in range(pushed, pushed + CONSUMER_EVENTS):
            producer.push(*event_content(0, i))
        pushed += CONSUMER_EVENTS
        producer.flush().wait()
        with children() as spawn:
            child = spawn("consumer", backend, options, topic, "victim")
            child.wait_for(lambda lines: "ready" in lines)  # an early exit is judged below
            time.sleep(rng.uniform(0.0, 1.0))
            child.kill()
            if not child.killed:
                _crashed(tally, child, "consumer")
        allowed = _judge_consumer_run(tally, child, allowed)
    # A last consumer of the name resumes where the victims left off and reads the rest
    # (one more event, so that there is a rest even when the victims read everything).
    producer.push(*event_content(0, pushed))
    pushed += 1
    producer.flush().wait()
    consumer = driver.open_topic(topic).consumer("victim", targets=[0])
    rest = []
    while (not rest or rest[-1] < pushed - 1) and (event := consumer.pull().wait(10_000)):
        data = b"".join(bytes(view) for view in event.data)
        if (event.metadata, data) != event_content(0, event.event_id):
            tally.found("torn", f"event {event.event_id} read back wrong after the kills")
        rest.append(event.event_id)
    if rest:
        _check_resume(tally, rest[0], allowed)
        if rest != list(range(rest[0], pushed)):
            tally.found("lost", f"after the kills, ids {rest[0]}.. are not dense up to {pushed}")
    elif allowed.start < pushed:
        tally.found("lost", f"nothing after the kills, expected ids from {allowed.start}")
    tally.events += len(rest)
    consumer.close()
    producer.close()
    driver.close()
    conclude(tally)
