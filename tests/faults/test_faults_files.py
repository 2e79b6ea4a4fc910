"""Campaigns on the files backend: corrupted partition files, a disk that fills up."""

from __future__ import annotations

import random
import shutil
import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from api_workers import event_content
from fault_campaign import Tally, conclude
from files_damage import (
    PARTITION,
    flip,
    make_directory,
    put,
    read_back,
    truncate,
    write_topic,
)
from judge import judge_events, read_topic
from small_disk import small_disk

from diaspora_stream.api import Driver, EventsNotStored, FutureFlushed, FutureUint
from diaspora_stream.api import Exception as DiasporaException

CORRUPTION_TRIALS = 300
DISK_TRIALS = 12
#: Most memory a read of these small topics may take, whatever the damage.
MEMORY_BOUND = 1 << 20


def _damage(rng: random.Random, partition: Path, files: list[str]) -> str:
    """Damage one file of ``partition`` at random; what was done."""
    name = rng.choice([name for name in files if (partition / name).is_file()] or files)
    path = partition / name
    if not path.is_file():
        return f"{name}: already a directory"
    size = path.stat().st_size
    kind = rng.randrange(10)
    if kind < 6 and size:
        offset = rng.randrange(size)
        flip(offset)(path)
        return f"{name}: bit flip at {offset}"
    if kind < 8 and name == "index" and size >= 8:
        offset = 8 * rng.randrange(size // 8)
        value = rng.choice([2**31, 2**63, 2**64 - 1, rng.randrange(1 << 16)])
        put(offset, value)(path)
        return f"index: u64 {value} at {offset}"
    if kind < 9:
        cut = rng.randint(0, max(0, size - 1))
        truncate(cut)(path)
        return f"{name}: truncated to {cut}"
    make_directory(path)
    return f"{name}: a directory"


def test_corrupted_files_give_typed_errors_or_right_bytes(
    tmp_path: Path, campaign: Callable[[str], Tally], trial_count: Callable[[int], int]
) -> None:
    """Each trial: a random small topic, one to three random damages (bit flips, huge or
    random index fields, truncations, a directory in place of a file), read back by a fresh
    driver. Any escape that is not the library's ``Exception`` or that allocates more than
    the topic could hold is a crash; with checksums (``integrity``), any wrong byte returned
    without an error is torn (without them, flipped bytes cannot be seen: only crashes count)."""
    tally = campaign("files-corruption")
    rng = tally.rng
    for trial in range(trial_count(CORRUPTION_TRIALS)):
        tally.trials += 1
        integrity = rng.random() < 0.5
        events = [event_content(trial, i) for i in range(rng.randint(1, 12))]
        pristine, work = tmp_path / f"pristine-{trial}", tmp_path / "work"
        write_topic(pristine, integrity, events)
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(pristine, work)
        files = ["index", "metadata", "data"] + (["checksums"] if integrity else [])
        done = [_damage(rng, work / PARTITION, files) for _ in range(rng.randint(1, 3))]
        tally.events += len(events)
        tracemalloc.start()
        try:
            got = read_back(work, integrity, len(events))
        except DiasporaException:
            got = []
        except Exception as error:  # noqa: BLE001 - judged: an untyped error is a crash
            tally.found("crashed", f"{done}: untyped {type(error).__name__}: {error}")
            got = []
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if peak > MEMORY_BOUND:
            tally.found("crashed", f"{done}: {peak} bytes allocated to read a tiny topic")
        if integrity and got != events[: len(got)]:
            tally.found("torn", f"{done}: wrong bytes returned without an error")
        shutil.rmtree(pristine)
    conclude(tally)


def test_a_full_disk_is_a_clear_error_and_loses_nothing_flushed(
    tmp_path: Path, campaign: Callable[[str], Tally], trial_count: Callable[[int], int]
) -> None:
    """Each trial: the disk is filled leaving a random amount of room, a producer pushes
    events of random sizes in random batches until pushes fail, and flushes; space comes back
    and more events are pushed. A flush covering refused events must raise ``EventsNotStored``
    naming the disk's error (a flush that says stored is a loss); every event whose push
    succeeded must be read back once with its bytes."""
    with small_disk(tmp_path / "disk") as disk:
        tally = campaign(f"files-full-disk-{disk.kind}")
        rng = tally.rng
        driver = Driver(backend="files", options={"root_path": str(disk.path / "root")})
        driver.create_topic("full", options={"num_partitions": 1})
        acknowledged: set[tuple[int, int]] = set()
        for trial in range(trial_count(DISK_TRIALS)):
            tally.trials += 1
            producer = driver.open_topic("full").producer(batch_size=rng.choice([1, 4, 32]))
            disk.fill(rng.randint(0, 64 * 1024))
            futures = [(trial, i, producer.push(*_big_event(trial, i))) for i in range(40)]
            _judge_flush(tally, producer.flush(), futures, acknowledged)
            disk.free()
            futures = [(trial, i, producer.push(*_big_event(trial, i))) for i in range(40, 50)]
            _judge_flush(tally, producer.flush(), futures, acknowledged)
            producer.close()
        events = read_topic(driver, "full", len(acknowledged), quiet_ms=300)
        judge_events(tally, events, acknowledged, _big_event)
        driver.close()
    conclude(tally)


def _big_event(writer: int, i: int) -> tuple[dict[str, int], bytes]:
    """Event ``i`` of trial ``writer``: 1-16 KiB of data, so that a few fill the room left."""
    length = 1024 * (1 + (writer * 7 + i * 5) % 16)
    return {"w": writer, "i": i}, struct.pack("<II", writer, i) * (length // 8)


def _judge_flush(
    tally: Tally,
    flush: FutureFlushed,
    futures: list[tuple[int, int, FutureUint]],
    acknowledged: set[tuple[int, int]],
) -> None:
    """Record the events stored; a flush that hides refused events, or an untyped error, is
    counted."""
    refused = 0
    for writer, i, future in futures:
        try:
            future.wait()
            acknowledged.add((writer, i))
        except DiasporaException:
            refused += 1
        except Exception as error:  # noqa: BLE001 - judged: an untyped error is a crash
            tally.found("crashed", f"push {i}: untyped {type(error).__name__}: {error}")
    try:
        said_stored = flush.wait() is True
    except EventsNotStored as error:
        said_stored = False
        cause = str(error.first_cause)
        if error.failed != refused or not any(
            words in cause for words in ("No space left", "File too large")
        ):
            tally.found("crashed", f"unclear flush error ({refused} refused): {error}")
    if said_stored and refused:
        tally.found("lost", f"the flush said stored while {refused} events were refused", refused)
