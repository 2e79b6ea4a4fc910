"""Raw baselines measured in the same run as the benchmarks (design.md §9).

For an event size ``S`` and a volume of bytes, each baseline moves the volume in chunks of whole
events of about 64 KiB (at least one event):

* ``file_write``: ``os.write`` into a new file of the benchmark's directory (no fsync, as the
  files backend's default ``buffered`` flush behaviour);
* ``file_read``: reading that file back with ``readinto`` (from the page cache, as the consumer
  benchmark right after the producer);
* ``tcp``: sending it through a loopback TCP connection to a receiving thread;
* ``memcpy``: copying it into a ``bytearray`` by slice assignment.

With ``repeat`` > 1 each baseline is the median of that many measurements, as the figures
it is compared with (one run of a baseline on a shared machine can be off by a third).
"""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time
import uuid
from dataclasses import dataclass

__all__ = ["Baselines", "loopback_tcp_mb_s", "measure_baselines"]

CHUNK_TARGET = 64 * 1024
MIN_VOLUME = 32 * 2**20
MAX_VOLUME = 256 * 2**20


@dataclass(frozen=True)
class Baselines:
    """MB/s (2**20 bytes per second) of each raw operation for one event size."""

    event_size: int
    volume: int
    file_write_mb_s: float
    file_read_mb_s: float
    tcp_mb_s: float
    memcpy_mb_s: float


def _chunk_size(event_size: int) -> int:
    size = max(1, event_size)
    return max(1, CHUNK_TARGET // size) * size


def _rate(volume: int, seconds: float) -> float:
    return volume / 2**20 / seconds if seconds > 0 else 0.0


def _file_write_read(directory: str, chunk: bytes, count: int) -> tuple[float, float]:
    path = os.path.join(directory, f"baseline-{uuid.uuid4().hex}")
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        try:
            start = time.perf_counter()
            for _ in range(count):
                os.write(fd, chunk)
            written = time.perf_counter() - start
        finally:
            os.close(fd)
        buffer = bytearray(len(chunk))
        with open(path, "rb", buffering=0) as stream:
            start = time.perf_counter()
            while stream.readinto(buffer):
                pass
            read = time.perf_counter() - start
    finally:
        os.unlink(path)
    return written, read


def _tcp(chunk: bytes, count: int) -> float:
    volume = len(chunk) * count
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        received = [0]

        def receive() -> None:
            connection, _ = server.accept()
            with connection:
                buffer = bytearray(1 << 20)
                while received[0] < volume:
                    size = connection.recv_into(buffer)
                    if not size:
                        break
                    received[0] += size

        thread = threading.Thread(target=receive, daemon=True)
        thread.start()
        with socket.create_connection(("127.0.0.1", port)) as client:
            start = time.perf_counter()
            for _ in range(count):
                client.sendall(chunk)
            thread.join(60)
            elapsed = time.perf_counter() - start
    if received[0] < volume:
        raise RuntimeError(f"loopback TCP baseline received {received[0]} of {volume} bytes")
    return elapsed


def _memcpy(chunk: bytes, count: int) -> float:
    source = memoryview(chunk)
    destination = bytearray(len(chunk))
    start = time.perf_counter()
    for _ in range(count):
        destination[:] = source
    return time.perf_counter() - start


def loopback_tcp_mb_s(event_size: int, volume: int) -> float:
    """MB/s of one run of the ``tcp`` baseline for events of ``event_size`` bytes (about
    ``volume`` bytes, clamped as in :func:`measure_baselines`): for a benchmark that measures
    it alternately with its own figure."""
    chunk = os.urandom(_chunk_size(event_size))
    count = max(1, min(MAX_VOLUME, max(MIN_VOLUME, volume)) // len(chunk))
    return _rate(count * len(chunk), _tcp(chunk, count))


def measure_baselines(directory: str, event_size: int, volume: int, repeat: int = 1) -> Baselines:
    """Measure the four baselines for events of ``event_size`` bytes, moving about ``volume``
    bytes (clamped to [32 MiB, 256 MiB]) in a file of ``directory``; each the median of
    ``repeat`` measurements."""
    chunk = os.urandom(_chunk_size(event_size))
    count = max(1, min(MAX_VOLUME, max(MIN_VOLUME, volume)) // len(chunk))
    moved = count * len(chunk)
    runs = max(1, repeat)
    file_runs = [_file_write_read(directory, chunk, count) for _ in range(runs)]
    return Baselines(
        event_size=event_size,
        volume=moved,
        file_write_mb_s=_rate(moved, statistics.median(run[0] for run in file_runs)),
        file_read_mb_s=_rate(moved, statistics.median(run[1] for run in file_runs)),
        tcp_mb_s=_rate(moved, statistics.median(_tcp(chunk, count) for _ in range(runs))),
        memcpy_mb_s=_rate(moved, statistics.median(_memcpy(chunk, count) for _ in range(runs))),
    )
