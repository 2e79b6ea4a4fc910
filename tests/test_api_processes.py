"""Real processes through the public API on the files backend: several producer processes
appending to one partition, and a producer killed with SIGKILL in the middle of its pushes."""

from __future__ import annotations

import random
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from api_helpers import PYTHON, subprocess_env

from diaspora_stream.api import Driver

_PRODUCER = textwrap.dedent(
    """
    import sys
    from diaspora_stream.api import Driver
    root, writer, count, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    topic = Driver(backend="files", options={"root_path": root}).open_topic("shared")
    producer = topic.producer(f"writer-{writer}", batch_size=batch)
    futures = []
    for i in range(count):
        data = f"{writer}:{i}".encode() * (i % 7)
        futures.append(producer.push({"writer": writer, "i": i}, data))
        if i % 50 == 49:
            producer.flush().wait()
            print("flushed", i + 1, flush=True)
    producer.flush().wait()
    print("ids", *[future.wait() for future in futures], flush=True)
    """
)


def _read_all(root: Path) -> list[tuple[int, dict, bytes]]:
    consumer = (
        Driver(backend="files", options={"root_path": str(root)})
        .open_topic("shared")
        .consumer("check")
    )
    events = []
    while (event := consumer.pull().wait(timeout_ms=0)) is not None:
        events.append((event.event_id, event.metadata, bytes(event.data[0])))
    return events


def _check_event(metadata: dict, data: bytes) -> None:
    writer, i = metadata["writer"], metadata["i"]
    assert data == f"{writer}:{i}".encode() * (i % 7), metadata


def test_producer_processes_share_a_partition(tmp_path: Path) -> None:
    Driver(backend="files", options={"root_path": str(tmp_path)}).create_topic("shared")
    writers, count = 4, 300
    children = [
        subprocess.Popen(
            [PYTHON, "-c", _PRODUCER, str(tmp_path), str(w), str(count), str(1 + w * 7)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        for w in range(writers)
    ]
    reported: dict[int, list[int]] = {}
    for writer, child in enumerate(children):
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        ids_line = next(line for line in out.splitlines() if line.startswith("ids"))
        reported[writer] = [int(x) for x in ids_line.split()[1:]]
    events = _read_all(tmp_path)
    assert [event_id for event_id, _, _ in events] == list(range(writers * count))
    by_writer: dict[int, list[tuple[int, int]]] = {}
    for event_id, metadata, data in events:
        _check_event(metadata, data)
        by_writer.setdefault(metadata["writer"], []).append((metadata["i"], event_id))
    for writer in range(writers):
        order = by_writer[writer]
        assert [i for i, _ in order] == list(range(count)), f"writer {writer} order"
        # The ids the push futures gave are the ids the events really have.
        assert [event_id for _, event_id in order] == reported[writer]


@pytest.mark.parametrize("seed", range(4))
def test_producer_killed_leaves_every_flushed_event(tmp_path: Path, seed: int) -> None:
    Driver(backend="files", options={"root_path": str(tmp_path)}).create_topic("shared")
    child = subprocess.Popen(
        [PYTHON, "-c", _PRODUCER, str(tmp_path), "0", "1000000", "16"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    assert child.stdout is not None
    flushed = 0
    deadline = time.monotonic() + 30
    target = random.Random(seed).randint(200, 3000)
    while flushed < target and time.monotonic() < deadline:
        line = child.stdout.readline()
        if line.startswith("flushed"):
            flushed = int(line.split()[1])
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert flushed >= target, "the producer did not make progress"
    events = _read_all(tmp_path)
    assert len(events) >= flushed  # every event whose flush completed is there
    assert [event_id for event_id, _, _ in events] == list(range(len(events)))
    for position, (_, metadata, data) in enumerate(events):
        assert metadata["i"] == position
        _check_event(metadata, data)  # no partial event is visible
    # The next writer repairs any torn tail and continues with the next id.
    producer = (
        Driver(backend="files", options={"root_path": str(tmp_path)})
        .open_topic("shared")
        .producer("after")
    )
    assert producer.push({"writer": 9, "i": 0}).wait() == len(events)
