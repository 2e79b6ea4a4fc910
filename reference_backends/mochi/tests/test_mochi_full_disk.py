"""A full disk: a failed write leaves the partition as it was; later events stay readable."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from diaspora_stream.api import Driver
from diaspora_stream.exceptions import Exception as DiasporaException
from mochi_service import RunningService, service_config

EVENT = 16 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (skipped where this process may not mount one)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _read_all(driver: Driver, topic: str, name: str) -> list[tuple[int, int, bytes]]:
    consumer = driver.open_topic(topic).consumer(name)
    events = []
    while (event := consumer.pull().wait(1500)) is not None:
        events.append((event.event_id, event.metadata["i"], bytes(event.data[0])))
    return events


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` but ``leave`` bytes with a file that can be removed."""
    ballast = disk / "ballast"
    with open(ballast, "wb", buffering=0) as file:
        try:
            while file.write(bytes(4096)):
                pass
        except OSError:
            pass
        file.truncate(ballast.stat().st_size - leave)
    return ballast


def test_events_acknowledged_after_a_full_disk_are_readable_before_and_after_a_restart(
    tmp_path: Path, small_disk: Path
) -> None:
    """The partition directory lives on a 2 MiB file system: a batch cut short by the full
    disk is refused and leaves nothing behind, and the events acknowledged once space is back
    are read back exactly, before and after a restart."""
    directory = tmp_path / "service"
    partitions = directory / "data" / "partitions"
    partitions.parent.mkdir(parents=True)
    partitions.symlink_to(small_disk, target_is_directory=True)
    running = RunningService(service_config(directory))
    try:
        driver = Driver(backend="mochi", options=running.options())
        driver.create_topic("full-disk")
        producer = driver.open_topic("full-disk").producer(batch_size=1)
        expected: list[tuple[int, bytes]] = []
        for i in range(4):
            producer.push({"i": i}, bytes([i]) * EVENT).wait(10_000)
            expected.append((i, bytes([i]) * EVENT))
        ballast = _fill(small_disk, EVENT // 2)  # the next batch is cut short by the disk
        failures = 0
        for i in range(4, 8):
            try:
                producer.push({"i": i}, bytes([i]) * EVENT).wait(10_000)
                expected.append((i, bytes([i]) * EVENT))
            except DiasporaException as error:
                assert "No space left on device" in str(error)
                failures += 1
        assert failures > 0
        ballast.unlink()
        for i in range(100, 164):
            producer.push({"i": i}, bytes([i]) * EVENT).wait(10_000)
            expected.append((i, bytes([i]) * EVENT))
        stored = _read_all(driver, "full-disk", "before-restart")
        assert [(i, data) for _, i, data in stored] == expected
        assert [event_id for event_id, _, _ in stored] == list(range(len(expected)))
        driver.close()
        running.stop()
        running.start()
        driver = Driver(backend="mochi", options=running.options())
        again = _read_all(driver, "full-disk", "after-restart")
        assert again == stored
        driver.close()
    finally:
        running.stop()
