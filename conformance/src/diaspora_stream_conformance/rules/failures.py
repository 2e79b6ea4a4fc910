"""Rules about failures reaching the user: a flush never says "stored" for a lost event.

The suite cannot make an arbitrary backend's storage fail, so it checks the rule from the
side it can reach on every backend: a flush that returns ``True`` means that every event
pushed before it is stored (each push future gives its id and a consumer reads the event);
a flush that covers lost events raises :class:`~diaspora_stream.api.EventsNotStored`, which
fails the test on a healthy run with the count and the cause. How each reference backend
reports real storage faults (a full disk, a server killed, a broker stopped) is tested in its
own repository.
"""

from __future__ import annotations

from diaspora_stream.api import Driver, EventsNotStored, FutureUint
from diaspora_stream.api import Exception as DiasporaException

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import WAIT_MS, data_bytes, read_all
from ..levels import MUST

__all__ = ["FailureRules"]

#: Events pushed (over three partitions, in batches of three).
EVENTS = 30
PARTITIONS = 3


def _failed_pushes(futures: list[FutureUint]) -> list[tuple[int, BaseException]]:
    """The push futures (by push index) that raised, with their errors."""
    failed: list[tuple[int, BaseException]] = []
    for index, future in enumerate(futures):
        try:
            future.wait(WAIT_MS)
        except DiasporaException as error:
            failed.append((index, error))
    return failed


class FailureRules(ConformanceBase):
    """A flush reports the events it could not store."""

    @MUST
    def test_flush_true_means_every_event_before_it_was_stored(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """flush() returns True only when every event pushed before it is stored and readable."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver, PARTITIONS))
        producer = topic.producer(batch_size=3)
        futures = [
            producer.push({"i": i}, b"%d" % i, partition=i % PARTITIONS) for i in range(EVENTS)
        ]
        try:
            flushed = producer.flush().wait(WAIT_MS)
        except EventsNotStored as error:
            failed = _failed_pushes(futures)
            raise AssertionError(
                f"the backend did not store {error.failed} of {EVENTS} events (push futures "
                f"that raised: {len(failed)}); first cause: {error.first_cause}"
            ) from error
        assert flushed is True, f"flush().wait({WAIT_MS}) gave {flushed!r}"
        failed = _failed_pushes(futures)
        assert not failed, (
            f"flush() returned True although {len(failed)} push future(s) raised, e.g. event "
            f"{failed[0][0]}: {failed[0][1]}; a flush covering lost events must raise "
            "EventsNotStored"
        )
        events = read_all(topic, EVENTS)
        stored = sorted((event.metadata["i"], data_bytes(event)) for event in events)
        assert stored == [(i, b"%d" % i) for i in range(EVENTS)], (
            "flush() returned True but a consumer does not read every event pushed before it"
        )
