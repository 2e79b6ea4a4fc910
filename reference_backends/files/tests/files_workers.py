"""Child processes of the files backend tests (run as ``python files_workers.py MODE ...``).

* ``multiwriter ROOT TOPIC WRITER THREADS BATCHES SEED GO_FILE``: prints ``ready``, waits for
  ``GO_FILE`` to exist, then THREADS threads each append BATCHES batches of 1-5 records to
  partition 0; prints one JSON line: ``[[thread, seq, first_id, count], ...]``.
* ``crashwriter ROOT TOPIC SEED``: appends batches forever to partition 0; record *i* has the
  content given by :func:`crash_record`; after each append returns, prints the number of records
  known to be stored (flushed), so the parent can kill it with SIGKILL at any moment.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time

from diaspora_stream.backend.log import AppendRecord

from diaspora_stream_files import FilesDriver


def writer_record(writer: int, thread: int, seq: int, position: int) -> tuple[bytes, bytes]:
    """Metadata and data of one record of the multi-writer test (data derived from metadata)."""
    metadata = b"%d %d %d %d" % (writer, thread, seq, position)
    length = (writer * 7 + thread * 13 + seq * 31 + position * 101) % 300
    data = (metadata + b"|") * (length // (len(metadata) + 1) + 1)
    return metadata, data[:length]


def crash_record(event_id: int) -> tuple[bytes, bytes]:
    """Metadata and data of record ``event_id`` of the crash test."""
    metadata = b"event-%d" % event_id + b"." * (event_id % 23)
    length = 0 if event_id % 5 == 0 else (event_id * 7919) % 3000
    data = (event_id.to_bytes(8, "little") * (length // 8 + 1))[:length]
    return metadata, data


def _segments(data: bytes, rng: random.Random) -> tuple[memoryview, ...]:
    """Split ``data`` into 1-3 segments, sometimes with an empty one."""
    view = memoryview(data)
    if len(data) < 2 or rng.random() < 0.3:
        return (view,)
    cut = rng.randrange(1, len(data))
    return (view[:cut], memoryview(b""), view[cut:])


def multiwriter(
    root: str, topic: str, writer: int, threads: int, batches: int, seed: int, go: str
) -> None:
    """Run the multi-writer child (see the module docstring)."""
    handle = FilesDriver({"root_path": root}).open_topic(topic)
    results: list[list[int]] = []
    lock = threading.Lock()

    def run(thread: int) -> None:
        rng = random.Random(seed * 1000 + thread)
        mine: list[list[int]] = []
        for seq in range(batches):
            count = rng.randint(1, 5)
            records = []
            for position in range(count):
                metadata, data = writer_record(writer, thread, seq, position)
                records.append(AppendRecord(metadata, _segments(data, rng), len(data)))
            first = handle.append(0, records)
            mine.append([thread, seq, first, count])
        with lock:
            results.extend(mine)

    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    workers = [threading.Thread(target=run, args=(thread,)) for thread in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    handle.close()
    print(json.dumps(results), flush=True)


def crashwriter(root: str, topic: str, seed: int) -> None:
    """Run the crash-test child (see the module docstring); never returns."""
    handle = FilesDriver({"root_path": root}).open_topic(topic)
    rng = random.Random(seed)
    stored = handle.event_count(0)
    print(stored, flush=True)
    while True:
        count = rng.randint(1, 5)
        records = []
        for event_id in range(stored, stored + count):
            metadata, data = crash_record(event_id)
            records.append(AppendRecord(metadata, _segments(data, rng), len(data)))
        first = handle.append(0, records)
        if first != stored:
            print(f"error: expected first id {stored}, got {first}", flush=True)
            sys.exit(1)
        stored += count
        print(stored, flush=True)


def main() -> None:
    """Dispatch on the mode given as first argument."""
    mode, *args = sys.argv[1:]
    if mode == "multiwriter":
        root, topic, writer, threads, batches, seed, go = args
        multiwriter(root, topic, int(writer), int(threads), int(batches), int(seed), go)
    elif mode == "crashwriter":
        root, topic, seed = args
        crashwriter(root, topic, int(seed))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
