"""``python -m diaspora_stream.bench.paths``: is any path slower than the straight one?

Measures, on the ``files`` backend, the ratios of issue 17 (items 1 to 3), each between two
sides measured in the same run, sides alternated, median of ``--repeat`` (at least 3) runs,
every run in a fresh Python process (no thread, allocator or page state left by another run).
Each ratio is given per second of wall-clock time (the target) and per second of CPU time of
the process, all threads (what other work on a shared machine does not stretch):

* **pool**: the producer benchmark program (:func:`~diaspora_stream.bench.producer.run_producer`)
  with a 1-thread pool (``-p 1``, its default) over the same with ``-p 0``, and over a plain
  loop of ``push`` on the same events (0-thread pool, one flush at the end); 64 B, 256 B and
  64 B + 1 KiB events, 1 and 4 partitions, batches of 128 events, flush every 1000 events;
* **small data**: the plain ``push`` loop with 64 B metadata + 1 KiB data over 64 B metadata
  alone (events/s), next to the raw file-write baseline of the run (the kernel's copy of the
  data bytes is part of the first side);
* **large data**: a consumer reading all the data of 1 MiB and 64 KiB events, with the default
  allocator and with the consumer benchmark's ``ByteArrayAllocator`` and selector, and with
  ``pull_many`` of 4 MiB of events at a time (at most 64; default allocator), over a raw loop
  of ``os.preadv`` of the same bytes into a fresh ``bytearray`` per event.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..allocators import ByteArrayAllocator, FullDataSelector
from ..api import Driver
from .producer import ProducerSettings, make_metadata, run_producer

__all__ = ["main", "measure"]

POOL_WORKLOADS = [(64, 0), (256, 0), (64, 1024)]  # (metadata bytes, data bytes)
PARTITIONS = [1, 4]
BATCH_SIZE = 128
FLUSH_INTERVAL = 1000
LARGE_SIZES = [1024 * 1024, 64 * 1024]
LARGE_VOLUME = 256 * 1024 * 1024
#: Data bytes per ``pull_many`` call of the large-data consumer (at most 64 events): the
#: application holds a whole batch, so batches of large events are sized in bytes.
PULL_BATCH_BYTES = 4 * 1024 * 1024


def _driver(root: str) -> Driver:
    return Driver(backend="files", options={"root_path": root})


def _data_ring(size: int) -> list[memoryview]:
    if not size:
        return []
    ring = memoryview(os.urandom(size * 256))
    return [ring[i * size : (i + 1) * size] for i in range(256)]


def _program(spec: dict[str, Any]) -> tuple[float, float]:
    """Events/s of the producer benchmark program on a new topic (CPU time: of the whole
    ``run_producer`` call, topic opening and closing included)."""
    driver = _driver(spec["root"])
    settings = ProducerSettings(
        topic=spec["topic"],
        num_events=spec["events"],
        data_size=spec["data"],
        metadata_size=spec["metadata"],
        batch_size=BATCH_SIZE,
        num_threads=spec["threads"],
        flush_interval=FLUSH_INTERVAL,
    )
    try:
        options = {"num_partitions": spec["partitions"]}
        cpu = time.process_time()
        result = run_producer(driver, settings, create_topic=True, topic_options=options)
        cpu = time.process_time() - cpu
        return result.events_per_s, result.total_events / cpu
    finally:
        driver.close()


def _plain_loop(spec: dict[str, Any]) -> tuple[float, float]:
    """Events/s of a plain loop of ``push`` (defaults but the batch size), one flush at the
    end, timed as the program times itself (producer creation to close)."""
    driver = _driver(spec["root"])
    driver.create_topic(spec["topic"], options={"num_partitions": spec["partitions"]})
    topic = driver.open_topic(spec["topic"])
    count = spec["events"]
    metadata = make_metadata(spec["metadata"], 4096)
    views = _data_ring(spec["data"])
    try:
        start, cpu = time.perf_counter(), time.process_time()
        producer = topic.producer("plain", batch_size=BATCH_SIZE)
        push = producer.push
        if views:
            for i in range(count):
                push(metadata[i % 4096], views[i % 256])
        else:
            for i in range(count):
                push(metadata[i % 4096])
        producer.flush().wait(-1)
        producer.close()
        return _rates(count, start, cpu)
    finally:
        topic.close()
        driver.close()


def _consumer(spec: dict[str, Any]) -> tuple[float, float]:
    """MB/s of a consumer reading every byte of the events of ``spec["topic"]``."""
    driver = _driver(spec["root"])
    topic = driver.open_topic(spec["topic"])
    kwargs: dict[str, Any] = {}
    if spec["allocator"] == "bytearray":
        kwargs = {"data_selector": FullDataSelector, "data_allocator": ByteArrayAllocator}
    try:
        consumer = topic.consumer(spec["name"], **kwargs)
        total = 0
        start, cpu = time.perf_counter(), time.process_time()
        if spec.get("batch"):
            total = _pull_many_all(consumer, spec["events"], spec["batch"])
        else:
            pull = consumer.pull
            for _ in range(spec["events"]):
                for buffer in pull().wait(-1).data:
                    total += len(buffer)
        rates = _rates(total / 2**20, start, cpu)
        consumer.close()
    finally:
        topic.close()
        driver.close()
    if total != spec["events"] * spec["size"]:
        raise RuntimeError(f"the consumer read {total} bytes, not {spec['events'] * spec['size']}")
    return rates


def _pull_many_all(consumer: Any, count: int, batch: int) -> int:
    """Take ``count`` events with ``pull_many`` of up to ``batch`` events; their data bytes."""
    total = taken = 0
    while taken < count:
        events = consumer.pull_many(min(batch, count - taken), timeout_ms=10_000)
        if not events:
            raise RuntimeError("the topic has fewer events than expected")
        taken += len(events)
        for event in events:
            for buffer in event.data:
                total += len(buffer)
    return total


def _raw_read(spec: dict[str, Any]) -> tuple[float, float]:
    """MB/s of ``os.preadv`` of the same bytes, one fresh ``bytearray`` per event."""
    size, count = spec["size"], spec["events"]
    fd = os.open(spec["path"], os.O_RDONLY)
    try:
        offset = 0
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            offset += os.preadv(fd, [bytearray(size)], offset)
        rates = _rates(offset / 2**20, start, cpu)
    finally:
        os.close(fd)
    if offset != size * count:
        raise RuntimeError(f"the raw loop read {offset} bytes, not {size * count}")
    return rates


def _file_write(spec: dict[str, Any]) -> tuple[float, float]:
    """MB/s of ``os.write`` of the data bytes of the small-data workload, in 128 KiB chunks."""
    chunk = os.urandom(128 * 1024)
    count = max(1, spec["events"] * spec["size"] // len(chunk))
    path = os.path.join(spec["root"], f"write-baseline-{spec['topic']}")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            os.write(fd, chunk)
        rates = _rates(count * len(chunk) / 2**20, start, cpu)
    finally:
        os.close(fd)
        os.unlink(path)
    return rates


def _rates(amount: float, start: float, cpu: float) -> tuple[float, float]:
    """``amount`` per second of wall-clock time and per second of the process's CPU time since
    ``start`` (``time.perf_counter``) and ``cpu`` (``time.process_time``)."""
    wall = time.perf_counter() - start
    return amount / wall, amount / max(time.process_time() - cpu, 1e-9)


_KINDS: dict[str, Callable[[dict[str, Any]], tuple[float, float]]] = {
    "program": _program,
    "plain": _plain_loop,
    "consumer": _consumer,
    "raw_read": _raw_read,
    "file_write": _file_write,
}


def measure(spec: dict[str, Any]) -> tuple[float, float]:
    """Run one measurement of ``spec["kind"]`` in a fresh Python process; return its rate per
    second of wall-clock time and per second of CPU time (all threads of the process)."""
    result = subprocess.run(
        [sys.executable, "-m", "diaspora_stream.bench.paths", "--measure", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall, cpu = json.loads(result.stdout.strip().splitlines()[-1])
    return float(wall), float(cpu)


Rates = dict[str, list[tuple[float, float]]]  # side -> [(per wall-clock s, per CPU s)]


class _Run:
    """Names new topics and consumers and runs sides alternated, keeping every measurement."""

    def __init__(self, root: str, repeat: int) -> None:
        self.root = root
        self.repeat = repeat
        self._names = 0

    def name(self) -> str:
        self._names += 1
        return f"t{self._names}"

    def sides(self, specs: dict[str, dict[str, Any]], fresh_topic: bool) -> Rates:
        """Measure every side ``repeat`` times, alternating (the first side rotates)."""
        names = list(specs)
        rates: Rates = {name: [] for name in names}
        for turn in range(self.repeat):
            order = names[turn % len(names) :] + names[: turn % len(names)]
            for name in order:
                spec = dict(specs[name], root=self.root, name=self.name())
                if fresh_topic:
                    spec["topic"] = self.name()
                rates[name].append(measure(spec))
        return rates


def _median(rates: Rates, side: str, clock: int = 0) -> float:
    return statistics.median(rate[clock] for rate in rates[side])


def _ratios(rates: Rates, top: str, bottom: str) -> dict[str, float]:
    """``top`` over ``bottom``: medians of the wall-clock rates, and of the CPU-time rates."""
    return {
        clock: _median(rates, top, index) / _median(rates, bottom, index)
        for index, clock in enumerate(("wall", "cpu"))
    }


def _medians(rates: Rates) -> dict[str, float]:
    return {side: _median(rates, side) for side in rates}


def _pool_rows(run: _Run, events: int) -> list[dict[str, Any]]:
    rows = []
    for metadata, data in POOL_WORKLOADS:
        for partitions in PARTITIONS:
            base = {"events": events, "metadata": metadata, "data": data, "partitions": partitions}
            rates = run.sides(
                {
                    "p0": dict(base, kind="program", threads=0),
                    "p1": dict(base, kind="program", threads=1),
                    "plain": dict(base, kind="plain"),
                },
                fresh_topic=True,
            )
            row: dict[str, Any] = {
                "workload": f"{metadata} B" + (f" + {data} B" if data else ""),
                "partitions": partitions,
                "events_per_s": _medians(rates),
                "p1_over_p0": _ratios(rates, "p1", "p0"),
                "program_over_plain": _ratios(rates, "p1", "plain"),
                "p0_program_over_plain": _ratios(rates, "p0", "plain"),
                "runs": rates,
            }
            print(
                f"pool {row['workload']}, {partitions} partition(s): -p 1 / -p 0 "
                f"{_fmt_ratio(row['p1_over_p0'])}, program / plain loop "
                f"{_fmt_ratio(row['program_over_plain'])} ({_fmt(row['events_per_s'])} events/s)",
                flush=True,
            )
            rows.append(row)
    return rows


def _small_data(run: _Run, events: int) -> dict[str, Any]:
    base = {"kind": "plain", "events": events, "metadata": 64, "partitions": 1}
    rates = run.sides(
        {
            "metadata_only": dict(base, data=0),
            "with_1k_data": dict(base, data=1024),
            "file_write_mb_s": {"kind": "file_write", "events": events, "size": 1024},
        },
        fresh_topic=True,
    )
    row: dict[str, Any] = {
        "events_per_s": _medians(rates),
        "ratio": _ratios(rates, "with_1k_data", "metadata_only"),
        "runs": rates,
    }
    print(
        f"small data: 64 B + 1 KiB / 64 B = {_fmt_ratio(row['ratio'])} "
        f"({_fmt(row['events_per_s'])})",
        flush=True,
    )
    return row


def _data_file(root: str, topic: str) -> str:
    """The data file of partition 0 of a files-backend topic (found by name)."""
    for directory, _, files in os.walk(os.path.join(root, topic)):
        if "data" in files:
            return os.path.join(directory, "data")
    raise RuntimeError(f"no data file under {os.path.join(root, topic)}")


def _fill(root: str, topic: str, size: int, count: int) -> None:
    driver = _driver(root)
    driver.create_topic(topic)
    handle = driver.open_topic(topic)
    with handle.producer("fill", batch_size=8) as producer:
        payload = os.urandom(size)
        for i in range(count):
            producer.push({"i": i}, payload)
    handle.close()
    driver.close()


def _pull_batch(size: int) -> int:
    """Events per ``pull_many`` call of ``size``-byte events (see ``PULL_BATCH_BYTES``)."""
    return max(1, min(64, PULL_BATCH_BYTES // size))


def _large_rows(run: _Run, volume: int) -> list[dict[str, Any]]:
    rows = []
    for size in LARGE_SIZES:
        topic = run.name()
        count = max(8, volume // size)
        _fill(run.root, topic, size, count)
        base = {"topic": topic, "events": count, "size": size}
        rates = run.sides(
            {
                "raw": dict(base, kind="raw_read", path=_data_file(run.root, topic)),
                "default": dict(base, kind="consumer", allocator="default"),
                "bytearray": dict(base, kind="consumer", allocator="bytearray"),
                "pull_many": dict(
                    base, kind="consumer", allocator="default", batch=_pull_batch(size)
                ),
            },
            fresh_topic=False,
        )
        row: dict[str, Any] = {
            "size": size,
            "events": count,
            "mb_per_s": _medians(rates),
            "default_over_raw": _ratios(rates, "default", "raw"),
            "bytearray_over_raw": _ratios(rates, "bytearray", "raw"),
            "pull_many_over_raw": _ratios(rates, "pull_many", "raw"),
            "runs": rates,
        }
        print(
            f"large data {size // 1024} KiB: default/raw {_fmt_ratio(row['default_over_raw'])}, "
            f"bytearray/raw {_fmt_ratio(row['bytearray_over_raw'])}, "
            f"pull_many/raw {_fmt_ratio(row['pull_many_over_raw'])} "
            f"({_fmt(row['mb_per_s'])} MB/s)",
            flush=True,
        )
        rows.append(row)
    return rows


def _fmt(rates: dict[str, float]) -> str:
    return ", ".join(f"{name} {rate:,.0f}" for name, rate in rates.items())


def _fmt_ratio(ratio: dict[str, float]) -> str:
    return f"{ratio['wall']:.2f} (CPU time: {ratio['cpu']:.2f})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m diaspora_stream.bench.paths",
        description="Ratios of the producer pool, small-data and large-data consumer paths "
        "to their straight counterparts, on the files backend, in one run.",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per side (default: 3)")
    parser.add_argument(
        "--events", type=int, default=100_000, help="events per producer run (default: 100000)"
    )
    parser.add_argument(
        "--volume-mb", type=int, default=LARGE_VOLUME // 2**20,
        help="MiB read per consumer run (default: 256)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smoke run (small, one run)")
    parser.add_argument(
        "--only", choices=["pool", "small", "large"], action="append", help="run only these"
    )
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # one run, in a child process
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    if args.measure:
        spec = json.loads(args.measure)
        print(json.dumps(list(_KINDS[spec["kind"]](spec))))
        return 0
    repeat, events, volume = args.repeat, args.events, args.volume_mb * 2**20
    if args.quick:
        repeat, events, volume = 1, 2000, 8 * 2**20
    parts = args.only or ["pool", "small", "large"]
    results: dict[str, Any] = {"repeat": repeat, "events": events, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="diaspora-paths-") as root:
        run = _Run(root, repeat)
        if "pool" in parts:
            results["pool"] = _pool_rows(run, events)
        if "small" in parts:
            results["small_data"] = _small_data(run, events)
        if "large" in parts:
            results["large_data"] = _large_rows(run, volume)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(results, stream, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
