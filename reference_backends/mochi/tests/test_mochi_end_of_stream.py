"""End of stream and consumer positions on the server: durable marks, atomic refusals, listed
names, and requests that try to abuse the new operations."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from diaspora_stream.api import Driver, PartitionCompleted, Position
from diaspora_stream.exceptions import Exception as DiasporaException
from mochi_service import RunningService
from raw_client import connect

from diaspora_stream_mochi.config import read_group_file
from diaspora_stream_mochi.protocol import receive_frame, send_frame
from diaspora_stream_mochi.server import MAX_CONSUMER_NAME

WAIT_MS = 10_000


def _ask(service: RunningService, header: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    with connect(service) as sock:
        send_frame(sock, header)
        header, payload = receive_frame(sock)
        return header, bytes(payload)


def _count(service: RunningService, topic: str) -> dict[str, Any]:
    return _ask(service, {"op": "count", "topic": topic, "partition": 0})[0]


def _topic(service: RunningService, name: str, **options: Any) -> Any:
    driver = Driver(backend="mochi", options=service.options())
    if not driver.topic_exists(name):
        driver.create_topic(name, options=options)
    return driver.open_topic(name)


def _events_until_sentinel(consumer: Any, limit: int = 10_000) -> list[Any]:
    """Pulled events up to and including the first sentinel."""
    events = []
    while len(events) < limit:
        event = consumer.pull().wait(WAIT_MS)
        assert event is not None, f"no sentinel within {WAIT_MS} ms after {len(events)} events"
        events.append(event)
        if event.event_id is None:
            return events
    raise AssertionError(f"no sentinel after {limit} events")


def test_marks_and_positions_survive_a_crash_of_both_members(
    make_service: Callable[..., RunningService],
) -> None:
    service = make_service(servers=2)
    topic = _topic(service, "durable-marks", num_partitions=4)
    assert [p["member"] for p in topic.partitions] == [0, 1, 0, 1]
    producer = topic.producer()
    for i in range(8):
        producer.push({"i": i}, b"%d" % i, partition=i % 4)
    producer.flush().wait(WAIT_MS)
    reader = topic.consumer("reader")
    for _ in range(8):
        reader.pull().wait(WAIT_MS).acknowledge()
    other = topic.consumer("other", targets=[3])
    other.pull().wait(WAIT_MS).acknowledge()
    topic.mark_complete(1)  # hosted by member 1
    topic.mark_complete(2)  # hosted by member 0
    service.kill()
    service.start()

    fresh = Driver(backend="mochi", options=service.options()).open_topic("durable-marks")
    assert fresh.consumer_names() == ["other", "reader"]
    assert fresh.acknowledged_positions("reader") == {0: 1, 1: 1, 2: 1, 3: 1}
    assert fresh.acknowledged_positions("other") == {3: 0}
    again = fresh.producer()
    for partition in (1, 2):
        with pytest.raises(PartitionCompleted, match=f"partition {partition} .* is complete"):
            again.push({"late": True}, partition=partition).wait(WAIT_MS)
    assert again.push({"i": 8}, partition=0).wait(WAIT_MS) == 2
    replay = fresh.consumer("replay", targets=[1, 2], start=Position.BEGINNING)
    pulled = [_events_until_sentinel(replay), _events_until_sentinel(replay)]
    for partition in (1, 2):
        mine = [e.event_id for run in pulled for e in run if e.partition_index == partition]
        assert mine == [0, 1, None]


def test_a_mark_among_pipelined_appends_keeps_exactly_the_accepted_events(
    mochi_service: RunningService,
) -> None:
    topic = _topic(mochi_service, "mark-in-flight")
    marker = _topic(mochi_service, "mark-in-flight")
    assert marker.consumer_names() == []  # its connection is open: the mark goes at once
    producer = topic.producer(batch_size=1)
    early = [producer.push({"i": i}, b"x" * 64) for i in range(50)]
    assert [future.wait(WAIT_MS) for future in early] == list(range(50))
    # Marked while this thread pushes: the batches in flight when the mark arrives are either
    # stored before it or refused, never stored after it.
    racing = [producer.push({"i": i}, b"x" * 64) for i in range(50, 350)]
    gate = racing[-1]
    marking = threading.Thread(target=lambda: (gate.wait(WAIT_MS), marker.mark_complete(0)))
    marking.start()
    racing += [producer.push({"i": i}, b"x" * 64) for i in range(350, 3000)]
    marking.join()
    late = producer.push({"late": True})
    accepted = list(range(50))
    for future in racing:
        try:
            accepted.append(future.wait(WAIT_MS))
        except PartitionCompleted:
            pass
    with pytest.raises(PartitionCompleted):
        late.wait(WAIT_MS)
    assert accepted == list(range(len(accepted))), "accepted ids are not dense"
    consumer = topic.consumer("after-mark")
    events = _events_until_sentinel(consumer)
    assert [event.event_id for event in events] == [*accepted, None]
    assert topic.partitions[0]  # the handle still answers after the refusals


def test_memory_partitions_complete_too(mochi_service: RunningService) -> None:
    topic = _topic(mochi_service, "memory-marks", type="memory", num_partitions=2)
    producer = topic.producer()
    for i in range(4):
        producer.push({"i": i}, b"m", partition=i % 2)
    producer.mark_complete()
    with pytest.raises(PartitionCompleted):
        producer.push({"late": True}, partition=1).wait(WAIT_MS)
    events = list(topic.consumer("memory-reader").events(timeout_ms=-1))
    assert sorted(event.metadata["i"] for event in events) == [0, 1, 2, 3]


def test_consumer_names_of_more_than_a_frame_header_are_listed(
    mochi_service: RunningService,
) -> None:
    topic = _topic(mochi_service, "many-names")
    assert topic.producer().push({"i": 0}).wait(WAIT_MS) == 0
    # Together more than the 1 MiB a frame header may hold: the names travel in the payload.
    names = [f"{index:04d}" + "n" * (MAX_CONSUMER_NAME - 4) for index in range(260)]
    with connect(mochi_service) as sock:
        for name in names:
            send_frame(
                sock,
                {
                    "op": "ack",
                    "topic": "many-names",
                    "partition": 0,
                    "consumer": name,
                    "event_id": 0,
                },
            )
            assert receive_frame(sock)[0] == {"ok": True}
    assert topic.consumer_names() == names
    assert topic.acknowledged_positions(names[-1]) == {0: 0}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"op": "mark_complete", "topic": "no-such-topic", "partition": 0}, "does not exist"),
        ({"op": "mark_complete", "topic": "hostile", "partition": 1}, "out of range"),
        ({"op": "mark_complete", "topic": "hostile", "partition": -1}, ">= 0"),
        ({"op": "mark_complete", "topic": "hostile", "partition": "0"}, "integer"),
        ({"op": "mark_complete", "topic": "hostile", "partition": True}, "integer"),
        ({"op": "mark_complete", "topic": ["hostile"], "partition": 0}, "'topic' must be a str"),
        ({"op": "mark_complete", "partition": 0}, "'topic' must be a str"),
        ({"op": "consumer_names", "topic": "no-such-topic"}, "does not exist"),
        ({"op": "consumer_names", "topic": None}, "'topic' must be a str"),
        ({"op": "count", "topic": "hostile", "partition": 2**64 - 1}, "out of range"),
        (
            {"op": "ack", "topic": "hostile", "partition": 0, "consumer": "c", "event_id": 1},
            "cannot acknowledge event 1: the partition holds 1 event(s)",
        ),
        (
            {"op": "ack", "topic": "hostile", "partition": 0, "consumer": "c", "event_id": -1},
            ">= 0",
        ),
        (
            {"op": "ack", "topic": "hostile", "partition": 9, "consumer": "c", "event_id": 0},
            "out of range",
        ),
        (
            {"op": "ack", "topic": "elsewhere", "partition": 0, "consumer": "c", "event_id": 0},
            "does not exist",
        ),
        (
            {
                "op": "ack",
                "topic": "hostile",
                "partition": 0,
                "consumer": "é" * (MAX_CONSUMER_NAME // 2 + 1),
                "event_id": 0,
            },
            f"consumer name of more than {MAX_CONSUMER_NAME} bytes",
        ),
        (
            {"op": "ack", "topic": "hostile", "partition": 0, "consumer": 7, "event_id": 0},
            "'consumer' must be a str",
        ),
        (
            {"op": "load_acks", "topic": "hostile", "consumer": "x" * (MAX_CONSUMER_NAME + 1)},
            "consumer name of more than",
        ),
    ],
)
def test_hostile_requests_get_an_error_and_change_nothing(
    mochi_service: RunningService, header: dict[str, Any], message: str
) -> None:
    topic = _topic(mochi_service, "hostile")
    if topic.consumer_names() == [] and _count(mochi_service, "hostile")["count"] == 0:
        assert topic.producer().push({"i": 0}).wait(WAIT_MS) == 0
    answer, _ = _ask(mochi_service, header)
    assert answer["ok"] is False
    assert message in answer["error"]
    assert _ask(mochi_service, {"op": "ping"})[0]["ok"] is True
    assert topic.consumer_names() == []
    assert _count(mochi_service, "hostile") == {"ok": True, "count": 1, "complete": False}


def test_marking_needs_the_access_token(mochi_service: RunningService) -> None:
    topic = _topic(mochi_service, "token-marks")
    host, port = read_group_file(mochi_service.config.group_file)[0].host_port
    for first in (
        {"op": "mark_complete", "topic": "token-marks", "partition": 0},
        {"op": "hello", "token": "0" * 64},
    ):
        with socket.create_connection((host, port), timeout=10) as sock:
            send_frame(sock, first)
            answer = receive_frame(sock)[0]
            assert answer["ok"] is False and "access denied" in answer["error"]
            with pytest.raises((EOFError, OSError)):  # closed: nothing more is read
                send_frame(sock, {"op": "mark_complete", "topic": "token-marks", "partition": 0})
                receive_frame(sock)
    assert topic.producer().push({"still": "open"}).wait(WAIT_MS) == 0


def test_marking_twice_is_harmless_and_seeking_replays(mochi_service: RunningService) -> None:
    topic = _topic(mochi_service, "twice")
    producer = topic.producer()
    for i in range(3):
        producer.push({"i": i})
    producer.mark_complete()
    topic.mark_complete(0)
    consumer = topic.consumer("twice-reader")
    assert [e.event_id for e in _events_until_sentinel(consumer)] == [0, 1, 2, None]
    consumer.seek({0: 1})
    assert [e.event_id for e in _events_until_sentinel(consumer)] == [1, 2, None]
    with pytest.raises(DiasporaException, match="holds 3 event"):
        consumer.seek({0: 4})


def test_topic_info_lists_the_consumer_names_of_a_mochi_topic(
    mochi_service: RunningService,
) -> None:
    topic = _topic(mochi_service, "ctl-names", num_partitions=2)
    producer = topic.producer()
    for i in range(5):
        producer.push({"i": i}, partition=i % 2)
    producer.flush().wait(WAIT_MS)
    worker = topic.consumer("worker", targets=[0])
    for _ in range(2):
        worker.pull().wait(WAIT_MS).acknowledge()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "diaspora_stream.ctl",
            "topic",
            "info",
            "--driver",
            "mochi",
            "--driver.group_file",
            mochi_service.group_file,
            "--name",
            "ctl-names",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["consumers_listed"] is True
    assert report["consumers"] == {
        "worker": [
            {"partition": 0, "consumed": 2, "events": 3, "next": 2},
            {"partition": 1, "consumed": 0, "events": 2, "next": 0},
        ]
    }
