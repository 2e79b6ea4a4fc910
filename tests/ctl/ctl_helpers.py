"""Helpers of the diaspora-ctl tests: subprocesses, bounded waits, FIFO I/O, topic reads."""

from __future__ import annotations

import errno
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from diaspora_stream.api import Driver

T = TypeVar("T")

CTL = [sys.executable, "-m", "diaspora_stream.ctl"]
HERE = Path(__file__).resolve().parent


def env_with_tests_path() -> dict[str, str]:
    """The environment, with this directory importable (plugin modules of the tests)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env.pop("NO_COLOR", None)
    return env


def run_ctl(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run ``diaspora-ctl ARGS`` to completion."""
    return subprocess.run(
        [*CTL, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env_with_tests_path(),
        check=False,
    )


_LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[\w+\] ")


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Check exit status 1 and a single ``Error: ...`` line on stderr containing ``fragments``
    (besides the log lines that came before the failure)."""
    lines = [line for line in result.stderr.strip().splitlines() if not _LOG_LINE.match(line)]
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns a true value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    interval = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 2, 0.1)


def is_fifo(path: Path) -> bool:
    """Whether ``path`` exists and is a FIFO."""
    try:
        return path.is_fifo()
    except OSError:
        return False


class Daemon:
    """A ``diaspora-ctl`` daemon in a subprocess (stdout and stderr captured to files)."""

    def __init__(self, args: Sequence[str], log_dir: Path) -> None:
        self.log_path = log_dir / f"daemon-{uuid.uuid4().hex[:8]}.log"
        self._log = open(self.log_path, "w+b")
        self.process = subprocess.Popen(
            [*CTL, *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env_with_tests_path(),
        )

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def log(self) -> str:
        """Everything the daemon printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_log(self, fragment: str, timeout: float = 10.0) -> None:
        """Wait until ``fragment`` appears in the daemon's output."""
        wait_until(lambda: fragment in self.log(), timeout, f"{fragment!r} in the daemon log")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send ``sig`` and return the exit status (killing the process after ``timeout``)."""
        if self.alive():
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"daemon did not exit within {timeout} s:\n{self.log()}") from None
        finally:
            self._log.close()

    def kill(self) -> None:
        """End the process if it still runs (fixture finalizer)."""
        if self.alive():
            self.process.kill()
            self.process.wait(5)
        if not self._log.closed:
            self._log.close()


def write_fifo(path: Path, data: bytes, timeout: float = 10.0) -> None:
    """Open the FIFO ``path`` (waiting for its reader), write ``data``, close it."""

    def try_open() -> int | None:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            if error.errno in (errno.ENXIO, errno.ENOENT):
                return None
            raise

    fd = wait_until(lambda: try_open(), timeout, f"a reader on {path}")
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


class FifoLines:
    """The reading end of a FIFO, collecting ``\\n``-terminated lines."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.buffer = b""
        self.lines: list[bytes] = []

    def _read(self, wait_ms: int) -> None:
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        if not poller.poll(wait_ms):
            return
        try:
            chunk = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        self.lines.extend(complete)

    def wait_lines(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """Read until ``count`` lines arrived in total; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.lines) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(f"got {len(self.lines)} of {count} lines: {self.lines}")
            self._read(50)
        return self.lines

    def close(self) -> None:
        """Close the reading end."""
        os.close(self.fd)


def files_driver(root: Path) -> Driver:
    """A files driver on ``root``."""
    return Driver(backend="files", options={"root_path": str(root)})


def read_events(root: Path, topic: str, wait_ms: int = 50) -> list[Any]:
    """Every event of ``topic`` as ``(partition, id, metadata, data bytes)``, with a throwaway
    consumer that acknowledges nothing."""
    driver = files_driver(root)
    handle = driver.open_topic(topic)
    consumer = handle.consumer(f"test-reader-{uuid.uuid4().hex}")
    events = []
    try:
        while True:
            event = consumer.pull().wait(wait_ms)
            if event is None:
                break
            data = b"".join(bytes(buffer) for buffer in event.data)
            events.append((event.partition_index, event.event_id, event.metadata, data))
    finally:
        consumer.close()
        handle.close()
        driver.close()
    return events


def wait_events(root: Path, topic: str, count: int, timeout: float = 15.0) -> list[Any]:
    """Wait until ``topic`` holds at least ``count`` events; return them."""
    return wait_until(
        lambda: (events := read_events(root, topic)) and len(events) >= count and events,
        timeout,
        f"{count} events in {topic}",
    )


def create_topic(root: Path, name: str, partitions: int = 1) -> None:
    """Create a files topic in-process."""
    driver = files_driver(root)
    driver.create_topic(name, options={"num_partitions": partitions})
    driver.close()


def produce(root: Path, topic: str, events: Sequence[tuple[Any, bytes]]) -> None:
    """Push ``(metadata, data)`` pairs into ``topic`` and wait until they are stored."""
    driver = files_driver(root)
    handle = driver.open_topic(topic)
    producer = handle.producer()
    for metadata, data in events:
        # push() parses str metadata as JSON text: a JSON string value is given as JSON.
        producer.push(json.dumps(metadata) if isinstance(metadata, str) else metadata, data)
    producer.flush().wait()
    producer.close()
    handle.close()
    driver.close()


def terminate(process: subprocess.Popen[Any]) -> None:
    """Kill ``process`` if it still runs."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(5)
