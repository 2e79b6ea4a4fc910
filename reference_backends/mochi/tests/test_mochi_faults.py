"""Fault tests: a server killed during production, a consumer killed, concurrent producers."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from diaspora_stream.api import Driver
from mochi_children import output_lines, read_all, spawn, wait_for
from mochi_service import RunningService


def test_kill_server_during_production_keeps_every_acknowledged_event_once(
    make_service: Callable[..., RunningService], tmp_path: Path
) -> None:
    service = make_service()
    driver = Driver(backend="mochi", options=service.options())
    driver.create_topic("crash")
    out = tmp_path / "produced.txt"
    child = spawn("producer", service.group_file, "crash", 1, 1_000_000, out)
    try:
        wait_for(lambda: len(output_lines(out)) >= 400, "400 acknowledged events")
        service.kill()
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    lines = output_lines(out)
    assert lines[-1].startswith("failed"), lines[-1]
    assert "group file" in lines[-1] and service.group_file in lines[-1]
    acknowledged = dict(tuple(map(int, line.split())) for line in lines[:-1])
    service.start()
    fresh = Driver(backend="mochi", options=service.options())
    events = read_all(fresh, "crash")
    by_id = {event_id: (metadata, data) for event_id, metadata, data in events}
    assert [event_id for event_id, _, _ in events] == list(range(len(events)))
    seen = [metadata["i"] for _, metadata, _ in events]
    assert len(seen) == len(set(seen)), "an event is stored twice"
    for i, event_id in acknowledged.items():
        assert by_id[event_id] == ({"writer": 1, "i": i}, b"1:%d" % i)
    # The restarted server takes new events after the recovered ones.
    producer = fresh.open_topic("crash").producer()
    assert producer.push({"after": True}, b"x").wait(10_000) == len(events)


def test_killed_consumer_resumes_after_its_acknowledgement_across_a_server_restart(
    make_service: Callable[..., RunningService], tmp_path: Path
) -> None:
    service = make_service()
    driver = Driver(backend="mochi", options=service.options())
    driver.create_topic("resume")
    producer = driver.open_topic("resume").producer(batch_size=16)
    for i in range(300):
        producer.push({"i": i}, b"%d" % i)
    producer.flush().wait()
    out = tmp_path / "consumer.txt"
    child = spawn("consumer", service.group_file, "resume", "worker", 99, out)
    try:
        wait_for(lambda: bool(output_lines(out)), "the consumer's acknowledgement")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert output_lines(out) == ["acked 99"]
    service.stop()
    service.start()
    again = Driver(backend="mochi", options=service.options())
    event = again.open_topic("resume").consumer("worker").pull().wait(10_000)
    assert event is not None
    assert (event.event_id, event.metadata) == (100, {"i": 100})
    # The driver made before the restart finds the member's new address in the group file.
    assert producer.push({"i": 300}, b"300").wait(10_000) == 300


def test_several_producer_processes_into_one_partition(
    mochi_service: RunningService, tmp_path: Path
) -> None:
    driver = Driver(backend="mochi", options=mochi_service.options())
    topic = f"shared-{os.getpid()}"
    driver.create_topic(topic)
    outs = [tmp_path / f"writer-{writer}.txt" for writer in range(3)]
    children = [
        spawn("producer", mochi_service.group_file, topic, w, 200, outs[w]) for w in range(3)
    ]
    for child in children:
        assert child.wait(timeout=120) == 0
    ids: dict[int, tuple[int, int]] = {}
    for writer, out in enumerate(outs):
        lines = output_lines(out)
        assert lines[-1] == "done"
        pairs = [tuple(map(int, line.split())) for line in lines[:-1]]
        assert [i for i, _ in pairs] == list(range(200))
        assert [event_id for _, event_id in pairs] == sorted(event_id for _, event_id in pairs)
        for i, event_id in pairs:
            assert event_id not in ids
            ids[event_id] = (writer, i)
    assert sorted(ids) == list(range(600))
    for event_id, metadata, data in read_all(driver, topic):
        writer, i = ids[event_id]
        assert metadata == {"writer": writer, "i": i}
        assert data == b"%d:%d" % (writer, i)
