"""Several processes appending to one partition, and writers killed with SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from diaspora_stream.backend.log import AppendRecord, TopicConfig
from files_workers import crash_record, writer_record

from diaspora_stream_files import FilesDriver, FilesTopic

WORKERS = str(Path(__file__).with_name("files_workers.py"))


def start(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKERS, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_everything(topic: FilesTopic, partition: int = 0) -> list[tuple[bytes, bytes]]:
    stored = topic.read(partition, 0, 1 << 30)
    assert [record.event_id for record in stored] == list(range(len(stored)))
    result = []
    for record in stored:
        buffer = bytearray(record.data_size)
        topic.read_data(partition, record, [(0, record.data_size)], [memoryview(buffer)])
        result.append((bytes(record.metadata), bytes(buffer)))
    return result


def check_index_is_contiguous(directory: Path) -> None:
    """Every record starts where the previous ends: no write overlapped another."""
    raw = (directory / "index").read_bytes()
    assert len(raw) % 32 == 0
    metadata_end = data_end = 0
    for offset in range(0, len(raw), 32):
        metadata_offset, metadata_size, data_offset, data_size = (
            int.from_bytes(raw[offset + 8 * i : offset + 8 * i + 8], "little") for i in range(4)
        )
        assert (metadata_offset, data_offset) == (metadata_end, data_end), offset // 32
        metadata_end += metadata_size
        data_end += data_size
    assert (directory / "metadata").stat().st_size == metadata_end
    assert (directory / "data").stat().st_size == data_end


def test_processes_and_threads_append_to_one_partition(tmp_path: Path) -> None:
    processes, threads, batches = 4, 2, 300
    root = str(tmp_path / "root")
    driver = FilesDriver({"root_path": root})
    driver.create_topic("shared", TopicConfig(num_partitions=1))
    go = tmp_path / "go"
    children = [
        start("multiwriter", root, "shared", writer, threads, batches, writer + 1, go)
        for writer in range(processes)
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr
    reader = driver.open_topic("shared")
    go.touch()
    observed = []
    while any(child.poll() is None for child in children):
        observed.append(reader.event_count(0))
    outputs = []
    for child in children:
        stdout, stderr = child.communicate(timeout=60)
        assert child.returncode == 0, stderr
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))

    got = read_everything(reader)
    expected_total = sum(count for output in outputs for *_, count in output)
    assert len(got) == expected_total
    check_index_is_contiguous(Path(root) / "shared" / "partitions" / "00000000")
    seen: set[bytes] = set()
    boundaries = {len(got)}
    for writer, output in enumerate(outputs):
        assert len(output) == threads * batches
        for thread, seq, first, count in output:
            boundaries.add(first)
            for position in range(count):
                metadata, data = writer_record(writer, thread, seq, position)
                assert got[first + position] == (metadata, data), (writer, thread, seq)
                seen.add(metadata)
    assert len(seen) == len(got)  # nothing missing or duplicated
    # Order of each writer thread preserved: its batches have increasing ids.
    for output in outputs:
        for thread in range(threads):
            firsts = [first for t, _, first, _ in sorted(output, key=lambda r: r[1]) if t == thread]
            assert firsts == sorted(firsts)
    # A reader in another process never saw part of an append, and saw the topic grow: at
    # least one state between empty and complete (a loaded machine gives the reader few turns).
    assert len(set(observed) - {0, len(got)}) >= 1
    assert set(observed) <= boundaries | {0}


def test_sigkill_during_appends(tmp_path: Path) -> None:
    root = str(tmp_path / "root")
    FilesDriver({"root_path": root}).create_topic("crash", TopicConfig(num_partitions=1))
    directory = Path(root) / "crash" / "partitions" / "00000000"
    rng = random.Random(2024)
    torn_rounds = 0
    for round_number in range(8):
        child = start("crashwriter", root, "crash", round_number)
        assert child.stdout is not None
        first_line = child.stdout.readline()
        assert first_line.strip().isdigit(), child.stderr.read() if child.stderr else ""
        time.sleep(rng.uniform(0.02, 0.3))
        child.send_signal(signal.SIGKILL)
        stdout, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        lines = (first_line + stdout).splitlines(keepends=True)
        reported = [int(line) for line in lines if line.endswith("\n") and line.strip().isdigit()]
        assert not any(line.startswith("error") for line in lines), lines
        acknowledged = reported[-1]

        sizes = [(directory / name).stat().st_size for name in ("index", "metadata", "data")]
        topic = FilesDriver({"root_path": root}).open_topic("crash")
        got = read_everything(topic)
        # Every record whose append returned is there; at most the killed batch more.
        assert acknowledged <= len(got) <= acknowledged + 5
        for event_id, (metadata, data) in enumerate(got):
            assert (metadata, data) == crash_record(event_id), event_id
        complete_index = len(got) * 32
        if sizes[0] != complete_index or _ends(directory, len(got)) != tuple(sizes[1:]):
            torn_rounds += 1
        # A new writer continues with the next dense id (repairing any torn tail).
        metadata, data = crash_record(len(got))
        assert topic.append(0, [AppendRecord(metadata, (memoryview(data),), len(data))]) == len(got)
        check_index_is_contiguous(directory)
        topic.close()
    final = FilesDriver({"root_path": root}).open_topic("crash")
    got = read_everything(final)
    assert all(pair == crash_record(i) for i, pair in enumerate(got))
    print(f"{torn_rounds} of 8 kills left a torn tail; {len(got)} records")


def _ends(directory: Path, count: int) -> tuple[int, int]:
    """Metadata and data ends given by the last of ``count`` complete index records."""
    if not count:
        return 0, 0
    with open(directory / "index", "rb") as stream:
        stream.seek((count - 1) * 32)
        raw = stream.read(32)
    values = [int.from_bytes(raw[i : i + 8], "little") for i in range(0, 32, 8)]
    return values[0] + values[1], values[2] + values[3]


@pytest.mark.parametrize("use_file_locking", [True, False])
def test_new_process_sees_appends(tmp_path: Path, use_file_locking: bool) -> None:
    """Topics persist: a process that starts later reads what another appended."""
    root = str(tmp_path / "root")
    driver = FilesDriver({"root_path": root, "use_file_locking": use_file_locking})
    driver.create_topic("t", TopicConfig(num_partitions=1))
    driver.open_topic("t").append(0, [AppendRecord(b"hello", (memoryview(b"world"),), 5)])
    code = (
        "from diaspora_stream_files import FilesDriver\n"
        f"t = FilesDriver({{'root_path': {root!r}}}).open_topic('t')\n"
        "r = t.read(0, 0, 10)\n"
        "b = bytearray(r[0].data_size)\n"
        "t.read_data(0, r[0], [(0, len(b))], [memoryview(b)])\n"
        "print(len(r), bytes(r[0].metadata).decode(), b.decode())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "hello", "world"]
