"""What every measurement of the scaling benchmark is given: the backend, the run's directory,
the sizes to measure, and a scratch directory per topic."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ...backend.placeholders import substitute_placeholders

__all__ = ["Settings", "log_to_stderr"]


def log_to_stderr(message: str) -> None:
    """Print a progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Settings:
    """Options of one run of the scaling benchmark."""

    backend: str
    #: Driver options; ``"{tmp}"`` stands for a scratch directory of the measurement.
    options: dict[str, Any]
    #: The run's temporary directory (the working directory of the probe processes).
    workdir: str
    repeat: int = 3
    #: Events per throughput run (shared by the producer processes).
    events: int = 200_000
    partitions: tuple[int, ...] = (1, 4, 16, 64)
    processes: tuple[int, ...] = (1, 2, 4)
    #: Events in the topic when the open and resume latencies are measured.
    latency_sizes: tuple[int, ...] = (10**4, 10**5, 10**6, 10**7)
    #: Events read by the consumer whose peak memory is measured.
    memory_sizes: tuple[int, ...] = (10**4, 10**5, 10**6)
    #: Events per ``push_many`` when filling topics.
    chunk: int = 8192
    log: Callable[[str], None] = field(default=log_to_stderr, compare=False)

    @contextlib.contextmanager
    def scratch(self, label: str) -> Iterator[tuple[dict[str, Any], str]]:
        """The driver options of a new scratch directory (``"{tmp}"``) and a topic name; the
        directory and everything in it are removed at the end."""
        name = f"{label}-{uuid.uuid4().hex[:12]}"
        directory = os.path.join(self.workdir, name)
        os.makedirs(directory)
        try:
            yield substitute_placeholders(self.options, directory), name
        finally:
            shutil.rmtree(directory, ignore_errors=True)
