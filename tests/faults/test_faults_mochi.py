"""Campaigns on the mochi service: ``kill -9`` of the server under producers, hostile frames."""

from __future__ import annotations

import os
import random
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from fault_campaign import Tally, conclude
from mochi_children import output_lines, read_all, spawn, wait_for
from mochi_service import RunningService, service_config
from raw_client import PREFIX, append_request, connect, frame_start

from diaspora_stream.api import Driver
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream_mochi.config import read_group_file

KILL_TRIALS = 4
FRAME_TRIALS = 80
#: A normal client checks the canary events after this many hostile frames.
CHECK_EVERY = 20


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    """A service of this campaign alone (it is killed and started again)."""
    running = RunningService(service_config(tmp_path / "service"))
    try:
        yield running
    finally:
        try:
            running.stop()
        except Exception:  # noqa: BLE001 - already gone: nothing left to stop
            pass


def _server_alive(running: RunningService) -> bool:
    try:
        os.kill(read_group_file(running.config.group_file)[0].pid, 0)
    except (OSError, ValueError):
        return False
    return True


@pytest.mark.slow
def test_server_kill9_keeps_acknowledged_events_exactly_once(
    service: RunningService,
    tmp_path: Path,
    campaign: Callable[[str], Tally],
    trial_count: Callable[[int], int],
) -> None:
    """Each trial: 1-2 producer processes push; the server is killed with SIGKILL after a
    random number of acknowledged events, then started again. Every acknowledged event must
    be there once, at the id it was acknowledged with, with its bytes."""
    tally = campaign("mochi-server-kill9")
    rng = tally.rng
    Driver(backend="mochi", options=service.options()).create_topic("crash")
    acknowledged: dict[tuple[int, int], int] = {}
    for trial in range(trial_count(KILL_TRIALS)):
        tally.trials += 1
        writers = [10 * trial + w for w in range(rng.randint(1, 2))]
        outs = {w: tmp_path / f"writer-{w}.txt" for w in writers}
        children = {
            w: spawn("producer", service.group_file, "crash", w, 10**6, outs[w]) for w in writers
        }
        try:
            wait_for(_written(list(outs.values()), rng.randint(1, 600)), "acknowledged events")
            service.kill()
            for w, child in children.items():
                child.wait(timeout=60)
                last = output_lines(outs[w])[-1:]
                if not (last and last[0].startswith("failed")):
                    tally.found("crashed", f"writer {w} ended with {child.returncode}: {last}")
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.kill()
                    child.wait()
        for w, out in outs.items():
            for line in output_lines(out):
                if not line.startswith(("failed", "done")):
                    i, event_id = map(int, line.split())
                    acknowledged[(w, i)] = event_id
        service.start()
        events = read_all(Driver(backend="mochi", options=service.options()), "crash", f"r{trial}")
        _judge_kill(tally, events, acknowledged)
    conclude(tally)


def _written(outs: list[Path], count: int) -> Callable[[], bool]:
    """Whether every child acknowledged an event and all wrote ``count`` lines together.

    Waiting for each one keeps the kill from landing before a slow child has even connected:
    its refused connection would say nothing about what the server keeps."""
    return lambda: (
        all(output_lines(out) for out in outs)
        and (sum(len(output_lines(out)) for out in outs) >= count)
    )


def _judge_kill(
    tally: Tally, events: list[tuple[int, dict, bytes]], acknowledged: dict[tuple[int, int], int]
) -> None:
    tally.events = len(acknowledged)
    if [event_id for event_id, _, _ in events] != list(range(len(events))):
        tally.found("torn", f"ids not dense: {len(events)} events")
    by_id = {event_id: (metadata, data) for event_id, metadata, data in events}
    stored = Counter((metadata.get("writer"), metadata.get("i")) for _, metadata, _ in events)
    twice = [key for key, count in stored.items() if count > 1]
    if twice:
        tally.found("duplicated", f"stored more than once: {twice[:10]}", len(twice))
    for (w, i), event_id in acknowledged.items():
        expected = ({"writer": w, "i": i}, b"%d:%d" % (w, i))
        if event_id not in by_id:
            tally.found("lost", f"writer {w} event {i} acknowledged as id {event_id}")
        elif by_id[event_id] != expected:
            tally.found("torn", f"id {event_id}: {by_id[event_id]!r:.100}, expected {expected}")


#: Operations (and non-operations) of the hostile frames with wrong types and values.
_FRAME_OPS = ["append", "read", "ack", "list_topics", "create_topic", "consumer_names", "", 7, None]


