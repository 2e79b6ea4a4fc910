"""Rules about names: topic and consumer names are kept exactly as given.

Names that differ only in punctuation, case, Unicode normalisation or path-like characters are
different names. A backend that cannot store a name refuses it with ``Exception``; it never
folds it into another name (two topics sharing storage, two consumers sharing a position).

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from diaspora_stream.api import Driver, Event
from diaspora_stream.api import Exception as DiasporaException

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import assert_no_more_events, consumer_name, push_and_flush, read_all, take
from ..levels import MUST, requires

__all__ = ["NameRules", "NAME_VARIANTS"]

#: Suffixes that a careless backend folds together: punctuation, case, path-like characters,
#: the two Unicode forms of "é" (NFC and NFD), spaces.
NAME_VARIANTS = (
    "run.1",
    "run_1",
    "run-1",
    "run 1",
    "Run.1",
    "RUN.1",
    "run/1",
    "run\\1",
    "run:1",
    "caf\u00e9",
    "cafe\u0301",
    "run.1.",
)


class NameRules(ConformanceBase):
    """Rules about names: topic and consumer names are kept exactly as given."""

    @MUST
    def test_topic_names_differing_only_in_form_are_distinct(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Topic names differing only in form are distinct topics or refused, never folded.

        Topic names that differ only in punctuation, case, Unicode form or path-like
        characters name different topics, or are refused with Exception; never folded.
        """
        base = diaspora_backend.topic_name("names") + "-"
        created: list[str] = []
        refused: dict[str, str] = {}
        for variant in NAME_VARIANTS:
            name = base + variant
            try:
                exists = driver.topic_exists(name)
                assert not exists, (
                    f"topic_exists({name!r}) is True although only {created} were created: "
                    "the backend folds names together"
                )
                driver.create_topic(name, options=dict(diaspora_backend.topic_options))
            except DiasporaException as error:
                refused[name] = str(error)
                continue
            created.append(name)
        assert created, f"every name variant was refused: {refused}"
        for name in created:
            topic = driver.open_topic(name)
            assert topic.name == name
            push_and_flush(topic.producer(), [({"topic": name}, name.encode())])
        listed = driver.list_topics()
        for name in created:
            assert name in listed, f"{name!r} is not listed (listed: {sorted(listed)})"
            (event,) = read_all(driver.open_topic(name), 1)
            assert event.metadata == {"topic": name}, (
                f"topic {name!r} holds the event of topic {event.metadata!r}"
            )
        for name, message in refused.items():
            assert name not in listed, f"{name!r} was refused ({message}) but is listed"

    @MUST
    @requires("acknowledgements")
    def test_consumer_names_differing_only_in_form_keep_their_own_positions(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Consumer names differing only in form keep their own positions, or are refused.

        Consumer names that differ only in punctuation, case, Unicode form or path-like
        characters keep separate acknowledged positions, or are refused with Exception.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        count = len(NAME_VARIANTS) + 3
        push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(count)])
        prefix = consumer_name("names") + "-"
        kept: dict[str, int] = {}
        for position, variant in enumerate(NAME_VARIANTS):
            name = prefix + variant
            try:
                consumer = topic.consumer(name)
                events = take(consumer, position + 1)
                events[-1].acknowledge()
            except DiasporaException:
                continue
            consumer.close()
            kept[name] = position
        assert kept, "every consumer name variant was refused"
        for name, position in kept.items():
            resumed = topic.consumer(name)
            (event,) = take(resumed, 1)
            assert event.event_id == position + 1, (
                f"consumer {name!r} acknowledged event {position} but resumed at event "
                f"{event.event_id}: its position was mixed with another name's"
            )
            resumed.close()

    @MUST
    @requires("acknowledgements")
    def test_one_consumer_name_on_two_topics_keeps_two_positions(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """One consumer name used on two topics keeps an independent position on each."""
        topics = [
            driver.open_topic(diaspora_backend.create_topic(driver)),
            driver.open_topic(diaspora_backend.create_topic(driver)),
        ]
        for topic in topics:
            push_and_flush(topic.producer(), [({"i": i}, b"") for i in range(10)])
        name = consumer_name("two-topics")
        for topic, acknowledged in zip(topics, (6, 2), strict=True):
            consumer = topic.consumer(name)
            events: list[Event] = take(consumer, acknowledged + 1)
            events[-1].acknowledge()
            consumer.close()
        for topic, acknowledged in zip(topics, (6, 2), strict=True):
            resumed = topic.consumer(name)
            ids = [event.event_id for event in take(resumed, 9 - acknowledged)]
            assert ids == list(range(acknowledged + 1, 10)), (
                f"consumer {name!r} acknowledged event {acknowledged} of topic {topic.name!r} "
                f"but resumed with events {ids}"
            )
            assert_no_more_events(resumed)
