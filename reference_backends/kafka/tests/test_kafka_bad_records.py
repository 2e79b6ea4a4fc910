"""A record that is not a Diaspora event costs exactly that record."""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable

import pytest
from diaspora_stream.api import Consumer, Driver
from diaspora_stream.api import Exception as DiasporaException

from diaspora_stream_kafka.testing import octopus_value, produce_raw

#: Offsets 1 and 3 are not events: a value too short for the header, and a value whose header
#: is right but whose metadata is not JSON.
RECORDS = [
    octopus_value({"i": 0}, b"zero"),
    b"plain text",
    octopus_value({"i": 2}, b"two"),
    struct.pack("<QQ", 11, 0) + struct.pack("<Q", 3) + b"{{{",
    octopus_value({"i": 4}, b"four"),
]
EVENTS = [0, 2, 4]


def mixed_topic(driver: Driver, topic_name: Callable[[], str], bootstrap: str) -> str:
    """A topic holding :data:`RECORDS`, written in one go so they are fetched together."""
    name = topic_name()
    driver.create_topic(name)
    produce_raw(bootstrap, name, RECORDS)
    return name


def pull_error(consumer: Consumer) -> DiasporaException:
    with pytest.raises(DiasporaException) as raised:
        consumer.pull().wait(10000)
    return raised.value


def test_the_pull_meeting_a_bad_record_raises_and_every_event_is_delivered(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    name = mixed_topic(driver, topic_name, bootstrap)
    consumer = driver.open_topic(name).consumer("reader")
    outcomes: list[int | DiasporaException] = []
    for _ in RECORDS:
        try:
            event = consumer.pull().wait(10000)
            assert event is not None
            outcomes.append(event.metadata["i"])
            assert event.event_id == event.metadata["i"]
        except DiasporaException as error:
            outcomes.append(error)
    assert [o for o in outcomes if isinstance(o, int)] == EVENTS
    errors = [o for o in outcomes if not isinstance(o, int)]
    assert [outcomes.index(e) for e in errors] == [1, 3], "raised at a record's own turn"
    for error, offset in zip(errors, [1, 3], strict=True):
        message = str(error)
        assert f"Record {offset} of partition 0" in message and name in message
        assert "not a Diaspora event" in message
        assert (error.partition, error.offset) == (0, offset)  # type: ignore[attr-defined]
    assert consumer.pull().wait(300) is None


def test_a_consumer_resumed_by_name_moves_past_an_acknowledged_bad_record(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    topic = driver.open_topic(mixed_topic(driver, topic_name, bootstrap))
    first = topic.consumer("resumer")
    first.pull().wait(10000).acknowledge()
    pull_error(first).acknowledge()  # type: ignore[attr-defined]
    first.close()
    resumed = topic.consumer("resumer")
    event = resumed.pull().wait(10000)
    assert event is not None and event.metadata["i"] == 2


def test_a_consumer_skipping_bad_records_logs_them_and_delivers_every_event(
    driver: Driver,
    topic_name: Callable[[], str],
    bootstrap: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    topic = driver.open_topic(mixed_topic(driver, topic_name, bootstrap))
    consumer = topic.consumer("skipper", options={"skip_bad_records": True})
    with caplog.at_level(logging.WARNING, logger="diaspora_stream.kafka"):
        events = [consumer.pull().wait(10000) for _ in EVENTS]
        assert consumer.pull().wait(300) is None
    assert [event.metadata["i"] for event in events] == EVENTS
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "Record 1 of partition 0" in warnings[0] and "Record 3 of partition 0" in warnings[1]


def test_skip_bad_records_must_be_a_boolean(driver: Driver, topic_name: Callable[[], str]) -> None:
    name = topic_name()
    driver.create_topic(name)
    with pytest.raises(DiasporaException, match="skip_bad_records"):
        driver.open_topic(name).consumer("c", options={"skip_bad_records": "yes"})