def _hostile_frame(rng: random.Random, topic: str) -> bytes:
    """The bytes of one hostile frame (or of something that is not a frame at all)."""
    kind = rng.randrange(6)
    if kind == 0:  # noise
        return rng.randbytes(rng.randint(1, 4096))
    if kind == 1:  # a prefix announcing huge lengths, then nothing
        return PREFIX.pack(rng.choice([2**32 - 1, 1 << 20, 0]), rng.choice([2**64 - 1, 1 << 40]))
    if kind == 2:  # a well-formed frame whose header holds wrong types and values
        header = {
            # Not mark_complete: a well-formed one would legitimately close the canary.
            "op": rng.choice(_FRAME_OPS),
            "topic": rng.choice([topic, 5, None, "", "../x", "x" * 5000]),
            "partition": rng.choice([0, -1, 2**63, "0", None, 1.5]),
            "count": rng.choice([0, 1, -1, 2**40, "1"]),
        }
        payload = rng.randbytes(rng.randint(0, 64))
        return frame_start(header, len(payload)) + payload
    header, payload = append_request(topic, rng.choice([0, 5, 1 << 30]))
    frame = bytearray(frame_start(header, len(payload)) + payload)
    if kind == 3:  # a valid-looking append with flipped bytes
        for _ in range(rng.randint(1, 8)):
            frame[rng.randrange(len(frame))] ^= 1 << rng.randrange(8)
        return bytes(frame)
    if kind == 4:  # cut short
        return bytes(frame[: rng.randrange(1, len(frame))])
    header["count"] = rng.choice([2, 1000, 2**32])  # counts that disagree with the tables
    return frame_start(header, len(payload)) + payload


def _send(service: RunningService, frame: bytes) -> None:
    """Send ``frame`` on an authenticated connection and read what comes back, if anything."""
    with connect(service, timeout=2.0) as sock:
        try:
            sock.sendall(frame)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
        except (TimeoutError, ConnectionError):
            pass  # the server may wait for more, or close at once: both are fine


def test_hostile_frames_neither_crash_the_server_nor_touch_stored_events(
    service: RunningService, campaign: Callable[[str], Tally], trial_count: Callable[[int], int]
) -> None:
    """Random noise, huge announced lengths, wrong types, flipped and cut appends, counts that
    disagree with their tables, on the canary topic itself: the server stays up and the canary
    events stay exactly as acknowledged."""
    tally = campaign("mochi-hostile-frames")
    rng = tally.rng
    driver = Driver(backend="mochi", options=service.options())
    driver.create_topic("canary")
    producer = driver.open_topic("canary").producer()
    canary: dict[int, bytes] = {}
    for trial in range(trial_count(FRAME_TRIALS)):
        tally.trials += 1
        data = rng.randbytes(rng.randint(1, 256))
        canary[producer.push({"canary": trial}, data).wait(10_000)] = data
        _send(service, _hostile_frame(rng, "canary"))
        if not _server_alive(service):
            tally.found("crashed", f"the server died after hostile frame {trial}")
            service.start()
        if trial % CHECK_EVERY == CHECK_EVERY - 1:
            _check_canary(tally, driver, canary, f"check-{trial}")
    _check_canary(tally, driver, canary, "final")
    tally.events = len(canary)
    conclude(tally)


def _read_past_foreign_records(
    tally: Tally, driver: Driver, name: str
) -> list[tuple[int, dict, bytes]]:
    """Every event of the canary topic. A raw append that the server accepted holds metadata
    the topic's serializer cannot read: its pull raises the library's error naming where it
    is stored, once, and the next pull goes on past it."""
    consumer = driver.open_topic("canary").consumer(name)
    events: list[tuple[int, dict, bytes]] = []
    foreign = 0
    while True:
        try:
            event = consumer.pull().wait(1500)
        except DiasporaException as error:
            foreign += 1
            if foreign > FRAME_TRIALS * 10:
                tally.found("lost", f"the consumer cannot get past a foreign record: {error}")
                break
            continue
        if event is None:
            break
        events.append((event.event_id, event.metadata, b"".join(map(bytes, event.data))))
    consumer.close()
    return events


def _check_canary(tally: Tally, driver: Driver, canary: dict[int, bytes], name: str) -> None:
    """Every acknowledged canary event is at its id with its bytes (hostile appends that the
    server accepted may sit between them)."""
    events = _read_past_foreign_records(tally, driver, name)
    by_id = {event_id: (metadata, data) for event_id, metadata, data in events}
    for event_id, data in canary.items():
        got = by_id.get(event_id)
        if got is None:
            tally.found("lost", f"canary event {event_id}")
        elif "canary" not in got[0] or got[1] != data:
            tally.found("torn", f"canary event {event_id} reads {orjson.dumps(got[0])[:80]!r}")
