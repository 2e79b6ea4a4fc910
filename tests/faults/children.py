"""Child processes that a campaign starts, watches line by line and kills at any instant."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WORKERS = str(Path(__file__).with_name("api_workers.py"))


class Child:
    """A running ``api_workers.py`` child whose output lines are collected as they come."""

    def __init__(self, *args: object) -> None:
        self.process = subprocess.Popen(
            [sys.executable, WORKERS, *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            # A line cut by the kill has no newline: it states nothing.
            if line.endswith("\n"):
                with self._changed:
                    self.lines.append(line.rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float = 60.0) -> bool:
        """Wait until ``predicate(lines)`` holds (True) or the child ended or time ran out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    return predicate(self.lines)
                self._changed.wait(min(left, 0.1))
        return True

    def kill(self) -> None:
        """SIGKILL (a no-op once it ended) and reap."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._reader.join(30)

    def finish(self, timeout: float = 120.0) -> int:
        """Wait for the child to end by itself; its exit code (it is killed after ``timeout``)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(30)
        return self.process.returncode

    @property
    def killed(self) -> bool:
        """Whether the child ended by SIGKILL."""
        return self.process.returncode == -signal.SIGKILL

    def stderr_tail(self) -> str:
        """The end of what the child wrote on stderr (once it ended)."""
        assert self.process.stderr is not None
        return self.process.stderr.read()[-2000:]


@contextmanager
def children() -> Iterator[Callable[..., Child]]:
    """``spawn(mode, backend, options, topic, *args)``; every child is killed on exit."""
    started: list[Child] = []

    def spawn(mode: str, backend: str, options: dict[str, Any], topic: str, *args: object) -> Child:
        child = Child(mode, backend, json.dumps(options), topic, *args)
        started.append(child)
        return child

    try:
        yield spawn
    finally:
        for child in started:
            child.kill()


def last_number(lines: list[str], prefix: str) -> int | None:
    """The number of the last line ``PREFIX N``, if any."""
    for line in reversed(lines):
        if line.startswith(prefix + " "):
            return int(line.split()[1])
    return None
