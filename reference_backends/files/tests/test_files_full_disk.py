"""A disk that fills up under a producer: the flush covering the lost events raises."""

from __future__ import annotations

import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from diaspora_stream.api import Driver, EventsNotStored
from diaspora_stream.api import Exception as DiasporaException

EVENT = 16 * 1024
#: Largest file this process may write while the disk is "full" (a few events' data).
LIMIT = 8 * EVENT


@pytest.fixture
def full_disk_at_limit() -> Iterator[None]:
    """Writes past ``LIMIT`` bytes of any file fail with EFBIG, as on a full disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # Without this, the kernel kills the process at the first write past the limit.
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_flush_raises_for_the_events_a_full_disk_refused(
    tmp_path: Path, full_disk_at_limit: None
) -> None:
    driver = Driver(backend="files", options={"root_path": str(tmp_path / "root")})
    driver.create_topic("t")
    producer = driver.open_topic("t").producer(batch_size=1)
    futures = [producer.push({"i": i}, bytes(EVENT)) for i in range(40)]
    with pytest.raises(EventsNotStored) as raised:
        producer.flush().wait()
    failed = 0
    for future in futures:
        try:
            future.wait()
        except DiasporaException:
            failed += 1
    assert 0 < failed < 40
    assert raised.value.failed == failed
    assert "File too large" in str(raised.value.first_cause)
