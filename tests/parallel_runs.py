"""What the test processes of one parallel run (pytest-xdist, ``-n``) share, set up by the
controlling process before its workers start:

* one Kafka broker, started by the first worker that needs one
  (:func:`diaspora_stream_kafka.testing.shared_broker`) and stopped here at the end, instead
  of one broker per worker; a broker given by ``$DIASPORA_KAFKA_BOOTSTRAP_SERVERS`` is used
  as is;
* the fault campaigns' base seed, so that every campaign of the run replays from one
  ``DIASPORA_FAULTS_SEED``.

``-n auto`` starts four workers per core (at most 8): most tests wait on timeouts, sockets and
child processes rather than compute (on 2 cores, 8 workers ran the tests in 4 min 50 s, 4 in
5 min 43 s); the tests marked ``slow`` start first (:func:`start_slow_tests_first`).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest

#: Where the controlling process keeps the shared broker's state (environment of the workers).
_SHARED_KAFKA = "DIASPORA_KAFKA_SHARED_STATE_DIR"
_KAFKA_BOOTSTRAP = "DIASPORA_KAFKA_BOOTSTRAP_SERVERS"
_FAULTS_SEED = "DIASPORA_FAULTS_SEED"
_MADE_HERE = pytest.StashKey[Path]()


def _controls_workers(config: pytest.Config) -> bool:
    """Whether this process is the controller of an xdist run (not a worker, not serial)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def auto_workers() -> int:
    """What ``-n auto`` starts: four workers per core, between 2 and 8."""
    return min(8, max(2, 4 * (os.cpu_count() or 1)))


def share(config: pytest.Config) -> None:
    """In the controller of a parallel run: a shared seed and a place for a shared broker."""
    if not _controls_workers(config):
        return
    if not os.environ.get(_FAULTS_SEED):
        os.environ[_FAULTS_SEED] = str(random.SystemRandom().randrange(1 << 32))
    if not os.environ.get(_KAFKA_BOOTSTRAP) and not os.environ.get(_SHARED_KAFKA):
        directory = Path(tempfile.mkdtemp(prefix="diaspora-shared-kafka-"))
        os.environ[_SHARED_KAFKA] = str(directory)
        config.stash[_MADE_HERE] = directory


def release(config: pytest.Config) -> None:
    """In the controller, at the end: stop the shared broker if a worker started one."""
    directory = config.stash.get(_MADE_HERE, None)
    if directory is None:
        return
    os.environ.pop(_SHARED_KAFKA, None)
    try:
        from diaspora_stream_kafka.testing import stop_shared_broker
    except ImportError:  # the kafka backend is not installed: no worker could start a broker
        pass
    else:
        stop_shared_broker(directory)
    shutil.rmtree(directory, ignore_errors=True)


def choose_distribution(config: pytest.Config) -> None:
    """With ``-n``, hand out tests by work stealing unless ``--dist`` says otherwise: the
    durations differ by three orders of magnitude, so fixed chunks would leave a long tail."""
    if getattr(config.option, "numprocesses", None) and config.option.dist == "no":
        config.option.dist = "worksteal"


def start_slow_tests_first(items: list[pytest.Item]) -> None:
    """In a worker of a work-stealing run: put the tests marked ``slow`` at the head of the
    workers' first shares, one worker after the other, so that every long test starts at the
    beginning of the run instead of at its end (where it would be the run's tail).

    The controller hands out the collection in contiguous shares, the ``i``-th of ``remaining
    // (workers - i)`` tests; every worker computes the same order, as xdist requires."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if workers < 2 or not slow:
        return
    rest = [item for item in items if item.get_closest_marker("slow") is None]
    sizes, remaining = [], len(items)
    for index in range(workers):
        size = remaining // (workers - index)
        sizes.append(size)
        remaining -= size
    shares: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for position, item in enumerate(slow):
        shares[position % workers].append(item)
    ordered: list[pytest.Item] = []
    for share, size in zip(shares, sizes, strict=True):
        ordered.extend(share)
        take = max(0, size - len(share))
        ordered.extend(rest[:take])
        del rest[:take]
    ordered.extend(rest)
    items[:] = ordered
